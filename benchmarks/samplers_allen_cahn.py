"""Allen-Cahn (the core issue's setting) with uniform, R3 and causal R3 collocation, same budget.

Every run uses ``pde solve allen_cahn``'s defaults (periodic-embedded 4x64 MLP, hard initial condition,
causal weighting over 32 slices with eps 1 -> 10 -> 100, 6000 points, 6000 Adam steps then 4000 L-BFGS
iterations on the points the sampler holds when Adam ends) and differs only in the interior sampler:
``uniform`` (fixed points, the default), ``r3`` and ``causal_r3`` (population of 6000, updated every step).
Each run goes in its own process so that runs can be spread over cores.

    OMP_NUM_THREADS=1 python benchmarks/samplers_allen_cahn.py --samplers uniform r3 causal_r3 [--compile]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from pde import solve
from problems import AllenCahn
from samplers import R3, CausalR3, Uniform

SAMPLERS = {"uniform": Uniform, "r3": R3, "causal_r3": CausalR3}


def run_one(name: str, steps: int | None, lbfgs_steps: int | None, compile_step: bool, seed: int = 0) -> dict:
    problem = AllenCahn()
    n = problem.default_settings()["n_interior"]
    sampler = SAMPLERS[name](n=n)
    t0 = time.perf_counter()
    run = solve(problem, sampler=sampler, steps=steps, lbfgs_steps=lbfgs_steps, seed=seed, quiet=True,
                compile=compile_step)
    wall = time.perf_counter() - t0
    return {"sampler": name, "rel_l2": float(run.metrics["rel_l2"]), "wall_s": round(wall, 1),
            "steps": run.config["settings"]["steps"], "lbfgs_steps": run.config["settings"]["lbfgs_steps"],
            "n": n, "compile": compile_step, "status": run.status}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=list(SAMPLERS))
    ap.add_argument("--steps", type=int, help="Adam steps (default: the problem's)")
    ap.add_argument("--lbfgs-steps", type=int, help="L-BFGS iterations (default: the problem's)")
    ap.add_argument("--compile", action="store_true", help="compiled training step (Taylor engine)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out = []
    for name in args.samplers:
        r = run_one(name, args.steps, args.lbfgs_steps, args.compile)
        print(json.dumps(r), flush=True)
        out.append(r)
    return out


if __name__ == "__main__":
    main()

"""Inseparable high-dimensional problems of the STDE paper, trained in the paper's setting; reports the error.

Setting (Shi et al., NeurIPS 2024, Appendix I.1, and its reference code): ``u = (1 - |x|^2) MLP(x)`` on the
unit ball, tanh MLP d-128-128-128-1, Adam at 1e-3 decaying linearly to 0, 10,000 steps, 100 collocation
points per step (redrawn every step, uniform direction and uniform radius), sparse STDE with |J| = 16
coordinates per point for the Laplacian; error: relative L2 on the problem's reference points (radius-uniform,
``eval_random_points`` of them). Problems: ``poisson``, ``allen_cahn``, ``sine_gordon`` (two-body by default).

    OMP_NUM_THREADS=1 python benchmarks/stde_inseparable.py --problem allen_cahn --dim 1000 --steps 10000 \
        [--directions 16] [--body 2] [--device cpu|cuda] [--compile] [--quiet]

Prints the progress (unless ``--quiet``) and one JSON line: rel. L2, wall time, steps per second.
"""

from __future__ import annotations

import argparse
import json
import time

from pde import solve
from pde.collocation import RandomSampler
from pde.derivatives import STDE
from pde.models import MLP
from problems import InseparableAllenCahn, InseparablePoisson, InseparableSineGordon

PROBLEMS = {"poisson": InseparablePoisson, "allen_cahn": InseparableAllenCahn, "sine_gordon": InseparableSineGordon}


def run(problem: str, dim: int, steps: int, directions: int = 16, body: int = 2, points: int = 100,
        device: str = "cpu", compile_step: bool = False, seed: int = 0, quiet: bool = False) -> dict:
    prob = PROBLEMS[problem](dim=dim, body=body, seed=seed)
    t0 = time.perf_counter()
    result = solve(prob, model=MLP(width=128, depth=3), sampler=RandomSampler(points, update_every=1),
                   engine=STDE(n_directions=directions, kind="sparse", seed=seed), steps=steps, lbfgs_steps=0,
                   lr=1e-3, lr_schedule="linear", hard=True, device=device, seed=seed, quiet=quiet,
                   log_every=max(1, steps // 10), compile=compile_step)
    wall = time.perf_counter() - t0
    return {"problem": problem, "dim": dim, "body": body, "steps": steps, "directions": directions,
            "points": points, "device": device, "compile": compile_step, "rel_l2": float(result.metrics["rel_l2"]),
            "wall_s": round(wall, 1), "steps_per_s": round(steps / wall, 1), "status": result.status}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", choices=sorted(PROBLEMS), default="allen_cahn")
    ap.add_argument("--dim", type=int, nargs="+", default=[100])
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--directions", type=int, default=16)
    ap.add_argument("--body", type=int, default=2, choices=(2, 3))
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--compile", action="store_true", help="compiled training step")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    out = []
    for d in args.dim:
        r = run(args.problem, d, args.steps, args.directions, args.body, args.points, args.device, args.compile,
                args.seed, args.quiet)
        print(json.dumps(r), flush=True)
        out.append(r)
    return out


if __name__ == "__main__":
    main()

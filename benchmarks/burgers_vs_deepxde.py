"""Burgers (nu = 0.01/pi): pdekit against DeepXDE 1.15 (PyTorch backend) in one run.

DeepXDE runs its canonical example in a child process (3x20 tanh, 2540 + 80 + 160 points,
15000 Adam steps at 1e-3, then L-BFGS). pdekit then runs with its default Burgers settings
(``pde solve burgers``), evaluating its error every ``--every`` steps (evaluation time is not
counted), and reports the wall time at which it first reaches DeepXDE's final error.

    python benchmarks/burgers_vs_deepxde.py [--adam-steps 15000] [--threads 2]

Needs the ``bench`` extra (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch


def run_deepxde(adam_steps: int, threads: int) -> dict:
    env = dict(os.environ, DDE_BACKEND="pytorch", OMP_NUM_THREADS=str(threads))
    script = Path(__file__).with_name("_deepxde_burgers.py")
    proc = subprocess.run([sys.executable, str(script), str(adam_steps)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"DeepXDE run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_pdekit(target: float, every: int, seed: int = 0) -> dict:
    from pde.collocation import RandomSampler
    from pde.solve import _make_engine, _make_model, _settings, evaluate
    from pde.training import Trainer
    from problems import Burgers

    problem = Burgers()
    settings, n_interior = _settings(problem, {"checkpoint_every": every})
    torch.manual_seed(seed)
    model = _make_model(None, problem, None)
    engine = _make_engine(problem.default_settings().get("engine", "autograd"))
    trace, state = [], {"eval": 0.0, "hit": None}
    t0 = time.perf_counter()

    def check(tr):
        e0 = time.perf_counter()
        err = evaluate(problem, tr.model)[1]["rel_l2"]
        spent = time.perf_counter() - e0
        now = e0 - t0 - state["eval"]
        state["eval"] += spent
        trace.append((tr.step, now, err))
        if state["hit"] is None and err <= target:
            state["hit"] = (tr.step, now, err)

    tr = Trainer(problem, model, RandomSampler(n_interior), engine, settings, device="cpu", dtype=torch.float32,
                 seed=seed, quiet=True, on_checkpoint=check)
    tr.run()
    check(tr)
    total = time.perf_counter() - t0 - state["eval"]
    adam_rows = [r for r in trace if r[0] <= settings.steps]
    return {"total_s": total, "rel_l2": trace[-1][2], "adam_steps": settings.steps,
            "lbfgs_steps": settings.lbfgs_steps, "time_to_target_s": state["hit"][1] if state["hit"] else None,
            "step_at_target": state["hit"][0] if state["hit"] else None,
            "ms_per_adam_step": 1000 * adam_rows[-1][1] / adam_rows[-1][0] if adam_rows else None,
            "trace": trace}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adam-steps", type=int, default=15000, help="DeepXDE Adam steps (canonical: 15000)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--every", type=int, default=250, help="pdekit error check interval (steps)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dx = run_deepxde(args.adam_steps, args.threads)
    print(f"DeepXDE: rel L2 {dx['rel_l2']:.3e} (after Adam {dx['rel_l2_after_adam']:.3e}); Adam {dx['adam_s']:.1f} s "
          f"({dx['ms_per_adam_step']:.2f} ms/step), L-BFGS {dx['lbfgs_s']:.1f} s, total {dx['total_s']:.1f} s")
    pk = run_pdekit(dx["rel_l2"], args.every)
    print(f"pdekit:  rel L2 {pk['rel_l2']:.3e}; total {pk['total_s']:.1f} s ({pk['adam_steps']} Adam + "
          f"{pk['lbfgs_steps']} L-BFGS), {pk['ms_per_adam_step']:.2f} ms/Adam step")
    if pk["time_to_target_s"] is None:
        print(f"pdekit did NOT reach DeepXDE's error {dx['rel_l2']:.3e}")
    else:
        ratio = pk["time_to_target_s"] / dx["total_s"]
        print(f"pdekit reached DeepXDE's final error {dx['rel_l2']:.3e} at step {pk['step_at_target']} after "
              f"{pk['time_to_target_s']:.1f} s: {ratio:.2f} x DeepXDE's wall time ({1 / ratio:.1f}x faster)")
    print(json.dumps({"deepxde": dx, "pdekit": {k: v for k, v in pk.items() if k != "trace"}}))


if __name__ == "__main__":
    main()

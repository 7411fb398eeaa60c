"""Training-step speed: DeepXDE 1.15 and pdekit on the same Burgers problem, net and points, in one run.

Setup (DeepXDE's canonical Burgers example, mirrored by pdekit): nu = 0.01/pi, 3x20 tanh MLP,
2540 interior + 80 boundary + 160 initial points (fixed), soft boundary and initial losses with
weight 1, 15000 Adam steps at lr 1e-3 (constant), then L-BFGS (strong Wolfe, history 100, at
most 15000 iterations). DeepXDE runs in a child process; pdekit runs in eager mode (nested
autograd) and compiled (``compile=True``: torch.compile of loss + backward with the Taylor
engine, fused Adam). ``defaults`` / ``defaults-compiled`` are pdekit's own Burgers setup (``pde solve burgers
[--compile]``: hard constraints, 4x32 net, 4000 points, 3000 Adam + 4000 L-BFGS), for the time to
DeepXDE's final error. pdekit's error is evaluated every ``--every`` steps (not counted in the
times) to find when it first reaches DeepXDE's final error.

    python benchmarks/step_speed.py [--device cpu|cuda] [--adam-steps 15000] [--lbfgs-steps 15000] [--threads 2]
                                    [--variants eager,compiled,defaults-compiled] [--skip-deepxde]

Prints ms per Adam step, L-BFGS time, final error, time to DeepXDE's error and the ratios,
then one JSON line. Needs the ``bench`` extra (``pip install -e ".[bench]"``) for DeepXDE.
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

VARIANTS = {"eager": {"compile": False, "engine": "autograd", "setup": "canonical"},
            "eager-taylor": {"compile": False, "engine": "taylor", "setup": "canonical"},
            "compiled": {"compile": "default", "engine": "taylor", "setup": "canonical"},
            "compiled-graphs": {"compile": "reduce-overhead", "engine": "taylor", "setup": "canonical"},
            # pdekit's own Burgers defaults (`pde solve burgers [--compile]`): hard constraints, 4x32, 4000 points
            "defaults": {"compile": False, "engine": "autograd", "setup": "defaults"},
            "defaults-compiled": {"compile": "default", "engine": "taylor", "setup": "defaults"}}


def run_deepxde(adam_steps: int, lbfgs_steps: int, threads: int, device: str) -> dict:
    env = dict(os.environ, DDE_BACKEND="pytorch", OMP_NUM_THREADS=str(threads))
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    script = Path(__file__).with_name("_deepxde_burgers.py")
    proc = subprocess.run([sys.executable, str(script), str(adam_steps), str(lbfgs_steps)], capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"DeepXDE run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_pdekit(variant: str, adam_steps: int, lbfgs_steps: int, device: str, target: float | None, every: int,
               seed: int = 0) -> dict:
    from pde.collocation import RandomSampler
    from pde.models import MLP
    from pde.solve import _make_engine, _make_model, _settings, evaluate
    from pde.training import Trainer
    from problems import Burgers

    v = VARIANTS[variant]
    dev = torch.device(device)
    problem = Burgers()
    common = {"log_every": every, "checkpoint_every": every, "history_every": every, "compile": v["compile"]}
    if v["setup"] == "canonical":
        settings, n_interior = _settings(problem, {
            "hard": False, "steps": adam_steps, "lr": 1e-3, "lr_schedule": "constant", "lbfgs_steps": lbfgs_steps,
            "lbfgs_history": 100, "n_boundary": 80, "n_initial": 160, "n_interior": 2540, **common})
        torch.manual_seed(seed)
        model = _make_model(MLP(width=20, depth=3), problem, False).to(dev)
    else:
        settings, n_interior = _settings(problem, common)
        adam_steps = settings.steps
        torch.manual_seed(seed)
        model = _make_model(None, problem, None).to(dev)
    trace, state = [], {"eval": 0.0, "hit": None, "first": None}
    t0 = time.perf_counter()

    def check(tr):
        _sync(dev)
        e0 = time.perf_counter()
        if state["first"] is None:
            state["first"] = e0 - t0
        err = evaluate(problem, tr.model)[1]["rel_l2"]
        spent = time.perf_counter() - e0
        now = e0 - t0 - state["eval"]
        state["eval"] += spent
        trace.append((tr.step, now, err))
        if target is not None and state["hit"] is None and err <= target:
            state["hit"] = (tr.step, now, err)

    tr = Trainer(problem, model, RandomSampler(n_interior), _make_engine(v["engine"]), settings, device=dev,
                 dtype=torch.float32, seed=seed, quiet=True, on_checkpoint=check)
    tr.run()
    check(tr)
    total = time.perf_counter() - t0 - state["eval"]
    adam = [r for r in trace if r[0] <= adam_steps]
    # steady-state Adam speed: from the first checkpoint (compilation and warm-up behind) to the end of Adam
    (s0, w0, _), (s1, w1, _) = adam[0], adam[-1]
    ms = 1000 * (w1 - w0) / (s1 - s0) if s1 > s0 else float("nan")
    return {"variant": variant, **v, "device": str(dev), "total_s": total, "adam_s": w1, "lbfgs_s": total - w1,
            "warmup_s": state["first"] - 1e-3 * ms * s0 if s0 else 0.0,
            "ms_per_adam_step": ms, "rel_l2": trace[-1][2], "rel_l2_after_adam": adam[-1][2],
            "lbfgs_iterations": tr.step - adam_steps, "time_to_target_s": state["hit"][1] if state["hit"] else None,
            "step_at_target": state["hit"][0] if state["hit"] else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", help="cpu or cuda (both libraries run there)")
    ap.add_argument("--adam-steps", type=int, default=15000)
    ap.add_argument("--lbfgs-steps", type=int, default=15000, help="L-BFGS iteration cap (DeepXDE's default)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--every", type=int, default=500, help="pdekit error check interval (steps)")
    ap.add_argument("--variants", default="eager,compiled,defaults-compiled",
                    help=f"pdekit variants: {', '.join(VARIANTS)}")
    ap.add_argument("--skip-deepxde", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant(s) {bad}; allowed: {', '.join(VARIANTS)}")
    dx = None
    if not args.skip_deepxde:
        dx = run_deepxde(args.adam_steps, args.lbfgs_steps, args.threads, args.device)
        print(f"DeepXDE: rel L2 {dx['rel_l2']:.3e} (after Adam {dx['rel_l2_after_adam']:.3e}); "
              f"Adam {dx['adam_s']:.1f} s "
              f"({dx['ms_per_adam_step']:.2f} ms/step), L-BFGS {dx['lbfgs_s']:.1f} s, total {dx['total_s']:.1f} s",
              flush=True)
    results = []
    for v in variants:
        pk = run_pdekit(v, args.adam_steps, args.lbfgs_steps, args.device, dx["rel_l2"] if dx else None, args.every)
        results.append(pk)
        line = (f"pdekit {v:<15} rel L2 {pk['rel_l2']:.3e} (after Adam {pk['rel_l2_after_adam']:.3e}); "
                f"{pk['ms_per_adam_step']:.2f} ms/Adam step, warm-up {pk['warmup_s']:.1f} s, "
                f"Adam {pk['adam_s']:.1f} s, "
                f"L-BFGS {pk['lbfgs_s']:.1f} s ({pk['lbfgs_iterations']} it), total {pk['total_s']:.1f} s")
        if dx:
            line += f"; per-step speed-up {dx['ms_per_adam_step'] / pk['ms_per_adam_step']:.2f}x"
            if pk["time_to_target_s"] is None:
                line += f"; did NOT reach DeepXDE's error {dx['rel_l2']:.3e}"
            else:
                line += (f"; reached DeepXDE's error at step {pk['step_at_target']} after "
                         f"{pk['time_to_target_s']:.1f} s = "
                         f"{pk['time_to_target_s'] / dx['total_s']:.2f}x DeepXDE's time")
        print(line, flush=True)
    print(json.dumps({"device": args.device, "threads": args.threads, "deepxde": dx, "pdekit": results}))


if __name__ == "__main__":
    main()

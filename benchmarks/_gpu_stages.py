"""Stages of ``benchmarks/gpu_check.py`` that no other benchmark script covers; one JSON line per result.

    python benchmarks/_gpu_stages.py lbfgs --device cuda [--adam-steps 300] [--lbfgs-steps 300]
    python benchmarks/_gpu_stages.py sync-pairs --device cuda [--steps 6] [--engines ...] [--samplers ...]

``lbfgs``: Burgers (pdekit's defaults), the same Adam phase, then L-BFGS with torch's strong-Wolfe
line search and with :class:`~pde.training.lbfgs.DeviceLBFGS` (``lbfgs_line_search="device"``);
reports wall time of the whole solve, the trainer's time and the final relative L2 error of each.

``sync-pairs``: every registered engine x sampler pair (sampler with ``n=512, update_every=2``, so its
update runs inside the loop) trains ``--steps`` Adam steps with
``log_every = history_every = steps`` (one log step, the last) under
``torch.cuda.set_sync_debug_mode("warn")``, every warning recorded with its Python stack. A sync is
attributed to the step the trainer is in (``self.step`` of the innermost frame whose ``self`` has
``step`` and ``settings``): syncs at step 0 (setup, first step, one-time constants) and at the last
step (the log step, evaluation) are allowed; one at any step in between is what
``set_sync_debug_mode("error")`` would raise on inside the loop, and fails the pair. (Warn mode and
attribution rather than error mode, so the legitimate log-step reads do not end the run.) Each pair's
result is printed as soon as it is known, so a stage killed by its time limit keeps what it has.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import warnings

import torch


def _solve(**kw):
    from pde import solve

    return solve(**kw)


def lbfgs(args) -> None:
    for search in ("strong_wolfe", "device"):
        t0 = time.perf_counter()
        try:
            run = _solve(problem="burgers", steps=args.adam_steps, lbfgs_steps=args.lbfgs_steps, device=args.device,
                         quiet=True, lbfgs_line_search=search, seed=0)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            wall = time.perf_counter() - t0
            hist = run.history
            steps = [int(s) for s in hist.get("step", [])]
            times = [float(w) for w in hist.get("wall_time", [])]
            adam_end = max((w for s, w in zip(steps, times) if s <= args.adam_steps), default=None)
            lbfgs_s = (run.wall_time - adam_end) if adam_end is not None else None
            out = {"stage": "lbfgs", "line_search": search, "wall_s": round(wall, 2),
                   "train_s": round(run.wall_time, 2), "lbfgs_phase_s": None if lbfgs_s is None else round(lbfgs_s, 2),
                   "lbfgs_iterations": (steps[-1] - args.adam_steps) if steps else None,
                   "rel_l2": float(run.metrics["rel_l2"]) if run.metrics else None, "status": run.status}
        except Exception as e:  # report and go on: the other line search still runs
            out = {"stage": "lbfgs", "line_search": search, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


def _trainer_step() -> int | None:
    """``self.step`` of the innermost frame that belongs to a trainer (None outside training)."""
    f = sys._getframe(1)
    while f is not None:
        obj = f.f_locals.get("self")
        if obj is not None and hasattr(obj, "step") and hasattr(obj, "settings"):
            try:
                return int(obj.step)
            except (TypeError, ValueError):
                return None
        f = f.f_back
    return None


def _one_pair(engine: str, sampler: str, problem: str, steps: int, device: str) -> dict:
    from pde import registry

    syncs: list[dict] = []
    old_show = warnings.showwarning

    def record(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if "synchroniz" not in text:
            return old_show(message, category, filename, lineno, file, line)
        stack = [f"{fr.filename.rsplit('/', 2)[-1]}:{fr.lineno} {fr.name}" for fr in traceback.extract_stack()[:-1]
                 if "/warnings.py" not in fr.filename][-6:]
        syncs.append({"step": _trainer_step(), "where": f"{filename}:{lineno}", "stack": stack})

    # update_every=2: the sampler's update (resample, RAD draw, R3 release, AAS flow fit) runs inside the loop
    samp = registry.lookup("sampler", sampler)(n=512, update_every=2)
    t0 = time.perf_counter()
    error = None
    warnings.showwarning = record
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = record
            torch.cuda.set_sync_debug_mode("warn")
            try:
                _solve(problem=problem, sampler=samp, engine=engine, steps=steps, lbfgs_steps=0, device=device,
                       quiet=True, log_every=steps, history_every=steps, seed=0)
            finally:
                torch.cuda.set_sync_debug_mode("default")
    except Exception as e:
        error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    finally:
        warnings.showwarning = old_show
    inloop = [s for s in syncs if s["step"] is not None and 0 < s["step"] < steps]
    sites = {}
    for s in inloop:
        sites.setdefault(s["where"], {"count": 0, "steps": [], "stack": s["stack"]})
        sites[s["where"]]["count"] += 1
        if len(sites[s["where"]]["steps"]) < 5:
            sites[s["where"]]["steps"].append(s["step"])
    return {"stage": "sync-pairs", "engine": engine, "sampler": sampler, "problem": problem, "steps": steps,
            "ok": error is None and not inloop, "error": error, "syncs_total": len(syncs),
            "syncs_in_loop": len(inloop), "in_loop_sites": sites, "seconds": round(time.perf_counter() - t0, 2)}


def sync_pairs(args) -> None:
    from pde import registry

    engines = args.engines or list(registry.engines())
    samplers = args.samplers or list(registry.samplers())
    for eng in engines:
        for samp in samplers:
            try:
                out = _one_pair(eng, samp, args.problem, args.steps, args.device)
            except Exception as e:  # a sampler that cannot be built: report it, go on
                out = {"stage": "sync-pairs", "engine": eng, "sampler": samp, "ok": False,
                       "error": f"{type(e).__name__}: {e}"}
            print(json.dumps(out), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="stage", required=True)
    a = sub.add_parser("lbfgs", help="DeviceLBFGS against torch's strong-Wolfe L-BFGS on Burgers")
    a.add_argument("--device", default="cuda")
    a.add_argument("--adam-steps", type=int, default=300)
    a.add_argument("--lbfgs-steps", type=int, default=300)
    b = sub.add_parser("sync-pairs", help="every engine x sampler pair, host synchronisations inside the loop")
    b.add_argument("--device", default="cuda")
    b.add_argument("--steps", type=int, default=6)
    b.add_argument("--problem", default="burgers")
    b.add_argument("--engines", nargs="*", default=None)
    b.add_argument("--samplers", nargs="*", default=None)
    args = ap.parse_args(argv)
    if not args.device.startswith("cuda") or not torch.cuda.is_available():
        print(json.dumps({"stage": args.stage, "skipped": "no CUDA device"}))
        return 0
    {"lbfgs": lbfgs, "sync-pairs": sync_pairs}[args.stage](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

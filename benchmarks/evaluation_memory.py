"""Peak process memory of a high-dimensional problem's evaluation, against its training peak.

    OMP_NUM_THREADS=1 python benchmarks/evaluation_memory.py --d 4000                # the reference alone
    OMP_NUM_THREADS=1 python benchmarks/evaluation_memory.py --d 10000 --solve 100   # training, then evaluation

Without ``--solve``: builds ``InseparablePoisson(d).reference()`` (10,000 evaluation points in the unit ball and
the exact solution in float64) and prints its time and the process's peak resident set size (``ru_maxrss``, GB).
With ``--solve K``: ``pde.solve`` with the STDE engine for K Adam steps; prints the peak at the end of training
(read by a callback at the last step) and at the end of the run (after the reference, the prediction and the
metrics): equal peaks mean the evaluation never rose above training. Run it with ``PYTHONPATH`` pointing at
another checkout to compare versions in the same way.
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import time


def _peak_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 3)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=4000, help="dimension (default 4000)")
    ap.add_argument("--solve", type=int, default=0, help="train this many Adam steps first (0: reference only)")
    args = ap.parse_args(argv)
    from problems.highdim import InseparablePoisson

    key = "d" if "d" in inspect.signature(InseparablePoisson).parameters else "dim"  # older checkouts: dim
    problem = InseparablePoisson(**{key: args.d})
    t0 = time.perf_counter()
    if not args.solve:
        problem.reference()
        out = {"d": args.d, "reference_s": round(time.perf_counter() - t0, 2), "peak_rss_gb": _peak_gb()}
    else:
        from pde import solve

        seen = {}

        def at_end(trainer):
            if trainer.step >= args.solve:
                seen["train_peak_gb"], seen["train_s"] = _peak_gb(), round(time.perf_counter() - t0, 2)

        run = solve(problem, engine="stde", steps=args.solve, lbfgs_steps=0, quiet=True, device="cpu",
                    callbacks=[at_end], log_every=args.solve)
        out = {"d": args.d, "steps": args.solve, **seen, "run_s": round(time.perf_counter() - t0, 2),
               "run_peak_gb": _peak_gb(), "rel_l2": run.metrics.get("rel_l2")}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

"""Peak process memory of building a high-dimensional problem's evaluation reference.

    OMP_NUM_THREADS=1 python benchmarks/evaluation_memory.py --d 4000

Builds ``InseparablePoisson(d).reference()`` (10,000 points in the unit ball and the exact solution in float64)
and prints its time and the process's peak resident set size (``ru_maxrss``, GB). Run it with ``PYTHONPATH``
pointing at another checkout to compare versions in the same way.
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import time


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=4000, help="dimension (default 4000)")
    args = ap.parse_args(argv)
    from problems.highdim import InseparablePoisson

    key = "d" if "d" in inspect.signature(InseparablePoisson).parameters else "dim"  # older checkouts: dim
    problem = InseparablePoisson(**{key: args.d})
    t0 = time.perf_counter()
    problem.reference()
    out = {"d": args.d, "reference_s": round(time.perf_counter() - t0, 2),
           "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 3)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

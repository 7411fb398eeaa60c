"""Run-file overhead: the share of training wall time spent writing the HDF5 run file.

Trains a registered problem with the default checkpoint interval (``checkpoint_every``
from :class:`pde.training.Settings`, 1000 steps) and an output file, timing every
``pde.store.write_run`` call (history, checkpoints with optimizer/sampler/RNG state,
snapshots and the final solution). Reports

* ``store_share``: time inside ``write_run`` / training wall time (the target is < 5%);
* ``wall_ratio``: wall time with the run file / wall time of the same run without one
  (noisy on a shared machine; informational).

Run: ``python benchmarks/store_overhead.py [--problem heat] [--steps 3000] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def measure(problem: str, steps: int, device: str, seed: int = 0) -> dict:
    import pde.store
    from pde import registry
    from pde.solve import solve
    from pde.training import Settings

    cls = registry.lookup("problem", problem)
    calls: list[float] = []
    real = pde.store.write_run

    def timed(path, state, **kw):
        t = time.perf_counter()
        out = real(path, state, **kw)
        calls.append(time.perf_counter() - t)
        return out

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.h5"
        t0 = time.perf_counter()
        pde.store.write_run = timed
        try:
            run = solve(cls(), steps=steps, lbfgs_steps=0, device=device, seed=seed, out=str(out), quiet=True)
        finally:
            pde.store.write_run = real
        with_file = time.perf_counter() - t0
        size = out.stat().st_size
    t0 = time.perf_counter()
    solve(cls(), steps=steps, lbfgs_steps=0, device=device, seed=seed, out=None, quiet=True)
    without = time.perf_counter() - t0
    store = sum(calls)
    return {"problem": problem, "steps": steps, "device": device, "checkpoint_every": Settings().checkpoint_every,
            "writes": len(calls), "store_s": round(store, 4), "mean_write_ms": round(1e3 * store / len(calls), 2),
            "train_wall_s": round(run.wall_time, 2), "wall_with_file_s": round(with_file, 2),
            "wall_without_file_s": round(without, 2), "file_mb": round(size / 2 ** 20, 3),
            "store_share": round(store / with_file, 5), "wall_ratio": round(with_file / without, 4)}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", default="heat")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    res = measure(args.problem, args.steps, args.device)
    print(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()

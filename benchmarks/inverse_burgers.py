"""Burgers identification (Raissi, Perdikaris & Karniadakis 2019, section 4.1.1): l1, l2 from N = 2000 values.

    u_t + l1 u u_x - l2 u_xx = 0,  true l1 = 1, l2 = 0.01 / pi; data: N points drawn (with the run's seed) from
    the exact Cole-Hopf solution on the 256 x 100 grid, optional relative Gaussian noise; no IC or BC.

The paper (8 x 20 tanh network, L-BFGS) reports for N = 2000 the errors of l1 / l2: clean 0.096 % / 0.469 %,
1 % noise 0.039 % / 0.008 %, 5 % 0.190 % / 6.216 %, 10 % 0.101 % / 6.391 % (one draw each). This script runs
``examples/inverse_burgers.py`` for each seed and noise level and prints one JSON line per run:

    OMP_NUM_THREADS=1 python benchmarks/inverse_burgers.py --seeds 0 1 2 --noise 0 0.01 --out runs/
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "inverse_burgers.py"


def _example():
    spec = importlib.util.spec_from_file_location("inverse_burgers", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--noise", type=float, nargs="+", default=[0.0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--steps", type=int, default=2000, help="Adam steps before L-BFGS")
    p.add_argument("--lbfgs-steps", type=int, default=10_000)
    p.add_argument("--out", default="runs")
    p.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    ex = _example()
    Path(a.out).mkdir(parents=True, exist_ok=True)
    rows = []
    for noise in a.noise:
        for seed in a.seeds:
            run = ex.main(a.steps, a.lbfgs_steps, n=a.n, noise=noise, seed=seed, quiet=True, device=a.device,
                          out=str(Path(a.out) / f"inverse_burgers_n{a.n}_noise{noise:g}_seed{seed}.h5"))
            m = run.metrics
            row = {"noise": noise, "seed": seed, "n": a.n, "l1": run.unknowns["l1"], "l2": run.unknowns["l2"],
                   "l1_error_pct": 100 * m["param/l1/rel_error"], "l2_error_pct": 100 * m["param/l2/rel_error"],
                   "u_rel_l2": m["rel_l2"], "wall_s": run.wall_time, "steps": run.step, "status": run.status}
            rows.append(row)
            print(json.dumps(row), flush=True)
    for noise in a.noise:
        sel = [r for r in rows if r["noise"] == noise]
        print(json.dumps({"noise": noise, "seeds": len(sel),
                          "median_l1_error_pct": statistics.median(r["l1_error_pct"] for r in sel),
                          "median_l2_error_pct": statistics.median(r["l2_error_pct"] for r in sel)}), flush=True)


if __name__ == "__main__":
    main()

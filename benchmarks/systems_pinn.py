"""One PINN run per issue-16 problem (plate with holes, Kovasznay, lid-driven cavity, Gray-Scott); prints JSON lines.

Usage: python benchmarks/systems_pinn.py PROBLEM [ADAM_STEPS [LBFGS_STEPS]]
(default: the problem's own settings). Reports pooled and per-field rel. L2 and the CPU wall time.
"""

import json
import sys
import time

from pde import solve
from problems import REGISTRY


def main(name: str, steps=None, lbfgs_steps=None):
    prob = REGISTRY[name]()
    t = time.perf_counter()
    run = solve(prob, steps=steps, lbfgs_steps=lbfgs_steps, device="cpu", quiet=True, seed=0,
                out=f"runs/bench-{name}.h5")
    out = {"problem": name, "steps": steps, "lbfgs_steps": lbfgs_steps, "wall_s": round(time.perf_counter() - t, 1),
           "status": run.status, **{k: float(f"{v:.4g}") for k, v in run.metrics.items() if "rel_l2" in k}}
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], int(a[1]) if len(a) > 1 else None, int(a[2]) if len(a) > 2 else None)

"""A sharp-peak 2-D Poisson problem solved with adversarial adaptive sampling (AAS); prints the error.

    python examples/sampler_aas_peak.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from samplers_aas import PeakPoisson  # noqa: E402

from pde import solve  # noqa: E402
from pde.models import MLP  # noqa: E402
from samplers import AAS  # noqa: E402


def main(steps: int = 3000, out: str | None = "peak_aas.h5"):
    sampler = AAS(n=1000, update_every=100, flow_steps=50, flow_lr=5e-3, beta=1e-3)
    run = solve(PeakPoisson(d=2, a=1000.0), model=MLP(width=64, depth=4), sampler=sampler, steps=steps,
                lbfgs_steps=0, n_boundary=400, out=out, quiet=True)
    print(f"AAS, 2-D peak Poisson, {steps} steps: relative L2 = {run.metrics['rel_l2']:.3e}")
    return run


if __name__ == "__main__":
    main()

"""Convection (beta = 30) solved with R3 collocation sampling; prints the relative L2 error.

    python examples/sampler_r3_convection.py
"""

from pde import solve
from pde.models import MLP
from problems import Convection
from samplers import R3


def main(steps: int = 5000, out: str | None = "convection_r3.h5"):
    run = solve(Convection(beta=30.0), model=MLP(width=50, depth=4), sampler=R3(n=1000), steps=steps,
                lbfgs_steps=0, hard=False, weights={"ic": 100.0, "periodic_x": 100.0}, out=out, quiet=True)
    print(f"R3, convection beta=30, {steps} steps: relative L2 = {run.metrics['rel_l2']:.3e}")
    return run


if __name__ == "__main__":
    main()

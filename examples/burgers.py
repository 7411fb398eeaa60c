"""Solve the viscous Burgers equation with a PINN and compare with the exact (Cole-Hopf) solution.

    python examples/burgers.py            # pdekit's default settings for Burgers
"""

from pde import solve
from problems import Burgers


def main(steps: int | None = None, lbfgs_steps: int | None = None, out: str = "burgers.h5", quiet: bool = False):
    run = solve(Burgers(), steps=steps, lbfgs_steps=lbfgs_steps, out=out, quiet=quiet)
    print(f"Burgers: relative L2 error {run.metrics['rel_l2']:.3e} after {run.wall_time:.1f} s ({run.status})")
    return run


if __name__ == "__main__":
    main()

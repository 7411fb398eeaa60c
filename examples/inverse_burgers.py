"""Identify the two coefficients of Burgers' equation from scattered data (Raissi, Perdikaris & Karniadakis 2019).

    u_t + l1 u u_x - l2 u_xx = 0,   x in [-1, 1], t in [0, 0.99],   true l1 = 1, l2 = 0.01 / pi,

from N = 2000 values of u drawn at random (with the run's seed) from the exact Cole-Hopf solution on the
256 x 100 grid of the paper's data; no initial or boundary condition is given. l1 starts at 0, l2 at
exp(-6) and is learned in log space (as in the paper). The network is the paper's 8 x 20 tanh MLP.

    python examples/inverse_burgers.py               # clean data
    python examples/inverse_burgers.py --noise 0.01  # 1 % noise
"""

import argparse
import math
from dataclasses import dataclass

from pde import MLP, AbstractProblem, Interval, SpaceTime, TimeInterval, solve
from pde.observations import Observation
from pde.unknowns import Unknown

L1, L2 = 1.0, 0.01 / math.pi


@dataclass
class BurgersIdentification(AbstractProblem):
    """``u_t + l1 u u_x - l2 u_xx = 0`` with ``l1``, ``l2`` unknown; reference: the Cole-Hopf solution at the
    true values on the 256 x 100 grid (:class:`problems.Burgers`)."""

    name = "burgers_identification"
    l1: float | Unknown = Unknown(init=0.0, true=L1)
    l2: float | Unknown = Unknown(init=math.exp(-6.0), positive=True, transform="exp", true=L2)

    @property
    def domain(self):
        return SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 0.99))

    def residual(self, d):
        return d("u", "t") + self.l1 * d["u"] * d("u", "x") - self.l2 * d("u", "x", "x")

    def reference(self):
        from problems import Burgers

        return Burgers(nu=L2).reference()


def observations(n: int = 2000, noise: float = 0.0) -> Observation:
    """``n`` of the 25,600 grid values of the exact solution (drawn with the run's seed), relative noise ``noise``."""
    ref = BurgersIdentification().reference()
    return Observation(ref.points, ref.values, subset=n, noise=noise)


def main(steps: int = 2000, lbfgs_steps: int = 10_000, n: int = 2000, noise: float = 0.0, seed: int = 0,
         out: str = "inverse_burgers.h5", quiet: bool = False, device: str = "cpu"):
    run = solve(BurgersIdentification(), MLP(width=20, depth=8), data=observations(n, noise), steps=steps,
                lbfgs_steps=lbfgs_steps, lr=1e-3, n_interior=n, seed=seed, device=device, out=out, quiet=quiet,
                log_every=500)
    m = run.metrics
    print(f"Burgers identification (N = {n}, noise {100 * noise:g} %, seed {seed}): "
          f"l1 = {run.unknowns['l1']:.6f} (error {100 * m['param/l1/rel_error']:.3f} %), "
          f"l2 = {run.unknowns['l2']:.6f} (error {100 * m['param/l2/rel_error']:.3f} %), "
          f"u relative L2 {m['rel_l2']:.3e}, {run.wall_time:.0f} s")
    return run


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lbfgs-steps", type=int, default=10_000)
    p.add_argument("--noise", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    main(a.steps, a.lbfgs_steps, noise=a.noise, seed=a.seed)

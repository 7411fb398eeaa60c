"""Identify a space-varying coefficient a(x) from 50 noisy values of u (an unknown *field*).

    -(a(x) u'(x))' = f(x)  on [0, 1],   u(0) = u(1) = 0,
    true a(x) = 1 + 0.5 sin(2 pi x),  u(x) = sin(pi x),  f = -(a u')' known,

with u observed at 50 random points with 1 % Gaussian noise (drawn with the run's seed). The network has two
outputs, u and a; the problem's output transform makes u vanish on the boundary (``x (1 - x) raw_u``) and a
positive (``softplus(raw_a)``, :func:`pde.unknowns.positive`), so a is evaluated, stored and exported like u.

    python examples/inverse_coefficient.py
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from pde import MLP, AbstractProblem, Dirichlet, Interval, solve
from pde.observations import Observation
from pde.unknowns import positive


def a_true(x):
    return 1.0 + 0.5 * torch.sin(2 * math.pi * x)


def u_true(x):
    return torch.sin(math.pi * x)


def f_known(x):
    """``-(a u')' = -(a' u' + a u'')`` for the true a and u."""
    pi = math.pi
    return -(pi * torch.cos(2 * pi * x)) * (pi * torch.cos(pi * x)) + a_true(x) * pi ** 2 * torch.sin(pi * x)


@dataclass
class CoefficientField(AbstractProblem):
    """``-(a u')' = f`` on [0, 1] with the coefficient field ``a`` a second model output (fields u, a)."""

    name = "coefficient_field"
    fields = ("u", "a")
    hard_satisfies = ("bc",)

    @property
    def domain(self):
        return Interval(0.0, 1.0)

    def default_settings(self):
        return {"hard": True}

    def residual(self, d):
        return -(d("a", "x") * d("u", "x") + d["a"] * d("u", "x", "x")) - f_known(d.coord("x"))

    def conditions(self):
        return [Dirichlet(0.0, name="bc")]

    def output_transform(self, points, raw):
        x = points[:, :1]
        return torch.cat([x * (1 - x) * raw[:, :1], positive(raw[:, 1:2])], dim=1)

    def exact(self, points):
        x = points[:, 0]
        return torch.stack([u_true(x), a_true(x)], dim=1)


def observations(n: int = 50, noise: float = 0.01, seed: int = 1234) -> Observation:
    """u at ``n`` uniform random points (fixed draw), relative noise ``noise`` drawn with the run's seed."""
    x = np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, 1))
    return Observation(x, np.sin(math.pi * x), noise=noise)


def main(steps: int = 5000, lbfgs_steps: int = 2000, noise: float = 0.01, seed: int = 0,
         out: str = "inverse_coefficient.h5", quiet: bool = False):
    run = solve(CoefficientField(), MLP(width=32, depth=3), data=observations(noise=noise), steps=steps,
                lbfgs_steps=lbfgs_steps, lr=3e-3, n_interior=200, seed=seed, device="cpu", out=out, quiet=quiet,
                log_every=1000)
    m = run.metrics
    print(f"coefficient field (50 points, noise {100 * noise:g} %): relative L2 error of u {m['rel_l2/u']:.3e}, "
          f"of a {m['rel_l2/a']:.3e}, {run.wall_time:.0f} s")
    return run


if __name__ == "__main__":
    main()

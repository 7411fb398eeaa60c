"""Linear evolution problems with exact solutions: convection, heat, wave."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from pde.conditions import Dirichlet, Initial, Periodic
from pde.domain import Box, Interval, SpaceTime, TimeInterval
from pde.problem import AbstractProblem, check_positive

__all__ = ["Convection", "Heat", "Wave"]


@dataclass
class Convection(AbstractProblem):
    """1-D convection (the failure-mode benchmark of Krishnapriyan et al. 2021)::

        u_t + beta u_x = 0,   x in [0, 2 pi], t in [0, 1],
        u(x, 0) = sin(x)       (condition "ic"),
        u(0, t) = u(2 pi, t)   (condition "periodic_x", order 0: a first-order equation needs no more).

    Exact: ``u = sin(x - beta t)``; ``beta`` defaults to 30 (hard for plain PINNs).

    Reference: exact (the formula above) on the default evaluation grid.

    Hard constraint (:meth:`output_transform`): ``u = sin(x) + t raw`` satisfies "ic";
    periodicity is for a periodic model (Fourier features of x).
    """

    name = "convection"
    hard_satisfies = ("ic",)

    def default_model(self):
        """4 x 50 tanh MLP (the R3 paper's setting), exactly periodic in x, hard initial condition."""
        from pde.models import MLP, PeriodicEmbedding

        return MLP(width=50, depth=4, embedding=PeriodicEmbedding({"x": 2 * math.pi}))

    def default_settings(self):
        return {"hard": True, "n_interior": 1000, "steps": 5000, "lr": 1e-3, "lbfgs_steps": 0}

    beta: float = 30.0

    def __post_init__(self):
        if not math.isfinite(self.beta):
            raise ValueError(f"beta (convection speed) must be finite, got {self.beta}")

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 2 * math.pi), TimeInterval(0.0, 1.0))

    def residual(self, d):
        return d("u", "t") + self.beta * d("u", "x")

    def conditions(self):
        return [Initial(lambda p: torch.sin(p[:, 0])), Periodic("x", order=0)]

    def exact(self, points):
        return torch.sin(points[:, 0] - self.beta * points[:, 1])[:, None]

    def output_transform(self, points, raw):
        """``(N, 1)``: ``sin(x) + t raw``."""
        return torch.sin(points[:, :1]) + points[:, 1:2] * raw


@dataclass
class Heat(AbstractProblem):
    """Heat equation in ``d`` space dimensions::

        u_t = kappa lap u,   x in [0, 1]^d, t in [0, 1],
        u = exact on the boundary (condition "bc"), u(x, 0) = exact(x, 0) (condition "ic"),

    with the exact solution (a sum, not a product, of sines, so that its size stays of order
    one for every ``d`` and it decays at the rate ``kappa pi^2`` whatever ``d``)::

        u(x, t) = exp(-kappa pi^2 t) (1 / d) sum_i sin(pi x_i).

    ``kappa`` defaults to 0.1 (u decays by ``e^-0.99`` over the time interval). Coordinates are
    ``x`` (d = 1), ``x, y`` (d = 2), ``x, y, z`` (d = 3), else ``x1 .. xd``; time is ``t``.

    Reference: exact (the formula above), on a 51^(d+1) grid for d <= 2, else at random points.

    Hard constraint (:meth:`output_transform`): ``u = u0(x) + t raw`` satisfies "ic" (the
    boundary values are not zero, so "bc" is left soft).
    """

    name = "heat"
    hard_satisfies = ("ic",)

    def default_settings(self):
        return {"hard": True, "n_interior": 2000, "steps": 2000, "lr": 3e-3, "lbfgs_steps": 1000}
    eval_points = 51  # per coordinate of the (d + 1)-dimensional evaluation grid (d <= 2)

    d: int = 2
    kappa: float = 0.1

    def __post_init__(self):
        if int(self.d) != self.d or self.d < 1:
            raise ValueError(f"d (space dimension) must be a positive integer, got {self.d}")
        check_positive("kappa (diffusivity)", self.kappa)

    @property
    def domain(self):
        return SpaceTime(Box.cube(int(self.d)), TimeInterval(0.0, 1.0))

    def residual(self, d):
        return d("u", "t") - self.kappa * d.laplacian("u")

    def _space(self, points):
        return torch.sin(math.pi * points[:, :-1]).mean(dim=1)

    def exact(self, points):
        t = points[:, -1]
        return (torch.exp(-self.kappa * math.pi ** 2 * t) * self._space(points))[:, None]

    def conditions(self):
        return [Initial(self._space), Dirichlet(lambda p: self.exact(p)[:, 0])]

    def output_transform(self, points, raw):
        """``(N, 1)``: ``(1/d) sum sin(pi x_i) + t raw``."""
        return self._space(points)[:, None] + points[:, -1:] * raw


@dataclass
class Wave(AbstractProblem):
    """1-D wave equation with standing waves (Wang, Yu & Perdikaris 2022, "When and why PINNs fail")::

        u_tt = c^2 u_xx,   x in [0, 1], t in [0, 1],
        u(0, t) = u(1, t) = 0                               (condition "bc"),
        u(x, 0) = sin(pi x) + a sin(m pi x)                 (condition "ic"),
        u_t(x, 0) = 0                                       (condition "ic_t").

    Exact: ``u = sin(pi x) cos(c pi t) + a sin(m pi x) cos(m c pi t)``; defaults ``c = 2``,
    ``a = 0.5``, ``m = 4`` (the cited benchmark).

    Reference: exact (the formula above) on the default evaluation grid.

    Hard constraint (:meth:`output_transform`): ``u = u0(x) + x (1 - x) t^2 raw`` satisfies
    "ic", "ic_t" and "bc".
    """

    name = "wave"
    hard_satisfies = ("ic", "ic_t", "bc")

    def default_settings(self):
        return {"hard": True, "n_interior": 2000, "steps": 2000, "lr": 3e-3, "lbfgs_steps": 2000}

    c: float = 2.0
    a: float = 0.5
    m: int = 4

    def __post_init__(self):
        check_positive("c (wave speed)", self.c)
        if not math.isfinite(self.a):
            raise ValueError(f"a (amplitude of the second mode) must be finite, got {self.a}")
        if int(self.m) != self.m or self.m < 1:
            raise ValueError(f"m (second mode number) must be a positive integer, got {self.m}")

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))

    def residual(self, d):
        return d("u", "t", "t") - self.c ** 2 * d("u", "x", "x")

    def initial_value(self, points):
        x = points[:, 0]
        return torch.sin(math.pi * x) + self.a * torch.sin(self.m * math.pi * x)

    def conditions(self):
        return [Dirichlet(0.0), Initial(self.initial_value), Initial(0.0, order=1)]

    def exact(self, points):
        x, t = points[:, 0], points[:, 1]
        w = math.pi * self.c
        u = torch.sin(math.pi * x) * torch.cos(w * t) + self.a * torch.sin(self.m * math.pi * x) * torch.cos(
            self.m * w * t)
        return u[:, None]

    def output_transform(self, points, raw):
        """``(N, 1)``: ``u0(x) + x (1 - x) t^2 raw``."""
        x, t = points[:, :1], points[:, 1:2]
        return self.initial_value(points)[:, None] + x * (1 - x) * t * t * raw

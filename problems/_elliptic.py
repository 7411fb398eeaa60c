"""Elliptic problems with exact solutions: Poisson (2-D and d-D) and Helmholtz."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from pde.conditions import Dirichlet
from pde.domain import Box
from pde.problem import AbstractProblem, check_positive

__all__ = ["Poisson2D", "Helmholtz2D", "PoissonND"]


@dataclass
class Poisson2D(AbstractProblem):
    """Poisson equation on the unit square::

        -lap u = f,   (x, y) in [0, 1]^2,   f = 2 (k pi)^2 sin(k pi x) sin(k pi y),
        u = 0 on the boundary (condition "bc").

    Exact: ``u = sin(k pi x) sin(k pi y)``; ``k`` (integer frequency) defaults to 1.

    Reference: exact (the formula above) on the default evaluation grid.

    Hard constraint (:meth:`output_transform`): ``u = x (1 - x) y (1 - y) raw`` satisfies "bc".
    """

    name = "poisson2d"
    hard_satisfies = ("bc",)

    def default_model(self):
        from pde.models import MLP

        return MLP(width=32, depth=4)

    def default_settings(self):
        return {"hard": True, "n_interior": 2000, "steps": 500, "lr": 3e-3, "lbfgs_steps": 2000}

    k: int = 1

    def __post_init__(self):
        if int(self.k) != self.k or self.k < 1:
            raise ValueError(f"k (frequency) must be a positive integer, got {self.k}")

    @property
    def domain(self):
        return Box([0.0, 0.0], [1.0, 1.0])

    def exact(self, points):
        w = self.k * math.pi
        return (torch.sin(w * points[:, 0]) * torch.sin(w * points[:, 1]))[:, None]

    def source(self, points):
        """``f`` ``(N,)``."""
        return 2 * (self.k * math.pi) ** 2 * self.exact(points)[:, 0]

    def residual(self, d):
        return -d.laplacian("u") - self.source(d.points.detach())

    def conditions(self):
        return [Dirichlet(0.0)]

    def output_transform(self, points, raw):
        """``(N, 1)``: ``x (1 - x) y (1 - y) raw``."""
        return (points * (1 - points)).prod(dim=1, keepdim=True) * raw


@dataclass
class Helmholtz2D(AbstractProblem):
    """Helmholtz equation (the PINN benchmark of Wang, Teng & Perdikaris 2021)::

        lap u + k^2 u = q,   (x, y) in [-1, 1]^2,
        q = (k^2 - (a1 pi)^2 - (a2 pi)^2) sin(a1 pi x) sin(a2 pi y),
        u = 0 on the boundary (condition "bc").

    Exact: ``u = sin(a1 pi x) sin(a2 pi y)``; defaults ``a1 = 1``, ``a2 = 4``, ``k = 1``.

    Reference: exact (the formula above) on the default evaluation grid.

    Hard constraint (:meth:`output_transform`): ``u = (1 - x^2) (1 - y^2) raw`` satisfies "bc".
    """

    name = "helmholtz2d"
    hard_satisfies = ("bc",)

    def default_model(self):
        from pde.models import MLP

        return MLP(width=32, depth=4, activation="sin")

    def default_settings(self):
        return {"hard": True, "n_interior": 2000, "steps": 500, "lr": 3e-3, "lbfgs_steps": 4000}

    a1: int = 1
    a2: int = 4
    k: float = 1.0

    def __post_init__(self):
        for nm in ("a1", "a2"):
            v = getattr(self, nm)
            if int(v) != v or v < 1:
                raise ValueError(f"{nm} (mode number) must be a positive integer, got {v}")
        check_positive("k (wavenumber)", self.k, allow_zero=True)

    @property
    def domain(self):
        return Box([-1.0, -1.0], [1.0, 1.0])

    def exact(self, points):
        return (torch.sin(self.a1 * math.pi * points[:, 0]) * torch.sin(self.a2 * math.pi * points[:, 1]))[:, None]

    def source(self, points):
        """``q`` ``(N,)``."""
        c = self.k ** 2 - (self.a1 * math.pi) ** 2 - (self.a2 * math.pi) ** 2
        return c * self.exact(points)[:, 0]

    def residual(self, d):
        return d.laplacian("u") + self.k ** 2 * d["u"] - self.source(d.points.detach())

    def conditions(self):
        return [Dirichlet(0.0)]

    def output_transform(self, points, raw):
        """``(N, 1)``: ``(1 - x^2) (1 - y^2) raw``."""
        return (1 - points * points).prod(dim=1, keepdim=True) * raw


@dataclass
class PoissonND(AbstractProblem):
    """Poisson equation in ``d`` dimensions (``d >= 2``; built for ``d`` up to 1e5 and beyond)::

        -lap u = f   in [0, 1]^d,   u = exact on the boundary (condition "bc"),

        u(x) = (1 / sqrt(d)) sum_i [cos(pi x_i) + sin(pi x_i) cos(pi x_{i+1})]   (x_{d+1} = x_1),
        f(x) = (pi^2 / sqrt(d)) sum_i [cos(pi x_i) + 2 sin(pi x_i) cos(pi x_{i+1})].

    Every term is a Laplacian eigenfunction, so ``f`` is exact; the cyclic products couple the
    coordinates (the solution is not a sum of one-dimensional functions). For uniform ``x`` the
    terms have mean 0, so ``u`` has mean 0 and variance ``3/4 + 2/pi`` (about 1.39) whatever ``d``:
    the problem stays well scaled as ``d`` grows. ``exact`` and ``source`` cost ``O(N d)`` time and
    memory (no ``d x d`` objects). Coordinates ``x1 .. xd`` (``x, y, z`` for d <= 3).

    Reference: exact (the formula above), on a grid for d <= 3, else at 10,000 random points.

    No output transform: the boundary values are not zero, so "bc" stays a soft condition.
    """

    name = "poisson_nd"
    hard_satisfies = ()

    def default_settings(self):
        return {"n_interior": 1000, "n_boundary": 500, "steps": 3000, "lr": 1e-3, "lbfgs_steps": 0}

    d: int = 10

    def __post_init__(self):
        if int(self.d) != self.d or self.d < 2:
            raise ValueError(f"d (dimension) must be an integer >= 2, got {self.d}")

    @property
    def domain(self):
        return Box.cube(int(self.d))

    def _parts(self, points):
        c = torch.cos(math.pi * points)
        s = torch.sin(math.pi * points)
        return c.sum(dim=1), (s * torch.roll(c, -1, dims=1)).sum(dim=1)

    def exact(self, points):
        a, b = self._parts(points)
        return ((a + b) / math.sqrt(self.d))[:, None]

    def source(self, points):
        """``f`` ``(N,)``."""
        a, b = self._parts(points)
        return math.pi ** 2 / math.sqrt(self.d) * (a + 2 * b)

    def residual(self, d):
        return -d.laplacian("u") - self.source(d.points.detach())

    def conditions(self):
        return [Dirichlet(lambda p: self.exact(p)[:, 0])]

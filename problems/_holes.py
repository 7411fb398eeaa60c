"""Laplace and Helmholtz equations on a square plate with four circular holes, with finite-element references."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from pde.conditions import Dirichlet
from pde.domain import Box, Disk
from pde.problem import AbstractProblem, Reference, check_positive

__all__ = ["HelmholtzHoles", "PoissonHoles"]

CENTRES = ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75))


@functools.lru_cache(maxsize=8)
def _cached(radius: float, hole_value: float, h: float, wavenumber: float = 0.0):
    from ._fem_poisson import solve_poisson_fem

    def boundary(x, y):
        on_hole = np.zeros_like(x, dtype=bool)
        for cx, cy in CENTRES:
            on_hole |= np.hypot(x - cx, y - cy) < radius + 1e-9
        return np.where(on_hole, hole_value, 0.0)

    pts, u = solve_poisson_fem(lambda x, y: np.zeros_like(x), boundary, CENTRES, radius, h, order=2,
                               wavenumber=wavenumber)
    pts.setflags(write=False)
    u.setflags(write=False)
    return pts, u


@dataclass
class PoissonHoles(AbstractProblem):
    """Laplace equation on the unit square minus four disks of radius ``radius`` centred at ``(0.25 | 0.75)^2``::

        lap u = 0   in  Box([0, 0], [1, 1]) - 4 Disk(c, radius),
        u = 0 on the outer square (condition "bc_outer", ``on="outer"``),
        u = hole_value on the four circles (condition "bc_holes", ``on="holes"``).

    The disks share the boundary part name ``"holes"`` (``Disk(c, r, name="holes")``, see :mod:`pde.csg`).

    Hard constraint (:meth:`output_transform`, the default): ``u = g + phi_out phi_holes raw`` satisfies both
    conditions (a plain PINN with soft conditions stalls near ``u = 1/2`` on this problem, rel. L2 about 0.5).

    Reference: P2 finite elements (scikit-fem) on a Triangle mesh of edge ``solver_h`` (default 0.01,
    about 16,000 vertices) with the circles as 63-gons (:mod:`problems._fem_poisson`), at the mesh
    vertices; the FEM is checked by refinement against a manufactured solution
    (``tests/problems/test_fem_poisson.py``). Needs the ``fem`` extra (``pip install pdekit[fem]``);
    without it the problem still trains, and has no reference.
    """

    name = "poisson_holes"
    hard_satisfies = ("bc_outer", "bc_holes")

    radius: float = 0.1
    hole_value: float = 1.0
    solver_h: float = 0.01

    def __post_init__(self):
        check_positive("radius", self.radius)
        if not self.radius < 0.25:
            raise ValueError(f"radius must be < 0.25 (the holes may not touch), got {self.radius}")
        check_positive("solver_h", self.solver_h)

    def default_model(self):
        from pde.models import MLP

        return MLP(width=64, depth=4)

    def default_settings(self):
        return {"hard": True, "n_interior": 4000, "n_boundary": 1000, "steps": 3000, "lr": 1e-3,
                "lbfgs_steps": 3000}

    def output_transform(self, points, raw):
        """``(N, 1)``: ``u = g + phi_out phi_holes raw``, exact on both boundary parts.

        ``phi_out = 16 x (1 - x) y (1 - y)`` vanishes on the square, ``phi_holes = prod_i tanh(d_i / 16)`` with
        ``d_i = (|x - c_i|^2 - r^2) / r^2`` on the circles, and ``g = hole_value phi_out / (phi_out + phi_holes)``
        is 0 on the square and ``hole_value`` on the circles (its denominator vanishes nowhere in the domain).
        The 1/16 widens the layer where ``g`` turns (a steeper ``g``, with 1, has Laplacians near 1e3 that
        the network must cancel: rel. L2 0.22 against 0.030 after 400 Adam steps and 100 L-BFGS iterations).
        """
        x, y = points[:, 0:1], points[:, 1:2]
        phi_out = 16.0 * x * (1 - x) * y * (1 - y)
        phi_holes = torch.ones_like(x)
        r2 = self.radius ** 2
        for cx, cy in CENTRES:
            phi_holes = phi_holes * torch.tanh(((x - cx) ** 2 + (y - cy) ** 2 - r2) / (16.0 * r2))
        g = self.hole_value * phi_out / (phi_out + phi_holes)
        return g + phi_out * phi_holes * raw

    @property
    def domain(self):
        d = Box([0.0, 0.0], [1.0, 1.0])
        for c in CENTRES:
            d = d - Disk(c, self.radius, name="holes")
        return d

    def residual(self, d):
        return d.laplacian("u")

    def conditions(self):
        return [Dirichlet(0.0, name="bc_outer", on="outer"), Dirichlet(self.hole_value, name="bc_holes", on="holes")]

    def reference(self):
        try:
            pts, u = _cached(float(self.radius), float(self.hole_value), float(self.solver_h))
        except ImportError as e:
            raise NotImplementedError(f"the reference of {self.name!r} needs the 'fem' extra "
                                      f"(pip install 'pdekit[fem]'): {e}") from None
        return Reference(pts.copy(), u.copy()[:, None], None,
                         f"P2 finite elements (scikit-fem, Triangle mesh h={self.solver_h:g})")


@dataclass
class HelmholtzHoles(PoissonHoles):
    """Helmholtz equation on the unit square minus four disks (the domain of :class:`PoissonHoles`)::

        lap u + k^2 u = 0,   u = 0 on the outer square ("bc_outer"),   u = hole_value on the circles ("bc_holes"),

    with wavenumber ``k = 4`` by default: ``k^2 = 16`` lies below ``2 pi^2 = 19.7``, the first Dirichlet
    eigenvalue of the square, which the holes only raise, so the problem is well posed.

    Reference: P2 finite elements as for :class:`PoissonHoles` (extra ``fem``), with the mass term.
    """

    name = "helmholtz_holes"

    k: float = 4.0

    def __post_init__(self):
        super().__post_init__()
        check_positive("k (wavenumber)", self.k, allow_zero=True)

    def residual(self, d):
        return d.laplacian("u") + self.k ** 2 * d["u"]

    def reference(self):
        try:
            pts, u = _cached(float(self.radius), float(self.hole_value), float(self.solver_h), float(self.k))
        except ImportError as e:
            raise NotImplementedError(f"the reference of {self.name!r} needs the 'fem' extra "
                                      f"(pip install 'pdekit[fem]'): {e}") from None
        return Reference(pts.copy(), u.copy()[:, None], None,
                         f"P2 finite elements (scikit-fem, Triangle mesh h={self.solver_h:g}), k={self.k:g}")

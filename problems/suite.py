"""The generic-problem suite (issue 17): eight problems written the way a user writes them.

None of these classes sets ``default_model``, ``default_settings``, ``output_transform`` or
``hard_satisfies``: the generic recipe of :func:`pde.solve` has to configure the model, the hard
constraints and the weighting from the problem's structure alone. ``SUITE`` maps the suite's names to
the classes, in this order:

==============  ===============================================================  ========================
name            equation                                                         reference
==============  ===============================================================  ========================
``wave``        ``u_tt = 4 u_xx`` on [0, 1]^2 (Wang, Yu & Perdikaris 2022)         exact
``klein_gordon`` ``u_tt - u_xx + u^3 = f`` (Wang, Teng & Perdikaris 2021)         exact
``convection``  ``u_t + 30 u_x = 0``, periodic (Krishnapriyan et al. 2021)         exact
``reaction``    ``u_t = 5 u (1 - u)``, periodic (Krishnapriyan et al. 2021)        exact
``allen_cahn``  ``u_t = 1e-4 u_xx + 5 u - 5 u^3``, periodic                        ETDRK4 solver
``helmholtz``   ``lap u + u = q`` on [-1, 1]^2, ``u = sin(pi x) sin(4 pi y)``      exact
``gray_scott``  the 1-D two-field system of :class:`problems.GrayScott`            ETDRK4 solver
``kovasznay``   steady Navier-Stokes, Re = 20 (Kovasznay 1948)                    exact
==============  ===============================================================  ========================

The classes are not in :data:`problems.REGISTRY` (their ``name`` is ``suite_<name>`` so that a run
file never reads as the tuned library problem of the same equation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from pde.conditions import Dirichlet, Initial, Periodic
from pde.domain import Box, Interval, SpaceTime, TimeInterval
from pde.problem import AbstractProblem, Reference

from ._allen_cahn import _cached_reference as _allen_cahn_reference
from ._gray_scott import GrayScott
from ._gray_scott import _cached as _gray_scott_reference
from ._navier_stokes import steady_navier_stokes

__all__ = ["SUITE", "AllenCahnSuite", "ConvectionSuite", "GrayScottSuite", "HelmholtzSuite", "KleinGordonSuite",
           "KovasznaySuite", "ReactionSuite", "WaveSuite"]


@dataclass
class WaveSuite(AbstractProblem):
    """``u_tt = 4 u_xx``, x, t in [0, 1]; u = 0 at x = 0, 1 ("bc"); u(x, 0) = sin(pi x) + 0.5 sin(4 pi x)
    ("ic"); u_t(x, 0) = 0 ("ic_t"). Exact ``u = sin(pi x) cos(2 pi t) + 0.5 sin(4 pi x) cos(8 pi t)``."""

    name = "suite_wave"

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))

    def residual(self, d):
        return d("u", "t", "t") - 4.0 * d("u", "x", "x")

    @staticmethod
    def initial_value(points):
        return torch.sin(math.pi * points[:, 0]) + 0.5 * torch.sin(4 * math.pi * points[:, 0])

    def conditions(self):
        return [Dirichlet(0.0), Initial(self.initial_value), Initial(0.0, order=1)]

    def exact(self, points):
        x, t = points[:, 0], points[:, 1]
        u = (torch.sin(math.pi * x) * torch.cos(2 * math.pi * t)
             + 0.5 * torch.sin(4 * math.pi * x) * torch.cos(8 * math.pi * t))
        return u[:, None]


@dataclass
class KleinGordonSuite(AbstractProblem):
    """``u_tt - u_xx + u^3 = f``, x, t in [0, 1], with ``f`` from the exact ``u = x cos(5 pi t) + (x t)^3``;
    u exact at x = 0, 1 ("bc"), u(x, 0) = x ("ic"), u_t(x, 0) = 0 ("ic_t")."""

    name = "suite_klein_gordon"

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))

    def source(self, points):
        """``f = u_tt - u_xx + u^3`` of the exact solution, ``(N,)``."""
        x, t = points[:, 0], points[:, 1]
        u_tt = -25 * math.pi ** 2 * x * torch.cos(5 * math.pi * t) + 6 * x ** 3 * t
        u_xx = 6 * x * t ** 3
        return u_tt - u_xx + self.exact(points)[:, 0] ** 3

    def residual(self, d):
        return d("u", "t", "t") - d("u", "x", "x") + d["u"] ** 3 - self.source(d.points.detach())

    def conditions(self):
        return [Dirichlet(lambda p: self.exact(p)[:, 0]), Initial(lambda p: p[:, 0]), Initial(0.0, order=1)]

    def exact(self, points):
        x, t = points[:, 0], points[:, 1]
        return (x * torch.cos(5 * math.pi * t) + (x * t) ** 3)[:, None]


@dataclass
class ConvectionSuite(AbstractProblem):
    """``u_t + 30 u_x = 0``, x in [0, 2 pi], t in [0, 1], u(x, 0) = sin x ("ic"), u periodic in x.
    Exact ``u = sin(x - 30 t)``."""

    name = "suite_convection"

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 2 * math.pi), TimeInterval(0.0, 1.0))

    def residual(self, d):
        return d("u", "t") + 30.0 * d("u", "x")

    def conditions(self):
        return [Initial(lambda p: torch.sin(p[:, 0])), Periodic("x", order=0)]

    def exact(self, points):
        return torch.sin(points[:, 0] - 30.0 * points[:, 1])[:, None]


@dataclass
class ReactionSuite(AbstractProblem):
    """``u_t = 5 u (1 - u)``, x in [0, 2 pi], t in [0, 1], u(x, 0) = exp(-(x - pi)^2 / (2 (pi/4)^2)) ("ic"),
    u periodic in x. Exact (logistic growth at each x) ``u = u0 e^{5t} / (u0 e^{5t} + 1 - u0)``."""

    name = "suite_reaction"

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 2 * math.pi), TimeInterval(0.0, 1.0))

    @staticmethod
    def initial_value(points):
        return torch.exp(-(points[:, 0] - math.pi) ** 2 / (2 * (math.pi / 4) ** 2))

    def residual(self, d):
        u = d["u"]
        return d("u", "t") - 5.0 * u * (1 - u)

    def conditions(self):
        return [Initial(self.initial_value), Periodic("x", order=0)]

    def exact(self, points):
        grow = self.initial_value(points) * torch.exp(5.0 * points[:, 1])
        return (grow / (grow + 1 - self.initial_value(points)))[:, None]


@dataclass
class AllenCahnSuite(AbstractProblem):
    """``u_t = 1e-4 u_xx + 5 u - 5 u^3``, x in [-1, 1], t in [0, 1], u(x, 0) = x^2 cos(pi x) ("ic"),
    u and u_x periodic in x. Reference: :func:`problems.solve_allen_cahn` (ETDRK4, 2048 points, shared cache)."""

    name = "suite_allen_cahn"

    @property
    def domain(self):
        return SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 1.0))

    def residual(self, d):
        u = d["u"]
        return d("u", "t") - 1e-4 * d("u", "x", "x") - 5.0 * u + 5.0 * u ** 3

    def conditions(self):
        return [Initial(lambda p: p[:, 0] ** 2 * torch.cos(math.pi * p[:, 0])), Periodic("x", order=1)]

    def reference(self):
        x, t, u = _allen_cahn_reference(1e-4, 5.0, 2048, 10)
        return Reference.on_grid({"x": x.copy(), "t": t.copy()}, u.copy(),
                                 "Fourier pseudo-spectral ETDRK4, 2048 points, step 5e-4")


@dataclass
class HelmholtzSuite(AbstractProblem):
    """``u_xx + u_yy + u = q`` on [-1, 1]^2 with ``q`` from the exact ``u = sin(pi x) sin(4 pi y)``;
    u = 0 on the boundary ("bc")."""

    name = "suite_helmholtz"

    @property
    def domain(self):
        return Box([-1.0, -1.0], [1.0, 1.0])

    def exact(self, points):
        return (torch.sin(math.pi * points[:, 0]) * torch.sin(4 * math.pi * points[:, 1]))[:, None]

    def residual(self, d):
        q = (1.0 - math.pi ** 2 - 16 * math.pi ** 2) * self.exact(d.points.detach())[:, 0]
        return d("u", "x", "x") + d("u", "y", "y") + d["u"] - q

    def conditions(self):
        return [Dirichlet(0.0)]


@dataclass
class GrayScottSuite(AbstractProblem):
    """The Gray-Scott system of :class:`problems.GrayScott` (Du = 0.01, Dv = 0.005, F = k = 1)::

        u_t = 0.01 u_xx - u v^2 + (1 - u),   v_t = 0.005 v_xx + u v^2 - 2 v,   x in [-1, 1], t in [0, 1],

    u(x, 0) = 1 - b / 2 ("ic_u"), v(x, 0) = b / 2 ("ic_v"), b = ((1 + cos(pi x)) / 2)^8; periodic in x.
    Reference: :func:`problems.solve_gray_scott` (ETDRK4, 256 points, shared cache)."""

    name = "suite_gray_scott"
    fields = ("u", "v")

    @property
    def domain(self):
        return SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 1.0))

    def residual(self, d):
        u, v = d["u"], d["v"]
        return {"u": d("u", "t") - 0.01 * d("u", "x", "x") + u * v * v - (1.0 - u),
                "v": d("v", "t") - 0.005 * d("v", "x", "x") - u * v * v + 2.0 * v}

    def conditions(self):
        return [Initial(lambda p: GrayScott.initial_values(p)[:, 0], field="u", name="ic_u"),
                Initial(lambda p: GrayScott.initial_values(p)[:, 1], field="v", name="ic_v"),
                Periodic("x", fields=("u", "v"), order=1)]

    def reference(self):
        x, t, u, v = _gray_scott_reference(0.01, 0.005, 1.0, 1.0, 1.0)
        return Reference.on_grid({"x": x.copy(), "t": t.copy()}, np.stack([u, v], axis=-1),
                                 "Fourier pseudo-spectral ETDRK4, 256 points, step 5e-4")


@dataclass
class KovasznaySuite(AbstractProblem):
    """Steady Navier-Stokes at Re = 20 on [-0.5, 1] x [-0.5, 1.5] (fields u, v, p), exact (Kovasznay 1948):
    u = 1 - e^{lam x} cos(2 pi y), v = lam / (2 pi) e^{lam x} sin(2 pi y), p = (1 - e^{2 lam x}) / 2,
    lam = 10 - sqrt(100 + 4 pi^2); u, v exact on the boundary ("bc_u", "bc_v"), p exact at x = 1 ("bc_p");
    p compared up to a constant."""

    name = "suite_kovasznay"
    fields = ("u", "v", "p")
    up_to_constant = ("p",)

    @property
    def domain(self):
        return Box([-0.5, -0.5], [1.0, 1.5])

    def exact(self, points):
        lam = 10.0 - math.sqrt(100.0 + 4 * math.pi ** 2)
        x, y = points[:, 0], points[:, 1]
        e = torch.exp(lam * x)
        return torch.stack([1 - e * torch.cos(2 * math.pi * y), lam / (2 * math.pi) * e * torch.sin(2 * math.pi * y),
                            0.5 * (1 - e * e)], dim=1)

    def residual(self, d):
        return steady_navier_stokes(d, 1.0 / 20.0)

    def conditions(self):
        return [Dirichlet(lambda p: self.exact(p)[:, 0], field="u", name="bc_u"),
                Dirichlet(lambda p: self.exact(p)[:, 1], field="v", name="bc_v"),
                Dirichlet(lambda p: self.exact(p)[:, 2], field="p", name="bc_p", where=lambda p: p[:, 0] >= 1.0 - 1e-6)]


#: the suite's problem classes by name, in the suite's order
SUITE: dict[str, type[AbstractProblem]] = {
    "wave": WaveSuite, "klein_gordon": KleinGordonSuite, "convection": ConvectionSuite, "reaction": ReactionSuite,
    "allen_cahn": AllenCahnSuite, "helmholtz": HelmholtzSuite, "gray_scott": GrayScottSuite,
    "kovasznay": KovasznaySuite,
}

"""Lid-driven cavity flow at Re = 100: steady Navier-Stokes with a finite-difference reference."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from pde.conditions import Dirichlet
from pde.domain import Box
from pde.problem import AbstractProblem, Reference, check_positive

from ._cavity_solver import LIDS, solve_cavity
from ._navier_stokes import steady_navier_stokes

__all__ = ["LidDrivenCavity"]


@functools.lru_cache(maxsize=4)
def _cached(re: float, n: int, lid: str):
    sol = solve_cavity(re, n, lid)
    for a in sol.values():
        a.setflags(write=False)
    return sol


@dataclass
class LidDrivenCavity(AbstractProblem):
    """Steady flow in the unit square driven by its top wall (the lid)::

        u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0     (residual "momentum_x")
        u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0     (residual "momentum_y")
        u_x + v_y = 0                                     (residual "continuity")

    ``u = lid(x)`` on ``y = 1``, ``u = 0`` on the other walls ("bc_u"), ``v = 0`` on every wall ("bc_v").
    ``lid``: ``"constant"`` (``u = 1``, Ghia, Ghia & Shin's case, singular at the two top corners) or
    ``"smooth"`` (``u = 16 x^2 (1 - x)^2``). The pressure is defined up to a constant: it is compared
    after removing the mean difference (``up_to_constant``).

    Reference: streamfunction-vorticity finite differences solved by Newton's method on a
    ``solver_points + 1`` node grid (default 129 x 129, :mod:`problems._cavity_solver`); at Re = 100 its
    centreline velocities are within 1% of the lid speed of Ghia, Ghia & Shin (1982), Tables I and II
    (``tests/problems/test_cavity.py``), second order by refinement.
    """

    name = "lid_driven_cavity"
    fields = ("u", "v", "p")
    up_to_constant = ("p",)

    Re: float = 100.0
    lid: str = "constant"
    solver_points: int = 128

    def __post_init__(self):
        check_positive("Re (Reynolds number)", self.Re)
        if self.lid not in LIDS:
            raise ValueError(f"lid must be one of {', '.join(LIDS)}, got {self.lid!r}")
        if int(self.solver_points) != self.solver_points or self.solver_points < 8 or self.solver_points % 2:
            raise ValueError(f"solver_points must be an even integer >= 8, got {self.solver_points}")

    def default_model(self):
        from pde.models import MLP

        return MLP(width=64, depth=5)

    def default_settings(self):
        return {"n_interior": 4000, "n_boundary": 800, "steps": 5000, "lr": 1e-3, "lbfgs_steps": 5000}

    @property
    def domain(self):
        return Box([0.0, 0.0], [1.0, 1.0])

    def lid_velocity(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(x) if self.lid == "constant" else 16.0 * x ** 2 * (1.0 - x) ** 2

    def residual(self, d):
        return steady_navier_stokes(d, 1.0 / self.Re)

    def conditions(self):
        def u_wall(p):
            return torch.where(p[:, 1] >= 1.0 - 1e-6, self.lid_velocity(p[:, 0]), torch.zeros_like(p[:, 0]))

        return [Dirichlet(u_wall, field="u", name="bc_u"), Dirichlet(0.0, field="v", name="bc_v")]

    def reference(self):
        sol = _cached(float(self.Re), int(self.solver_points), self.lid)
        vals = np.stack([sol["u"], sol["v"], sol["p"]], axis=-1)
        return Reference.on_grid({"x": sol["x"].copy(), "y": sol["y"].copy()}, vals,
                                 f"streamfunction-vorticity finite differences, {self.solver_points + 1}^2 "
                                 f"nodes, Newton")


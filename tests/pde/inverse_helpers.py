"""Shared helpers for the inverse-problem tests: a 1-D diffusion problem with an unknown diffusivity."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from pde import AbstractProblem, Interval, SpaceTime, TimeInterval
from pde.unknowns import Unknown

KAPPA = 0.1


def exact_u(points: np.ndarray, kappa: float = KAPPA) -> np.ndarray:
    """``exp(-kappa pi^2 t) sin(pi x)`` at ``points`` ``(N, 2)`` (columns x, t), shape ``(N,)``."""
    return np.exp(-kappa * math.pi ** 2 * points[:, 1]) * np.sin(math.pi * points[:, 0])


def grid_points(n: int = 11) -> np.ndarray:
    x, t = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    return np.stack([x.ravel(), t.ravel()], 1)


@dataclass
class Diffusion(AbstractProblem):
    """``u_t - kappa u_xx = 0`` on [0, 1] x [0, 1], ``kappa`` unknown (true 0.1); exact ``exp(-kappa pi^2 t)
    sin(pi x)``. No initial or boundary condition: observations decide the solution."""

    name = "diffusion_inverse"
    kappa: float | Unknown = Unknown(init=0.5, positive=True, true=KAPPA)

    @property
    def domain(self):
        return SpaceTime(Interval(0, 1), TimeInterval(0, 1))

    def residual(self, d):
        return d("u", "t") - self.kappa * d("u", "x", "x")

    def exact(self, p):
        return (torch.exp(-KAPPA * math.pi ** 2 * p[:, 1]) * torch.sin(math.pi * p[:, 0]))[:, None]

"""Allen-Cahn equation with a Fourier pseudo-spectral ETDRK4 reference solver."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from pde.conditions import Initial, Periodic
from pde.domain import Interval, SpaceTime, TimeInterval
from pde.problem import AbstractProblem, Reference, check_positive

from ._etdrk4 import etdrk4, fourier_wavenumbers

__all__ = ["AllenCahn", "solve_allen_cahn"]

#: reference grid: 512 periodic x points (x = -1 + 2 j / 512) by 201 times in [0, 1]
NX_REF, NT_REF = 512, 201


def solve_allen_cahn(diffusion: float, reaction: float, *, n: int = 2048, substeps: int = 10, nt: int = NT_REF,
                     t_end: float = 1.0, initial=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve ``u_t = diffusion u_xx + reaction (u - u^3)``, ``u(x, 0) = x^2 cos(pi x)``, periodic on ``[-1, 1)``.

    ``initial`` (numpy function of x) replaces ``x^2 cos(pi x)`` (used by the tests).

    Fourier pseudo-spectral in space on ``n`` points ``x_j = -1 + 2 j / n``, ETDRK4 in time
    (:func:`problems._etdrk4.etdrk4`) with ``substeps`` steps between the ``nt`` equally spaced
    output times. Returns ``x (n,)``, ``t (nt,)``, ``u (n, nt)`` (float64).
    """
    x = -1.0 + 2.0 * np.arange(n) / n
    k = fourier_wavenumbers(n, 2.0)
    L = -diffusion * k ** 2

    def nonlinear(v, t):
        u = np.fft.irfft(v, n)
        return np.fft.rfft(reaction * (u - u ** 3))

    # u0 has a kink at x = +-1 (u0' = -2 and +2 there), so its trig interpolant on n points would
    # carry an O(n^-2) aliasing error into the solution. Start instead from the exact truncated
    # Fourier series (coefficients from a 2^20-point FFT, aliasing ~1e-12); the modes dropped
    # are damped by diffusion within the first steps.
    u0 = _u0 if initial is None else initial
    fine = 2 ** 20
    xf = -1.0 + 2.0 * np.arange(fine) / fine
    v0 = np.fft.rfft(u0(xf))[: n // 2 + 1] * (n / fine)
    v0[-1] = 0.0  # Nyquist mode
    h = t_end / ((nt - 1) * substeps)
    times, vs = etdrk4(L, nonlinear, v0, h, (nt - 1) * substeps, save_every=substeps)
    u = np.fft.irfft(vs, n, axis=1).T
    u[:, 0] = u0(x)  # the solution at t = 0 is u0 itself, not its truncated series
    return x, times, u


def _u0(x):
    return x ** 2 * np.cos(np.pi * x)


@functools.lru_cache(maxsize=4)
def _cached_reference(diffusion: float, reaction: float, n: int, substeps: int):
    x, t, u = solve_allen_cahn(diffusion, reaction, n=n, substeps=substeps)
    stride = n // NX_REF
    x, u = x[::stride], u[::stride]
    x.setflags(write=False)
    t.setflags(write=False)
    u.setflags(write=False)
    return x, t, u


@dataclass
class AllenCahn(AbstractProblem):
    """Allen-Cahn equation (the PINN benchmark of Raissi et al. 2019, Wight & Zhao 2020)::

        u_t - diffusion u_xx + reaction u^3 - reaction u = 0,   x in [-1, 1], t in [0, 1],
        u(x, 0) = x^2 cos(pi x)                 (condition "ic"),
        u and u_x periodic in x                 (condition "periodic_x", order 1),

    with ``diffusion = 1e-4`` and ``reaction = 5`` by default.

    Reference: no closed form; a Fourier pseudo-spectral solution with ETDRK4 time stepping
    (Kassam & Trefethen 2005) on ``solver_points`` points and ``solver_substeps`` steps per
    output interval (defaults 2048 and 10, step 5e-4), self-converged to better than 1e-6
    (``tests/problems/test_allen_cahn.py``), on the 512 x 201 grid ``x = -1 + 2 j / 512``,
    ``t = linspace(0, 1, 201)``. Computed once per parameter set (cached).

    Hard constraint (:meth:`output_transform`): ``u = x^2 cos(pi x) + t raw`` satisfies "ic";
    periodicity is for a periodic model (e.g. Fourier features of x), not an output transform.
    """

    name = "allen_cahn"
    hard_satisfies = ("ic",)

    def default_model(self):
        """Periodic in x (exact embedding), hard initial condition ``u0 + t N``."""
        from pde.models import MLP, PeriodicEmbedding

        return MLP(width=64, depth=4, embedding=PeriodicEmbedding({"x": 2.0}, n_harmonics=4))

    def default_settings(self):
        """Causal weighting (32 slices, eps 1 -> 10 -> 100) on 6000 fixed points: 6000 Adam steps, then
        4000 L-BFGS iterations (rel. L2 5.7e-3, see BENCHMARKS.md)."""
        return {"hard": True, "n_interior": 6000, "steps": 6000, "lr": 1e-3, "lbfgs_steps": 4000,
                "causal": {"eps": 1.0, "bins": 32, "eps_schedule": (1.0, 10.0, 100.0)}}

    diffusion: float = 1e-4
    reaction: float = 5.0
    solver_points: int = 2048
    solver_substeps: int = 10

    def __post_init__(self):
        check_positive("diffusion", self.diffusion)
        check_positive("reaction", self.reaction, allow_zero=True)
        n = self.solver_points
        if int(n) != n or n < NX_REF or n % NX_REF:
            raise ValueError(f"solver_points must be a multiple of {NX_REF}, got {n}")
        if int(self.solver_substeps) != self.solver_substeps or self.solver_substeps < 1:
            raise ValueError(f"solver_substeps must be a positive integer, got {self.solver_substeps}")

    @property
    def domain(self):
        return SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, 1.0))

    def residual(self, d):
        u = d["u"]
        return d("u", "t") - self.diffusion * d("u", "x", "x") + self.reaction * (u ** 3 - u)

    @staticmethod
    def initial_value(points):
        x = points[:, 0]
        return x ** 2 * torch.cos(math.pi * x)

    def conditions(self):
        return [Initial(self.initial_value), Periodic("x", order=1)]

    def output_transform(self, points, raw):
        """``(N, 1)``: ``x^2 cos(pi x) + t raw``."""
        return self.initial_value(points)[:, None] + points[:, 1:2] * raw

    def reference(self):
        x, t, u = _cached_reference(float(self.diffusion), float(self.reaction), int(self.solver_points),
                                    int(self.solver_substeps))
        # copies: the cached arrays are read-only and shared between calls
        return Reference.on_grid({"x": x.copy(), "t": t.copy()}, u.copy(),
                                 f"Fourier pseudo-spectral ETDRK4, {self.solver_points} points, "
                                 f"step {1.0 / ((NT_REF - 1) * self.solver_substeps):g}")

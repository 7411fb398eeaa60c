"""Gray-Scott reaction-diffusion system in 1-D, periodic, with a Fourier pseudo-spectral ETDRK4 reference."""

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

__all__ = ["GrayScott", "solve_gray_scott"]

#: reference grid: 256 periodic x points (x = -1 + 2 j / 256) by 101 times in [0, t_end]
NX_REF, NT_REF = 256, 101


def _bump(x):
    return ((1.0 + np.cos(np.pi * x)) / 2.0) ** 8


def solve_gray_scott(du: float, dv: float, feed: float, kill: float, *, t_end: float = 1.0, n: int = 256,
                     substeps: int = 20, nt: int = NT_REF) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Solve the Gray-Scott system of :class:`GrayScott` on ``[-1, 1)``, periodic.

    Fourier pseudo-spectral on ``n`` points ``x_j = -1 + 2 j / n``; both fields' Fourier coefficients form
    one state whose diagonal linear part is ``(-du k^2, -dv k^2)``, stepped by ETDRK4
    (:func:`problems._etdrk4.etdrk4`), ``substeps`` steps between the ``nt`` output times. The initial
    values are smooth and periodic, so their interpolants are spectrally accurate. Returns ``x (n,)``,
    ``t (nt,)``, ``u (n, nt)``, ``v (n, nt)``.
    """
    x = -1.0 + 2.0 * np.arange(n) / n
    k = fourier_wavenumbers(n, 2.0)
    m = k.size
    lin = np.concatenate([-du * k ** 2 - feed, -dv * k ** 2 - (feed + kill)])
    const = np.zeros(2 * m, dtype=np.complex128)
    const[0] = feed * n  # the rfft of the constant F

    def nonlinear(z, t):
        u, v = np.fft.irfft(z[:m], n), np.fft.irfft(z[m:], n)
        r = np.fft.rfft(u * v * v)
        return np.concatenate([-r, r]) + const

    z0 = np.concatenate([np.fft.rfft(1.0 - 0.5 * _bump(x)), np.fft.rfft(0.5 * _bump(x))])
    h = t_end / ((nt - 1) * substeps)
    times, zs = etdrk4(lin, nonlinear, z0, h, (nt - 1) * substeps, save_every=substeps)
    u = np.fft.irfft(zs[:, :m], n, axis=1).T
    v = np.fft.irfft(zs[:, m:], n, axis=1).T
    return x, times, u, v


@functools.lru_cache(maxsize=4)
def _cached(du, dv, feed, kill, t_end):
    x, t, u, v = solve_gray_scott(du, dv, feed, kill, t_end=t_end)
    for a in (x, t, u, v):
        a.setflags(write=False)
    return x, t, u, v


@dataclass
class GrayScott(AbstractProblem):
    """Gray-Scott reaction-diffusion system, two fields, periodic in ``x``::

        u_t = Du u_xx - u v^2 + F (1 - u)            (residual "u")
        v_t = Dv v_xx + u v^2 - (F + k) v            (residual "v")

    on ``x in [-1, 1]``, ``t in [0, t_end]``, with ``u(x, 0) = 1 - b(x) / 2``, ``v(x, 0) = b(x) / 2``,
    ``b(x) = ((1 + cos(pi x)) / 2)^8`` (conditions "ic_u", "ic_v"), ``u, v`` and their ``x``-derivatives
    periodic ("periodic_x"). Defaults ``Du = 0.01``, ``Dv = 0.005``, ``F = 1``, ``k = 1``, ``t_end = 1``
    (a fast-reacting, time-rescaled Gray-Scott model: the spot decays and spreads while ``u`` refills).

    Reference: Fourier pseudo-spectral ETDRK4 (:func:`solve_gray_scott`) on 256 points, step 5e-4,
    self-converged to better than 1e-9 (``tests/problems/test_gray_scott.py``), on the 256 x 101 grid
    ``x = -1 + 2 j / 256``, ``t = linspace(0, t_end, 101)``. Computed once per parameter set (cached).

    Hard constraint (:meth:`output_transform`): ``(u, v) = initial + t raw`` satisfies both initial conditions.
    """

    name = "gray_scott"
    fields = ("u", "v")
    hard_satisfies = ("ic_u", "ic_v")

    Du: float = 0.01
    Dv: float = 0.005
    F: float = 1.0
    k: float = 1.0
    t_end: float = 1.0

    def __post_init__(self):
        check_positive("Du", self.Du)
        check_positive("Dv", self.Dv)
        check_positive("F (feed rate)", self.F, allow_zero=True)
        check_positive("k (kill rate)", self.k, allow_zero=True)
        check_positive("t_end", self.t_end)

    def default_model(self):
        from pde.models import MLP, PeriodicEmbedding

        return MLP(width=64, depth=4, embedding=PeriodicEmbedding({"x": 2.0}, n_harmonics=4))

    def default_settings(self):
        return {"hard": True, "n_interior": 4000, "steps": 4000, "lr": 1e-3, "lbfgs_steps": 3000}

    @property
    def domain(self):
        return SpaceTime(Interval(-1.0, 1.0), TimeInterval(0.0, self.t_end))

    @staticmethod
    def initial_values(points: torch.Tensor) -> torch.Tensor:
        """``(N, 2)``: ``u(x, 0)``, ``v(x, 0)``."""
        b = ((1.0 + torch.cos(math.pi * points[:, 0])) / 2.0) ** 8
        return torch.stack([1.0 - 0.5 * b, 0.5 * b], dim=1)

    def residual(self, d):
        u, v = d["u"], d["v"]
        uvv = u * v * v
        return {"u": d("u", "t") - self.Du * d("u", "x", "x") + uvv - self.F * (1.0 - u),
                "v": d("v", "t") - self.Dv * d("v", "x", "x") - uvv + (self.F + self.k) * v}

    def conditions(self):
        return [Initial(lambda p: self.initial_values(p)[:, 0], field="u", name="ic_u"),
                Initial(lambda p: self.initial_values(p)[:, 1], field="v", name="ic_v"),
                Periodic("x", fields=("u", "v"), order=1)]

    def output_transform(self, points, raw):
        """``(N, 2)``: ``initial + t raw``."""
        return self.initial_values(points) + points[:, 1:2] * raw

    def reference(self):
        x, t, u, v = _cached(float(self.Du), float(self.Dv), float(self.F), float(self.k), float(self.t_end))
        vals = np.stack([u, v], axis=-1)
        return Reference.on_grid({"x": x.copy(), "t": t.copy()}, vals,
                                 f"Fourier pseudo-spectral ETDRK4, {NX_REF} points, "
                                 f"step {self.t_end / ((NT_REF - 1) * 20):g}")

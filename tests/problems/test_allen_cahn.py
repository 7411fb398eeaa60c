"""Allen-Cahn: the ETDRK4 solver is correct (exact cases, fourth order) and its reference converged to 1e-6."""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from problem_helpers import residual_at

from problems import AllenCahn, etdrk4, solve_allen_cahn
from problems._etdrk4 import fourier_wavenumbers


def test_etdrk4_exact_for_linear_diffusion():
    n, D = 64, 0.05
    x = -1 + 2 * np.arange(n) / n
    u0 = np.sin(np.pi * x) + 0.3 * np.cos(3 * np.pi * x)
    k = fourier_wavenumbers(n, 2.0)
    _, vs = etdrk4(-D * k ** 2, lambda v, t: np.zeros_like(v), np.fft.rfft(u0), 0.1, 10)
    exact = np.exp(-D * np.pi ** 2) * np.sin(np.pi * x) + 0.3 * np.exp(-9 * D * np.pi ** 2) * np.cos(3 * np.pi * x)
    assert np.abs(np.fft.irfft(vs[-1], n) - exact).max() < 1e-13


def test_solver_exact_for_reaction_ode_fourth_order():
    # diffusion 0: every point follows u' = r (u - u^3), u = u0 e^{rt} / sqrt(1 + u0^2 (e^{2rt} - 1))
    r = 5.0

    def err(substeps):
        x, t, u = solve_allen_cahn(0.0, r, n=64, substeps=substeps, nt=11, initial=lambda x: 0.9 * np.sin(np.pi * x))
        u0 = 0.9 * np.sin(np.pi * x)[:, None]
        e = np.exp(r * t)[None, :]
        return np.abs(u - u0 * e / np.sqrt(1 + u0 ** 2 * (e ** 2 - 1))).max()

    e1, e2, e3 = err(4), err(8), err(16)
    assert e3 < 1e-6
    assert math.log2(e1 / e2) > 3.6 and math.log2(e2 / e3) > 3.6  # fourth order


def test_etdrk4_manufactured_diffusion_reaction_fourth_order():
    # u* = a(t) sin(pi x) solves u_t = D u_xx + r (u - u^3) + f with the forcing f below
    n, D, r = 32, 0.05, 5.0
    x = -1 + 2 * np.arange(n) / n
    s = np.sin(np.pi * x)
    a = lambda t: 0.8 * np.cos(3 * t)  # noqa: E731
    da = lambda t: -2.4 * np.sin(3 * t)  # noqa: E731
    k = fourier_wavenumbers(n, 2.0)

    def forcing(t):
        u = a(t) * s
        return da(t) * s + D * np.pi ** 2 * u - r * (u - u ** 3)

    def nonlinear(v, t):
        u = np.fft.irfft(v, n)
        return np.fft.rfft(r * (u - u ** 3) + forcing(t))

    def err(steps):
        _, vs = etdrk4(-D * k ** 2, nonlinear, np.fft.rfft(a(0) * s), 1.0 / steps, steps)
        return np.abs(np.fft.irfft(vs[-1], n) - a(1.0) * s).max()

    e1, e2, e3 = err(20), err(40), err(80)
    assert e3 < 2e-7
    assert math.log2(e1 / e2) > 3.5 and math.log2(e2 / e3) > 3.5


def test_reference_self_converged_to_1e6():
    p = AllenCahn()
    t0 = time.perf_counter()
    ref = p.reference()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = p.reference()
    assert time.perf_counter() - t0 < 0.5 * first + 0.05  # cached
    np.testing.assert_array_equal(ref.values, again.values)
    assert ref.shape == (512, 201) and ref.values.shape == (512 * 201, 1)
    assert list(ref.axes) == ["x", "t"]
    np.testing.assert_allclose(ref.axes["x"][:2], [-1.0, -1.0 + 2 / 512])
    np.testing.assert_allclose(ref.axes["t"][[0, 1, -1]], [0.0, 0.005, 1.0])
    u = ref.values.reshape(512, 201)
    x = ref.axes["x"]
    np.testing.assert_allclose(u[:, 0], x ** 2 * np.cos(np.pi * x), atol=1e-15)
    assert np.abs(u).max() < 1.0 + 1e-3
    # halving the step and doubling the modes changes the solution by < 1e-6
    _, _, fine = solve_allen_cahn(p.diffusion, p.reaction, n=2 * p.solver_points, substeps=2 * p.solver_substeps)
    assert np.abs(fine[::2 * p.solver_points // 512] - u).max() < 1e-6
    # while a coarse solve is detectably off: the check can fail
    _, _, coarse = solve_allen_cahn(p.diffusion, p.reaction, n=512, substeps=2)
    assert np.abs(coarse - u).max() > 1e-5


def test_residual_vanishes_on_stationary_front():
    # u = tanh(a x), a = sqrt(reaction / (2 diffusion)), solves the equation on the real line
    p = AllenCahn()
    a = math.sqrt(p.reaction / (2 * p.diffusion))

    class Front(torch.nn.Module):
        def forward(self, pts):
            return torch.tanh(a * pts[:, :1]) + 0 * pts[:, 1:2]

    pts = torch.stack([torch.linspace(-0.05, 0.05, 101, dtype=torch.float64),
                       torch.linspace(0, 1, 101, dtype=torch.float64)], 1)
    assert float(residual_at(p, Front(), pts).abs().max()) < 1e-11

    class Shifted(Front):
        def forward(self, pts):
            return torch.tanh(1.1 * a * pts[:, :1])

    assert float(residual_at(p, Shifted(), pts).abs().max()) > 0.1

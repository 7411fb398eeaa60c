"""Classical solvers against exact or manufactured solutions (float64, stated tolerances)."""

import numpy as np
import pytest

from operators.solvers import solve_burgers, solve_darcy, solve_navier_stokes, solve_poisson_periodic
from operators.solvers.navier_stokes import fno_forcing


def _darcy_manufactured(n):
    x = np.linspace(0, 1, n)
    X, Y = np.meshgrid(x, x, indexing="ij")
    u = np.sin(np.pi * X) * np.sin(np.pi * Y)
    a = 1 + X * Y
    ux, uy = np.pi * np.cos(np.pi * X) * np.sin(np.pi * Y), np.pi * np.sin(np.pi * X) * np.cos(np.pi * Y)
    f = -(Y * ux + X * uy - a * 2 * np.pi**2 * u)  # -div(a grad u)
    return a, f, u


def test_darcy_constant_coefficient_manufactured():
    n = 65
    x = np.linspace(0, 1, n)
    X, Y = np.meshgrid(x, x, indexing="ij")
    exact = np.sin(np.pi * X) * np.sin(2 * np.pi * Y)
    u = solve_darcy(3.0 * np.ones((n, n)), 3.0 * 5 * np.pi**2 * exact)
    assert np.abs(u - exact).max() < 2e-3
    assert np.all(u[0] == 0) and np.all(u[:, -1] == 0)


def test_darcy_variable_coefficient_second_order():
    errs = []
    for n in (17, 33, 65):
        a, f, exact = _darcy_manufactured(n)
        errs.append(np.abs(solve_darcy(a, f) - exact).max())
    slopes = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(slopes > 1.8), (errs, slopes)
    assert errs[-1] < 1e-3


def test_burgers_cole_hopf():
    nu, n = 0.1, 256
    x = np.arange(n) / n

    def exact(t):  # u = -2 nu phi_x / phi, phi = 2 + exp(-4 pi^2 nu t) cos(2 pi x)
        e = np.exp(-4 * np.pi**2 * nu * t)
        return 4 * np.pi * nu * e * np.sin(2 * np.pi * x) / (2 + e * np.cos(2 * np.pi * x))

    u = solve_burgers(exact(0.0)[None], nu, np.array([0.0, 0.3, 1.0]), dt=1e-3)
    for i, t in enumerate((0.0, 0.3, 1.0)):
        assert np.abs(u[0, i] - exact(t)).max() < 1e-8


def test_burgers_heat_limit():
    # small amplitude: the nonlinear term is O(eps^2), the solution decays like the heat equation
    nu, n, eps = 0.05, 64, 1e-6
    x = np.arange(n) / n
    u = solve_burgers(eps * np.sin(2 * np.pi * x)[None], nu, np.array([0.5]), dt=1e-2)
    exact = eps * np.exp(-4 * np.pi**2 * nu * 0.5) * np.sin(2 * np.pi * x)
    assert np.abs(u[0, 0] - exact).max() < 1e-6 * eps


def test_navier_stokes_taylor_green_decay():
    n, nu, t = 32, 1e-2, 0.5
    x = np.arange(n) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    w0 = np.sin(2 * np.pi * X) * np.sin(2 * np.pi * Y) + np.cos(2 * np.pi * X) * np.cos(2 * np.pi * Y)
    w = solve_navier_stokes(w0[None], nu, np.array([t]), dt=1e-2)
    assert np.abs(w[0, 0] - w0 * np.exp(-8 * np.pi**2 * nu * t)).max() < 1e-12


def test_navier_stokes_forced_single_shell_exact():
    n, nu, t = 32, 1e-3, 3.0
    f = fno_forcing(n)
    lam = 8 * np.pi**2 * nu
    w = solve_navier_stokes(np.zeros((1, n, n)), nu, np.array([t]), forcing=f, dt=1e-2)
    assert np.abs(w[0, 0] - f / lam * (1 - np.exp(-lam * t))).max() < 1e-10


def test_navier_stokes_advection_small_time_taylor():
    # (w(t) - w0)/t -> -u.grad w0 + nu Lap w0, with u from psi computed independently (analytic derivatives)
    n, nu, t = 64, 0.0, 1e-4
    x = np.arange(n) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    p2 = 2 * np.pi
    # psi = sin(2 pi x) cos(4 pi y) / (5 (2 pi)^2) + cos(6 pi x) / (9 (2 pi)^2)
    w0 = np.sin(p2 * X) * np.cos(p2 * 2 * Y) + np.cos(p2 * 3 * X)  # = -Lap psi
    u = -np.sin(p2 * X) * 2 * p2 * np.sin(p2 * 2 * Y) / (5 * p2**2)  # psi_y
    v = -(p2 * np.cos(p2 * X) * np.cos(p2 * 2 * Y) / (5 * p2**2) - 3 * p2 * np.sin(p2 * 3 * X) / (9 * p2**2))
    wx = p2 * np.cos(p2 * X) * np.cos(p2 * 2 * Y) - 3 * p2 * np.sin(p2 * 3 * X)
    wy = -2 * p2 * np.sin(p2 * X) * np.sin(p2 * 2 * Y)
    lap = -5 * p2**2 * np.sin(p2 * X) * np.cos(p2 * 2 * Y) - 9 * p2**2 * np.cos(p2 * 3 * X)
    tendency = -(u * wx + v * wy) + nu * lap
    w = solve_navier_stokes(w0[None], nu, np.array([t]), dt=t / 4)
    approx = (w[0, 0] - w0) / t
    assert np.abs(tendency).max() > 0.1  # the advection term is not trivially zero here
    assert np.abs(approx - tendency).max() < 1e-2 * np.abs(tendency).max()


@pytest.mark.parametrize("method,tol", [("spectral", 1e-12), ("fd", 5e-3)])
def test_poisson_periodic(method, tol):
    n = 64
    x = np.arange(n) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    exact = np.sin(2 * np.pi * X) * np.cos(4 * np.pi * Y)
    u = solve_poisson_periodic(20 * np.pi**2 * exact, method=method)
    assert np.abs(u - exact).max() < tol

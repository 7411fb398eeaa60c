"""Viscous Burgers ``u_t + (u^2/2)_x = nu u_xx`` on the periodic interval ``[0, 1)``.

Pseudo-spectral in space (FFT, 2/3-rule dealiasing of the quadratic term) and integrating-factor
fourth-order Runge-Kutta in time: the stiff diffusion ``-nu (2 pi k)^2`` is integrated exactly by the
factor ``E = exp(-nu (2 pi k)^2 dt)``, the nonlinear term ``N(u) = -i pi k FFT(u^2)`` by classical RK4::

    k1 = N(u_n); k2 = N(E2 (u_n + dt/2 k1)); k3 = N(E2 u_n + dt/2 k2); k4 = N(E u_n + dt E2 k3)
    u_{n+1} = E u_n + dt/6 (E k1 + 2 E2 (k2 + k3) + k4),   E2 = exp(-nu (2 pi k)^2 dt/2)
"""

from __future__ import annotations

import numpy as np

from ._ifrk4 import integrating_factor_rk4


def solve_burgers(u0: np.ndarray, nu: float, t_out: np.ndarray, dt: float = 1e-4) -> np.ndarray:
    """Integrate a batch of initial conditions.

    ``u0``: ``(B, N)`` values on ``x_j = j/N``; ``t_out``: increasing output times ``(T,)`` (>= 0).
    Returns ``(B, T, N)`` float64. ``dt`` is shrunk so that every output time is hit exactly.
    """
    u0 = np.atleast_2d(np.asarray(u0, dtype=np.float64))
    n = u0.shape[-1]
    k = np.fft.rfftfreq(n, d=1.0 / n)
    dealias = (k < n / 3.0).astype(np.float64)
    lin = -nu * (2 * np.pi * k) ** 2

    def nonlin(uh):
        u = np.fft.irfft(uh * dealias, n=n)
        return -1j * np.pi * k * np.fft.rfft(u * u) * dealias

    out = np.empty((u0.shape[0], len(t_out), n))
    return integrating_factor_rk4(np.fft.rfft(u0), lin, nonlin, t_out, dt, lambda uh: np.fft.irfft(uh, n=n), out)

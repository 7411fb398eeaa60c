"""2-D incompressible Navier-Stokes in vorticity form on the unit torus ``[0, 1)^2``::

    w_t + u . grad w = nu Lap w + f,    u = (psi_y, -psi_x),    -Lap psi = w

Pseudo-spectral (FFT, 2/3-rule dealiasing of the advection term), integrating-factor RK4 in time
(diffusion ``-nu 4 pi^2 |k|^2`` integrated exactly, advection and forcing by RK4; same scheme as
:mod:`operators.solvers.burgers`). The FNO paper's forcing is
``f(x, y) = 0.1 (sin(2 pi (x + y)) + cos(2 pi (x + y)))`` (:func:`fno_forcing`).
"""

from __future__ import annotations

import numpy as np

from ._ifrk4 import integrating_factor_rk4


def fno_forcing(n: int) -> np.ndarray:
    """The FNO forcing on the ``n x n`` grid ``x_i = i/n``; shape ``(n, n)``."""
    x = np.arange(n) / n
    s = x[:, None] + x[None, :]
    return 0.1 * (np.sin(2 * np.pi * s) + np.cos(2 * np.pi * s))


def solve_navier_stokes(w0: np.ndarray, nu: float, t_out: np.ndarray, forcing: np.ndarray | None = None,
                        dt: float = 1e-3) -> np.ndarray:
    """Integrate a batch of initial vorticities ``w0`` of shape ``(B, n, n)`` (axis 1 is ``x``).

    ``forcing``: ``(n, n)`` or ``None``; ``t_out``: increasing output times ``(T,)``.
    Returns ``(B, T, n, n)`` float64.
    """
    w0 = np.asarray(w0, dtype=np.float64)
    if w0.ndim == 2:
        w0 = w0[None]
    n = w0.shape[-1]
    kx = np.fft.fftfreq(n, d=1.0 / n)[:, None]
    ky = np.fft.rfftfreq(n, d=1.0 / n)[None, :]
    k2 = 4 * np.pi**2 * (kx**2 + ky**2)
    inv_k2 = np.where(k2 > 0, 1.0 / np.where(k2 > 0, k2, 1.0), 0.0)
    dealias = ((np.abs(kx) < n / 3.0) & (ky < n / 3.0)).astype(np.float64)
    lin = -nu * k2
    fh = np.zeros_like(k2, dtype=complex) if forcing is None else np.fft.rfft2(forcing)
    ikx, iky = 2j * np.pi * kx, 2j * np.pi * ky

    def nonlin(wh):
        wd = wh * dealias
        psi = wd * inv_k2
        u = np.fft.irfft2(iky * psi, s=(n, n))
        v = np.fft.irfft2(-ikx * psi, s=(n, n))
        wx = np.fft.irfft2(ikx * wd, s=(n, n))
        wy = np.fft.irfft2(iky * wd, s=(n, n))
        return -np.fft.rfft2(u * wx + v * wy) * dealias + fh

    out = np.empty((w0.shape[0], len(t_out), n, n))
    return integrating_factor_rk4(np.fft.rfft2(w0), lin, nonlin, t_out, dt, lambda wh: np.fft.irfft2(wh, s=(n, n)),
                                  out)

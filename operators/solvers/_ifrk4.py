"""Integrating-factor fourth-order Runge-Kutta in Fourier space, shared by the spectral solvers.

For ``d uh/dt = lin * uh + nonlin(uh)`` (``lin`` diagonal), with ``E = exp(lin h)`` and
``E2 = exp(lin h / 2)``, one step is the classical RK4 applied to ``exp(-lin t) uh``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def integrating_factor_rk4(uh: np.ndarray, lin: np.ndarray, nonlin: Callable[[np.ndarray], np.ndarray],
                           t_out, dt: float, to_grid: Callable[[np.ndarray], np.ndarray],
                           out: np.ndarray) -> np.ndarray:
    """Advance ``uh`` from t = 0 and store ``to_grid(uh)`` at each time of ``t_out`` into ``out[:, i]``.

    Steps are at most ``dt`` and land exactly on every output time. Returns ``out``.
    """
    t = 0.0
    for i, t_next in enumerate(np.asarray(t_out, dtype=np.float64)):
        steps = int(np.ceil((t_next - t) / dt - 1e-9))
        if steps > 0:
            h = (t_next - t) / steps
            e, e2 = np.exp(lin * h), np.exp(lin * h / 2)
            for _ in range(steps):
                k1 = nonlin(uh)
                k2 = nonlin(e2 * (uh + 0.5 * h * k1))
                k3 = nonlin(e2 * uh + 0.5 * h * k2)
                k4 = nonlin(e * uh + h * e2 * k3)
                uh = e * uh + h / 6 * (e * k1 + 2 * e2 * (k2 + k3) + k4)
            t = t_next
        out[:, i] = to_grid(uh)
    return out

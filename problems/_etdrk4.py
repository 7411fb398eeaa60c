"""ETDRK4 time stepping for semilinear PDEs ``v_t = L v + N(v, t)`` with diagonal ``L``.

Cox & Matthews (2002) exponential time differencing, fourth order, with the phi
functions evaluated by contour integrals (Kassam & Trefethen 2005, SIAM J. Sci.
Comput. 26:1214), which avoids the cancellation of ``(e^z - 1 - z) / z^2``
near ``z = 0``. Used with a Fourier pseudo-spectral discretisation, ``v`` are
Fourier coefficients and ``L`` the (diagonal) linear operator.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["etdrk4", "etdrk4_coefficients", "fourier_wavenumbers"]


def etdrk4_coefficients(L: np.ndarray, h: float, contour_points: int = 64):
    """``(E, E2, Q, f1, f2, f3)`` of ETDRK4 for the diagonal ``L`` (any shape) and step ``h``."""
    real = np.isrealobj(L)
    L = np.asarray(L, dtype=np.complex128)
    E, E2 = np.exp(h * L), np.exp(h * L / 2)
    r = np.exp(1j * np.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points)
    LR = h * L[..., None] + r  # points on circles of radius 1 around each h L
    Q = h * np.mean((np.exp(LR / 2) - 1) / LR, axis=-1)
    f1 = h * np.mean((-4 - LR + np.exp(LR) * (4 - 3 * LR + LR ** 2)) / LR ** 3, axis=-1)
    f2 = h * np.mean((2 + LR + np.exp(LR) * (-2 + LR)) / LR ** 3, axis=-1)
    f3 = h * np.mean((-4 - 3 * LR - LR ** 2 + np.exp(LR) * (4 - LR)) / LR ** 3, axis=-1)
    if real:
        E, E2, Q, f1, f2, f3 = (np.real(a) for a in (E, E2, Q, f1, f2, f3))
    return E, E2, Q, f1, f2, f3


def etdrk4(L: np.ndarray, N: Callable[[np.ndarray, float], np.ndarray], v0: np.ndarray, h: float, steps: int,
           *, t0: float = 0.0, save_every: int = 1, contour_points: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Integrate ``v_t = L v + N(v, t)`` from ``t0`` for ``steps`` steps of size ``h``.

    ``L``: diagonal of the linear operator, same shape as ``v0``. ``N(v, t)`` returns an
    array like ``v``. Returns ``(times, states)``: the saved times ``(S,)`` (``t0`` and every
    ``save_every``-th step) and the states ``(S, *v0.shape)``.
    """
    if h <= 0 or steps < 0 or save_every < 1:
        raise ValueError(f"need h > 0, steps >= 0, save_every >= 1; got h={h}, steps={steps}, "
                         f"save_every={save_every}")
    E, E2, Q, f1, f2, f3 = etdrk4_coefficients(L, h, contour_points)
    v = np.array(v0)
    times, states = [t0], [v.copy()]
    t = t0
    for k in range(1, steps + 1):
        Nv = N(v, t)
        a = E2 * v + Q * Nv
        Na = N(a, t + h / 2)
        b = E2 * v + Q * Na
        Nb = N(b, t + h / 2)
        c = E2 * a + Q * (2 * Nb - Nv)
        Nc = N(c, t + h)
        v = E * v + Nv * f1 + 2 * (Na + Nb) * f2 + Nc * f3
        t = t0 + k * h
        if k % save_every == 0:
            times.append(t)
            states.append(v.copy())
    return np.array(times), np.stack(states)


def fourier_wavenumbers(n: int, length: float) -> np.ndarray:
    """Angular wavenumbers ``(n // 2 + 1,)`` of ``numpy.fft.rfft`` on ``n`` points of a period ``length``."""
    return 2 * np.pi * np.fft.rfftfreq(n, d=length / n)

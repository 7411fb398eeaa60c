"""Periodic Poisson ``-Lap u = f`` on the unit torus ``[0, 1)^2`` (``f`` and ``u`` mean zero).

Two reference solvers: ``method="spectral"`` (FFT, exact for band-limited ``f``) and ``method="fd"``
(second-order 5-point finite differences, sparse direct solve with the mean fixed to zero), the
latter being the "numerical solver at equal accuracy" that Neural Spectral Methods is timed against.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def solve_poisson_periodic(f: np.ndarray, method: str = "spectral") -> np.ndarray:
    """Solve on the ``n x n`` grid ``x_i = i/n``. ``f``: ``(n, n)`` or ``(B, n, n)``. Returns same shape."""
    f = np.asarray(f, dtype=np.float64)
    n = f.shape[-1]
    if method == "spectral":
        k = np.fft.fftfreq(n, d=1.0 / n)
        k2 = 4 * np.pi**2 * (k[:, None] ** 2 + k[None, :] ** 2)
        k2[0, 0] = np.inf
        return np.real(np.fft.ifft2(np.fft.fft2(f) / k2))
    if method == "fd":
        h2 = (1.0 / n) ** 2
        e = np.ones(n)
        d1 = sp.diags([-e[:-1], 2 * e, -e[:-1]], [-1, 0, 1], shape=(n, n), format="lil")
        d1[0, -1] = d1[-1, 0] = -1.0
        eye = sp.identity(n)
        a = (sp.kron(d1, eye) + sp.kron(eye, d1)).tolil() / h2
        a[0, :] = 0.0
        a[0, 0] = 1.0  # pin u_00; remove the mean afterwards
        lu = spla.splu(a.tocsc())
        fb = f.reshape(-1, n * n).copy()
        fb -= fb.mean(axis=1, keepdims=True)
        fb[:, 0] = 0.0
        u = np.stack([lu.solve(r) for r in fb]).reshape(f.shape)
        return u - u.mean(axis=(-2, -1), keepdims=True)
    raise ValueError(f"method must be 'spectral' or 'fd', got {method!r}")

"""Gaussian random fields (GRF) used as random inputs of the operator datasets.

Two constructions, both driven by an explicit ``numpy.random.Generator``:

* :func:`periodic_grf` -- a stationary field on the unit torus ``[0, 1)^d`` with covariance
  ``C = sigma^2 (-Lap + tau^2 I)^(-alpha)``, sampled exactly in the Fourier basis
  ``u = sum_k sqrt(lambda_k) xi_k e^{2 pi i k.x}`` with ``lambda_k = sigma^2 (4 pi^2 |k|^2 + tau^2)^(-alpha)``
  and the mean (``k = 0``) mode removed. Used for Burgers and Navier-Stokes initial data.
* :func:`neumann_grf_2d` -- a field on ``[0, 1]^2`` expanded in the Neumann eigenfunctions
  ``cos(pi k1 x) cos(pi k2 y)`` with eigenvalues ``lambda_k = tau^(2 alpha - 2) (pi^2 |k|^2 + tau^2)^(-alpha)``,
  as in the FNO paper's Darcy inputs (``alpha = 2, tau = 3``).
"""

from __future__ import annotations

import numpy as np


def periodic_grf(rng: np.random.Generator, batch: int, shape: tuple[int, ...], alpha: float, tau: float,
                 sigma: float) -> np.ndarray:
    """Sample ``batch`` periodic GRFs on a uniform grid of ``shape`` points (endpoint excluded).

    Returns an array of shape ``(batch, *shape)`` in float64.
    """
    d = len(shape)
    ks = np.meshgrid(*[np.fft.fftfreq(n, d=1.0 / n) for n in shape], indexing="ij")
    k2 = sum(k**2 for k in ks)
    lam = sigma**2 * (4 * np.pi**2 * k2 + tau**2) ** (-alpha)
    lam[(0,) * d] = 0.0
    noise = rng.standard_normal((batch, *shape))
    axes = tuple(range(1, d + 1))
    coef = np.fft.fftn(noise, axes=axes) * np.sqrt(lam)
    return np.real(np.fft.ifftn(coef, axes=axes)) * np.sqrt(np.prod(shape))


def neumann_grf_2d(rng: np.random.Generator, batch: int, n: int, alpha: float = 2.0, tau: float = 3.0,
                   n_modes: int = 64) -> np.ndarray:
    """Sample ``batch`` GRFs on the ``n x n`` node grid of ``[0, 1]^2`` (endpoints included).

    Cosine expansion truncated at ``n_modes`` per direction; shape ``(batch, n, n)``, float64.
    """
    k = np.arange(n_modes)
    k1, k2 = np.meshgrid(k, k, indexing="ij")
    lam = tau ** (2 * alpha - 2) * (np.pi**2 * (k1**2 + k2**2) + tau**2) ** (-alpha)
    lam[0, 0] = 0.0
    coef = rng.standard_normal((batch, n_modes, n_modes)) * np.sqrt(lam)
    x = np.linspace(0.0, 1.0, n)
    basis = np.cos(np.pi * np.outer(x, k))  # (n, K)
    norm = np.where(k == 0, 1.0, np.sqrt(2.0))  # orthonormal cosines
    basis = basis * norm
    return np.einsum("ik,bkl,jl->bij", basis, coef, basis)

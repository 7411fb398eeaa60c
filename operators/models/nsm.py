"""Neural Spectral Methods models (Du, Chalapathi, Krishnapriyan, ICLR 2024): :class:`NSM` (Fourier basis, 2-D
periodic) and :class:`NSMChebFourier` (Chebyshev in ``t`` x Fourier in ``x``, for time-dependent 1-D periodic
problems; basis and transforms documented below, before the class).

The model maps spectral coefficients to spectral coefficients. Coefficients use the ``rfft2`` layout of
a band-limited real field with ``M`` modes per axis: ``c[..., kx, ky]`` for ``kx in [-M, M)`` (FFT order,
``2M`` rows) and ``ky in [0, M]`` (``M + 1`` columns), normalised so that ``u(x) = sum_k c_k e^{2 pi i k.x}``.
Shapes: input ``(B, in_channels, 2M, M + 1)`` complex, output ``(B, out_channels, 2M, M + 1)`` complex.

Layers (all linear maps act on coefficients; nonlinearities act on a collocation grid of ``G >= 2M``
points per axis, reached by the exact inverse transform of the truncated series and projected back)::

    v_0 = P c                                      channel lifting (real matrix, commutes with F)
    v_{l+1} = F_M sigma(F^-1 (R_l(k) v_l + W_l v_l))   R_l(k): per-mode complex channel mixing
    u = F_M Q(F^-1 v_L) + D(k) c                   Q: pointwise MLP; D(k): per-mode spectral skip

``F_M`` truncates to the ``M`` retained modes. The cost is independent of the output resolution: the
solution at any grid follows from the coefficients. The spectral skip ``D(k)`` (per-mode linear map from
the input coefficients, our addition) lets the network represent linear solution operators such as the
Poisson inverse exactly, leaving the nonlinear layers the nonlinear part.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def to_grid(c: torch.Tensor, grid: int) -> torch.Tensor:
    """Evaluate the truncated series ``(B, C, 2M, M+1)`` on a ``grid x grid`` uniform grid -> ``(B, C, grid, grid)``."""
    m2, m1 = c.shape[-2], c.shape[-1]
    m = m2 // 2
    full = torch.zeros(*c.shape[:-2], grid, grid // 2 + 1, dtype=c.dtype, device=c.device)
    full[..., :m, :m1] = c[..., :m, :]
    full[..., grid - m:, :m1] = c[..., m:, :]
    return torch.fft.irfft2(full * grid * grid, s=(grid, grid))


def to_coef(u: torch.Tensor, m: int) -> torch.Tensor:
    """Truncated normalised coefficients ``(B, C, 2m, m+1)`` of grid values ``(B, C, G, G)``."""
    g = u.shape[-1]
    uh = torch.fft.rfft2(u) / (g * u.shape[-2])
    return torch.cat([uh[..., :m, : m + 1], uh[..., g - m:, : m + 1]], dim=-2)


class NSM(nn.Module):
    """``NSM(in_channels, out_channels, n_modes=M, hidden_channels=32, n_layers=4, grid=None)``."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, n_modes: int = 16, hidden_channels: int = 32,
                 n_layers: int = 4, grid: int | None = None, spectral_skip: bool = True):
        super().__init__()
        self.m, self.grid = n_modes, grid or 2 * n_modes
        h = hidden_channels
        self.lift = nn.Linear(in_channels, h, bias=False)
        scale = 1.0 / h
        self.R = nn.ParameterList(nn.Parameter(scale * torch.randn(h, h, 2 * n_modes, n_modes + 1, 2))
                                  for _ in range(n_layers))
        self.W = nn.ModuleList(nn.Linear(h, h) for _ in range(n_layers))
        self.Q = nn.Sequential(nn.Conv2d(h, 4 * h, 1), nn.GELU(), nn.Conv2d(4 * h, out_channels, 1))
        self.D = (nn.Parameter(torch.zeros(in_channels, out_channels, 2 * n_modes, n_modes + 1, 2))
                  if spectral_skip else None)
        if spectral_skip:
            # the nonlinear branch starts at zero, so a linear operator is fitted by D(k) without first undoing a
            # random nonlinear output (Poisson: rel. L2 4.9e-3 vs 5.6e-3 after 800 steps)
            nn.init.zeros_(self.Q[-1].weight)
            nn.init.zeros_(self.Q[-1].bias)

    @staticmethod
    def _channels(lin: nn.Linear, c: torch.Tensor) -> torch.Tensor:
        """Apply a real channel matrix to complex coefficients ``(B, C, ...)``; a bias only hits the mean mode."""
        out = torch.einsum("bi...,oi->bo...", c, lin.weight.to(c.dtype))
        if lin.bias is not None:
            out[..., 0, 0] = out[..., 0, 0] + lin.bias.to(c.dtype)
        return out

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        v = self._channels(self.lift, c)
        for R, W in zip(self.R, self.W, strict=True):
            v = torch.einsum("bi...,io...->bo...", v, torch.view_as_complex(R)) + self._channels(W, v)
            v = to_coef(F.gelu(to_grid(v, self.grid)), self.m)
        u = to_coef(self.Q(to_grid(v, self.grid)), self.m)
        if self.D is not None:
            u = u + torch.einsum("bi...,io...->bo...", c, torch.view_as_complex(self.D))
        return u


# ---------------------------------------------------------------------------------------------------------------
# Chebyshev (time) x Fourier (space) basis for time-dependent problems on [0, T] x [0, 1)_periodic.
#
# A field is ``u(t, x) = sum_{n < N} sum_{|k| < K} c[n, k] T_n(2 t / T - 1) e^{2 pi i k x}`` with the real-field
# symmetry ``c[n, -k] = conj(c[n, k])``; only ``k = 0 .. K-1`` is stored, so coefficient arrays are
# ``(..., N, K)`` complex with a real ``k = 0`` column. Collocation grids are ``(..., Gt, Gx)`` real: ``Gt``
# Chebyshev-Gauss-Lobatto times ``t_j = T (1 - cos(pi j / (Gt - 1))) / 2`` (ascending, ``t_0 = 0``,
# ``t_{Gt-1} = T``) by ``Gx`` uniform points ``x_i = i / Gx``. Both transforms are exact (to round-off) on
# band-limited data: ``Gt >= N`` (Chebyshev interpolation reproduces polynomials of degree < Gt) and
# ``Gx >= 2K - 1`` (no aliasing of ``|k| < K``); with more grid points than modes ``to_coef`` interpolates
# on the grid and truncates.
# ---------------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _cheb_np(grid: int, modes: int) -> tuple[np.ndarray, np.ndarray]:
    """float64 ``(V, P)``: ``V[j, n] = T_n(s_j)`` ``(grid, modes)`` and the interpolation map ``P`` ``(modes, grid)``.

    ``s_j = -cos(pi j / (grid - 1))``; ``P`` is the first ``modes`` rows of the inverse of the square
    ``T_n(s_j)``, i.e. ``c_n = 2 / ((G - 1) g_n) sum_j w_j f_j T_n(s_j)`` with end weights ``w_0 = w_{G-1} = 1/2``
    and ``g_0 = g_{G-1} = 2`` (else 1) -- the discrete Chebyshev (DCT-I) transform.
    """
    if grid < 2:
        raise ValueError(f"a Chebyshev-Gauss-Lobatto grid needs >= 2 points, got {grid}")
    theta = np.pi - np.pi * np.arange(grid) / (grid - 1)  # s_j = cos(theta_j) ascending
    n_all = np.arange(grid)
    full = np.cos(np.outer(theta, n_all))  # (grid, grid): T_n(s_j)
    w = np.ones(grid)
    w[[0, -1]] = 0.5
    g = np.ones(grid)
    g[[0, -1]] = 2.0
    P = (2.0 / (grid - 1)) * (full * w[:, None]).T / g[:, None]  # (grid, grid)
    V = np.cos(np.outer(theta, np.arange(modes)))
    return V, (P[:modes].copy() if modes <= grid else np.pad(P, ((0, modes - grid), (0, 0))))


def cheb_times(grid: int, T: float = 1.0) -> np.ndarray:
    """The ``grid`` Chebyshev-Gauss-Lobatto times ``(grid,)`` on ``[0, T]``, ascending (float64)."""
    return T * (1.0 - np.cos(np.pi * np.arange(grid) / (grid - 1))) / 2.0


def cheb_apply(A: np.ndarray, c: torch.Tensor) -> torch.Tensor:
    """Apply the float64 matrix ``A`` ``(M, N)`` along the Chebyshev axis: ``(..., N, K) -> (..., M, K)``."""
    real = c.real.dtype if c.is_complex() else c.dtype
    return torch.einsum("mn,...nk->...mk", torch.as_tensor(A, dtype=real, device=c.device).to(c.dtype), c)


def fourier_to_grid(c: torch.Tensor, gx: int) -> torch.Tensor:
    """Fourier coefficients ``(..., K)`` (``0 <= k < K``, real field) -> values ``(..., gx)`` at ``x_i = i / gx``."""
    full = torch.zeros(*c.shape[:-1], gx // 2 + 1, dtype=c.dtype, device=c.device)
    full[..., : c.shape[-1]] = c
    return torch.fft.irfft(full * gx, n=gx)


def st_to_grid(c: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """Coefficients ``(..., N, K)`` complex -> values ``(..., Gt, Gx)`` real on the CGL x uniform grid.

    The series is real: the imaginary part of the ``k = 0`` column is dropped (as ``irfft`` does).
    """
    gt, gx = grid
    n, k = c.shape[-2:]
    if gx < 2 * k - 1:
        raise ValueError(f"Fourier grid of {gx} points aliases {k} modes; need >= {2 * k - 1}")
    V, _ = _cheb_np(gt, n)
    return fourier_to_grid(cheb_apply(V, c), gx)


def st_to_coef(u: torch.Tensor, modes: tuple[int, int]) -> torch.Tensor:
    """Values ``(..., Gt, Gx)`` real on the CGL x uniform grid -> coefficients ``(..., N, K)`` complex."""
    n, k = modes
    gt, gx = u.shape[-2:]
    if gx < 2 * k - 1:
        raise ValueError(f"Fourier grid of {gx} points cannot hold {k} modes; need >= {2 * k - 1}")
    uh = torch.fft.rfft(u) / gx
    if uh.shape[-1] < k:
        uh = torch.nn.functional.pad(uh, (0, k - uh.shape[-1]))
    _, P = _cheb_np(gt, n)
    return cheb_apply(P, uh[..., :k])


def cheb_eval(c: torch.Tensor, t: torch.Tensor | np.ndarray, T: float = 1.0) -> torch.Tensor:
    """Evaluate the Chebyshev direction at times ``t`` ``(M,)`` in ``[0, T]``: ``(..., N, K) -> (..., M, K)``."""
    s = np.clip(2.0 * np.asarray(t, dtype=np.float64) / T - 1.0, -1.0, 1.0)
    return cheb_apply(np.cos(np.outer(np.arccos(s), np.arange(c.shape[-2]))), c)


class NSMChebFourier(nn.Module):
    """NSM on ``[0, T] x [0, 1)_periodic``: Chebyshev coefficients in ``t`` times Fourier coefficients in ``x``.

    ``NSMChebFourier(in_channels, out_channels, n_modes=(N, K), hidden_channels=32, n_layers=4, grid=None)``.
    Input ``(B, in_channels, N, K)`` complex, output ``(B, out_channels, N, K)`` complex, in the layout of
    :func:`st_to_grid`. Same layer structure as :class:`NSM` (per-mode complex channel mixing ``R_l[n, k]``
    plus a pointwise channel matrix, activation on the collocation grid ``grid = (Gt, Gx)``, default
    ``(N, 2K)``, projected back by :func:`st_to_coef`; pointwise MLP ``Q`` on the grid). Per-mode weights in the
    Chebyshev direction act on whole coefficient rows, as in the paper's spectral layers (the Chebyshev
    basis has no convolution theorem); in ``x`` they are a Fourier convolution, so the map commutes with
    shifts in ``x``. The output layer starts at zero.
    """

    def __init__(self, in_channels: int = 2, out_channels: int = 1, n_modes: tuple[int, int] = (16, 32),
                 hidden_channels: int = 32, n_layers: int = 4, grid: tuple[int, int] | None = None,
                 activation: str = "gelu"):
        super().__init__()
        nt, nx = self.modes = tuple(n_modes)
        self.grid = tuple(grid) if grid else (nt, 2 * nx)
        acts = {"gelu": F.gelu, "tanh": torch.tanh, "relu": F.relu, "silu": F.silu}
        if activation not in acts:
            raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
        self.act = acts[activation]
        h = hidden_channels
        self.lift = nn.Linear(in_channels, h)
        self.R = nn.ParameterList(nn.Parameter(torch.randn(h, h, nt, nx, 2) / h) for _ in range(n_layers))
        self.W = nn.ModuleList(nn.Linear(h, h) for _ in range(n_layers))
        self.Q = nn.Sequential(nn.Conv2d(h, 4 * h, 1), nn.GELU(), nn.Conv2d(4 * h, out_channels, 1))
        nn.init.zeros_(self.Q[-1].weight)
        nn.init.zeros_(self.Q[-1].bias)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        v = NSM._channels(self.lift, c)
        for R, W in zip(self.R, self.W, strict=True):
            v = torch.einsum("bi...,io...->bo...", v, torch.view_as_complex(R)) + NSM._channels(W, v)
            v = st_to_coef(self.act(st_to_grid(v, self.grid)), self.modes)
        return st_to_coef(self.Q(st_to_grid(v, self.grid)), self.modes)

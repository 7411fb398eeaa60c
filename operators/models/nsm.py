"""Neural Spectral Methods model (Du, Chalapathi, Krishnapriyan, ICLR 2024), Fourier basis, 2-D periodic.

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

"""Fourier neural operator (Li et al., ICLR 2021) in 1, 2 and 3 dimensions.

Shapes: input ``(B, in_channels, *S)``, output ``(B, out_channels, *S)``, ``len(S) = len(n_modes)``;
any grid size ``S`` works with the same weights (resolution invariance). Architecture::

    v_0 = P(x, grid)                                  lifting: 1x1 conv, in_channels + d -> hidden
    v_{l+1} = sigma( K_l v_l + W_l v_l )              K_l: spectral convolution, W_l: 1x1 conv
    (K v)^(k) = R_l(k) v^(k) for |k_i| < n_modes_i     truncated Fourier modes, R_l(k) complex
    u = Q(v_L)                                        projection: 1x1 conv -> GELU -> 1x1 conv

The spectral convolution uses ``torch.fft.rfftn`` over the last ``d`` axes; on the half-spectrum axis
the lowest ``n_modes[-1]`` modes are kept, on the others the ``n_modes[i]`` lowest positive and negative.
``padding`` (fraction of the grid, default 0) zero-pads the domain before the Fourier layers for
non-periodic problems and is cropped afterwards.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


class SpectralConv(nn.Module):
    """Truncated-mode Fourier layer ``(B, C_in, *S) -> (B, C_out, *S)`` with complex weights per mode."""

    def __init__(self, in_channels: int, out_channels: int, n_modes: tuple[int, ...]):
        super().__init__()
        self.n_modes = tuple(int(m) for m in n_modes)
        d = len(self.n_modes)
        self.corners = list(itertools.product((0, 1), repeat=d - 1))  # sign of frequency on axes 0..d-2
        scale = 1.0 / (in_channels * out_channels)
        self.weight = nn.Parameter(scale * torch.rand(len(self.corners), in_channels, out_channels, *self.n_modes, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = len(self.n_modes)
        size = x.shape[-d:]
        xh = torch.fft.rfftn(x, dim=tuple(range(-d, 0)))
        out = torch.zeros(x.shape[0], self.weight.shape[2], *xh.shape[2:], dtype=xh.dtype, device=x.device)
        m = [min(self.n_modes[i], size[i] // 2) for i in range(d - 1)] + [min(self.n_modes[-1], xh.shape[-1])]
        w = torch.view_as_complex(self.weight)
        for c, corner in enumerate(self.corners):
            sl = tuple(slice(0, m[i]) if s == 0 else slice(size[i] - m[i], size[i]) for i, s in enumerate(corner))
            sl = (Ellipsis, *sl, slice(0, m[-1]))
            wsl = tuple(slice(0, m[i]) if s == 0 else slice(self.n_modes[i] - m[i], self.n_modes[i])
                        for i, s in enumerate(corner)) + (slice(0, m[-1]),)
            out[sl] = torch.einsum("bi...,io...->bo...", xh[sl], w[(c, slice(None), slice(None), *wsl)])
        return torch.fft.irfftn(out, s=size, dim=tuple(range(-d, 0)))


def grid_channels(shape: tuple[int, ...], batch: int, device, dtype) -> torch.Tensor:
    """Coordinates in ``[0, 1]`` as channels: ``(batch, d, *shape)``."""
    axes = [torch.linspace(0.0, 1.0, n, device=device, dtype=dtype) for n in shape]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij"))
    return grid.unsqueeze(0).expand(batch, *grid.shape)


class FNO(nn.Module):
    """Fourier neural operator; ``FNO(in_channels, out_channels, n_modes=(12, 12), hidden_channels=32, n_layers=4)``.

    ``positional=True`` appends the grid coordinates as extra input channels.
    """

    def __init__(self, in_channels: int, out_channels: int, n_modes: tuple[int, ...] = (12, 12),
                 hidden_channels: int = 32, n_layers: int = 4, projection_channels: int = 128,
                 padding: float = 0.0, positional: bool = True):
        super().__init__()
        self.d = len(n_modes)
        if self.d not in _CONV:
            raise ValueError(f"n_modes must have 1, 2 or 3 entries, got {n_modes}")
        conv = _CONV[self.d]
        self.positional, self.padding = positional, padding
        self.lift = conv(in_channels + (self.d if positional else 0), hidden_channels, 1)
        self.spectral = nn.ModuleList(SpectralConv(hidden_channels, hidden_channels, n_modes) for _ in range(n_layers))
        self.pointwise = nn.ModuleList(conv(hidden_channels, hidden_channels, 1) for _ in range(n_layers))
        self.project = nn.Sequential(conv(hidden_channels, projection_channels, 1), nn.GELU(),
                                     conv(projection_channels, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[2:]
        if self.positional:
            x = torch.cat([x, grid_channels(size, x.shape[0], x.device, x.dtype)], dim=1)
        v = self.lift(x)
        pads = [round(self.padding * n) for n in size]
        if any(pads):
            v = F.pad(v, [p for n in reversed(pads) for p in (0, n)])
        for i, (k, w) in enumerate(zip(self.spectral, self.pointwise, strict=True)):
            v = k(v) + w(v)
            if i < len(self.spectral) - 1:
                v = F.gelu(v)
        if any(pads):
            v = v[(Ellipsis, *(slice(0, n) for n in size))]
        return self.project(v)

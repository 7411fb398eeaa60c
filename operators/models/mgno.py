"""MgNO: neural operator whose linear operators between neurons are multigrid V-cycles (He, Liu, Xu, ICLR 2024).

One layer maps ``(B, C_in, H, W) -> (B, C_u, H, W)``::

    u^{l+1} = sigma( MgConv_l(u^l) + W_l u^l + b_l )        W_l: 1x1 conv, b_l: bias (a constant function)

``MgConv`` is a multi-channel V-cycle that treats its input as the right-hand side ``f`` of an unknown
linear system ``A u = f`` on ``J`` grid levels, with learnable 3x3 convolutions for the operator ``A``,
the smoothers ``S``, restriction ``R`` / ``Pi`` (stride-2 convolutions) and prolongation (stride-2
transposed convolution ``R^T``, kernel 4; made periodic by wrapping the coarse grid for circular padding)::

    level 1:   u = S f, then  u <- u + S (f - A u)          (nu_pre smoothings in all)
    down:      f_{l+1} = R (f_l - A u_l),  u_{l+1} = Pi u_l  then  u_{l+1} <- u_{l+1} + S (f_{l+1} - A u_{l+1})
    up:        u_l <- u_l + R^T u_{l+1},  then nu_post smoothings  u_l <- u_l + S (f_l - A u_l)

There is no lifting or projection network: the first V-cycle takes the input channels directly as ``f``
and the output is one 3x3 convolution of the last hidden layer. Boundary conditions enter through the
padding of every convolution: ``"zeros"`` for Dirichlet, ``"circular"`` for periodic problems. Odd grid
sizes are supported (coarse grids have ``ceil(n/2)`` points, prolongations are cropped).

Defaults follow the paper's Darcy setting as far as we could reconstruct it (5 layers, 24 channels,
5 levels with one pre- and one post-smoothing).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(cin, cout, stride=1, padding_mode="zeros"):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False, padding_mode=padding_mode)


class MgConv(nn.Module):
    """Multi-channel V-cycle ``(B, C_f, H, W) -> (B, C_u, H, W)``; ``levels`` is a list of ``(nu_pre, nu_post)``."""

    def __init__(self, f_channels: int, u_channels: int, levels=((1, 1),) * 5, padding_mode: str = "zeros"):
        super().__init__()
        if padding_mode not in ("zeros", "circular"):
            raise ValueError(f"padding_mode must be 'zeros' (Dirichlet) or 'circular' (periodic), got {padding_mode!r}")
        self.levels = [tuple(lv) for lv in levels]
        if not self.levels or self.levels[0][0] < 1:
            raise ValueError(f"levels must be non-empty with at least one pre-smoothing on level 1, got {levels}")
        pm = padding_mode
        self.S_pre = nn.ModuleList(nn.ModuleList(_conv(f_channels, u_channels, padding_mode=pm) for _ in range(pre))
                                   for pre, _ in self.levels)
        self.A_pre = nn.ModuleList(nn.ModuleList(_conv(u_channels, f_channels, padding_mode=pm) for _ in range(pre))
                                   for pre, _ in self.levels)
        self.S_post = nn.ModuleList(nn.ModuleList(_conv(f_channels, u_channels, padding_mode=pm) for _ in range(post))
                                    for _, post in self.levels)
        self.A_post = nn.ModuleList(nn.ModuleList(_conv(u_channels, f_channels, padding_mode=pm) for _ in range(post))
                                    for _, post in self.levels)
        n = len(self.levels) - 1
        self.A_res = nn.ModuleList(_conv(u_channels, f_channels, padding_mode=pm) for _ in range(n))
        self.R = nn.ModuleList(_conv(f_channels, f_channels, 2, pm) for _ in range(n))
        self.Pi = nn.ModuleList(_conv(u_channels, u_channels, 2, pm) for _ in range(n))
        self.periodic = padding_mode == "circular"
        pad = 0 if self.periodic else 1
        self.RT = nn.ModuleList(nn.ConvTranspose2d(u_channels, u_channels, 4, stride=2, padding=pad, bias=False)
                                for _ in range(n))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        us, fs = [], []
        u = None
        for lev in range(len(self.levels)):
            if lev > 0:
                f = self.R[lev - 1](f - self.A_res[lev - 1](u))
                u = self.Pi[lev - 1](u)
            for j, (S, A) in enumerate(zip(self.S_pre[lev], self.A_pre[lev], strict=True)):
                u = S(f) if (lev == 0 and j == 0) else u + S(f - A(u))
            us.append(u)
            fs.append(f)
        for lev in range(len(self.levels) - 2, -1, -1):
            fine = us[lev]
            if self.periodic:  # wrap the coarse grid by one cell so the prolongation is periodic too
                up = self.RT[lev](F.pad(u, (1, 1, 1, 1), mode="circular"))[..., 3:, 3:]
            else:
                up = self.RT[lev](u)
            up = up[..., : fine.shape[-2], : fine.shape[-1]]
            u = fine + up
            for S, A in zip(self.S_post[lev], self.A_post[lev], strict=True):
                u = u + S(fs[lev] - A(u))
        return u


class MgNO(nn.Module):
    """MgNO for 2-D grids: ``(B, in_channels, H, W) -> (B, out_channels, H, W)``."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, hidden_channels: int = 24, n_layers: int = 5,
                 levels=((1, 1),) * 5, padding_mode: str = "zeros"):
        super().__init__()
        chans = [in_channels] + [hidden_channels] * n_layers
        self.vcycles = nn.ModuleList(MgConv(chans[i], hidden_channels, levels, padding_mode) for i in range(n_layers))
        self.linear = nn.ModuleList(nn.Conv2d(chans[i], hidden_channels, 1) for i in range(n_layers))
        self.out = nn.Conv2d(hidden_channels, out_channels, 3, padding=1, padding_mode=padding_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for mg, lin in zip(self.vcycles, self.linear, strict=True):
            x = F.gelu(mg(x) + lin(x))
        return self.out(x)

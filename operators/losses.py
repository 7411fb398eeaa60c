"""Relative losses on gridded fields ``(B, C, *S)``, averaged over the batch.

* :class:`LpLoss`: ``||pred - y||_p / ||y||_p`` per sample (grid sums; the grid measure cancels).
* :class:`H1Loss`: ``sqrt(||e||^2 + ||grad e||^2) / sqrt(||y||^2 + ||grad y||^2)`` with ``e = pred - y`` and the
  gradient by forward differences scaled by the grid spacing ``1/(n-1)`` (node grids on ``[0, 1]``).
"""

from __future__ import annotations

import torch


class LpLoss:
    """Relative Lp error, mean over the batch; ``LpLoss(p=2)(pred, y) -> scalar``."""

    def __init__(self, p: float = 2.0):
        self.p = p

    def per_sample(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        b = pred.shape[0]
        diff = torch.linalg.vector_norm((pred - y).reshape(b, -1), ord=self.p, dim=1)
        ref = torch.linalg.vector_norm(y.reshape(b, -1), ord=self.p, dim=1)
        return diff / ref.clamp_min(torch.finfo(y.dtype).tiny)

    def __call__(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.per_sample(pred, y).mean()


def _h1_sq(u: torch.Tensor) -> torch.Tensor:
    d = u.ndim - 2
    total = u.pow(2).reshape(u.shape[0], -1).sum(1) / u[0, 0].numel()
    for ax in range(2, 2 + d):
        n = u.shape[ax]
        g = torch.diff(u, dim=ax) * (n - 1)
        total = total + g.pow(2).reshape(u.shape[0], -1).sum(1) / g[0, 0].numel()
    return total


class H1Loss:
    """Relative H1 error, mean over the batch."""

    def per_sample(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (_h1_sq(pred - y) / _h1_sq(y).clamp_min(torch.finfo(y.dtype).tiny)).sqrt()

    def __call__(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.per_sample(pred, y).mean()

"""A normalising flow with a tractable density on a box, for adversarial adaptive sampling.

Bijection from the unit cube onto itself (all maps invertible, log-determinants exact)::

    z ~ base  ->  y = f(z)  ->  u = sigmoid(y)  ->  x = lower + (upper - lower) u

* base ``"logistic"`` (default): ``z = logit(u0)``, ``u0 ~ U(0, 1)^d``, standard logistic, so with
  ``f = identity`` the flow is exactly uniform on the box (it starts there);
* base ``"gaussian"``: ``z ~ N(0, base_scale^2 I)``, the Gaussian prior of KRnet as the AAS paper uses it: the
  flow starts concentrated about the centre of the box (per coordinate ``u`` has standard deviation about
  ``0.21`` for ``base_scale = 1``);
* ``f`` is a stack of affine coupling layers (Dinh, Sohl-Dickstein, Bengio, "Density estimation using
  Real NVP", ICLR 2017) with alternating masks, ``y_B = z_B exp(s(z_A)) + t(z_A)``, ``s = s_max tanh(.)``;
  KRnet (Tang, Wan, Liao 2020), used by the AAS paper, is a coupling flow of the same family;
* change of variables on the unit cube (``sigma'(y) = sigma(y) sigma(-y)``)::

      log p_u(u) = log p_base(z) - log|det df/dz| - sum_i log sigma'(y_i),
      log p_logistic(z) = sum_i log sigma'(z_i),
      log p_gaussian(z) = -sum_i z_i^2 / (2 s^2) - d log(s sqrt(2 pi)),

  and on the box ``log p_x(x) = log p_u(u) - sum_i log(upper_i - lower_i)``.

Shapes: ``(m, d)`` points, ``(m,)`` log-densities.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import softplus

__all__ = ["CouplingFlow"]


def _log_dsigmoid(y: torch.Tensor) -> torch.Tensor:
    """``log sigma'(y) = -softplus(y) - softplus(-y)``, stable for large ``|y|``."""
    return -softplus(y) - softplus(-y)


class _Coupling(nn.Module):
    """``y = m z + (1 - m) (z exp(s(m z)) + t(m z))`` with a 0/1 mask ``m`` (dense masking, no indexing)."""

    def __init__(self, mask: torch.Tensor, hidden: int, s_max: float):
        super().__init__()
        self.register_buffer("mask", mask.to(torch.get_default_dtype()))
        d = mask.numel()
        self.s_max = s_max
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 2 * d))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def _st(self, z):
        s, t = self.net(z * self.mask).chunk(2, dim=1)
        keep = 1 - self.mask
        return self.s_max * torch.tanh(s / self.s_max) * keep, t * keep

    def forward(self, z):
        s, t = self._st(z)
        return z * torch.exp(s) + t, s.sum(dim=1)

    def inverse(self, y):
        s, t = self._st(y)
        return (y - t) * torch.exp(-s), -s.sum(dim=1)


class CouplingFlow(nn.Module):
    """Density on the unit cube ``(0, 1)^d``: ``n_layers`` affine couplings between logit and sigmoid.

    ``base``: ``"logistic"`` (uniform start) or ``"gaussian"`` (``N(0, base_scale^2)`` in logit space, centred start).
    ``sample(m, generator)`` -> ``(u, log_p)``; ``log_prob(u)`` -> ``(m,)``. See the module docstring.
    """

    BASES = ("logistic", "gaussian")

    def __init__(self, dim: int, n_layers: int = 6, hidden: int = 32, s_max: float = 2.0, base: str = "logistic",
                 base_scale: float = 1.0):
        super().__init__()
        if base not in self.BASES:
            raise ValueError(f"flow base must be one of {', '.join(map(repr, self.BASES))}, got {base!r}")
        if not (base_scale > 0 and math.isfinite(base_scale)):
            raise ValueError(f"flow base_scale must be a positive number, got {base_scale}")
        self.dim = dim
        self.base, self.base_scale = base, float(base_scale)
        idx = torch.arange(dim)
        masks = []
        for i in range(n_layers):
            if dim == 1:
                masks.append(torch.zeros(1, dtype=torch.bool))
            else:
                masks.append((idx + i) % 2 == 0 if i % 4 < 2 else (idx < dim // 2) ^ (i % 2 == 1))
        self.layers = nn.ModuleList(_Coupling(m, hidden, s_max) for m in masks)
        self.eps = 1e-6

    def _push(self, z):
        logdet = z.new_zeros(z.shape[0])
        for layer in self.layers:
            z, ld = layer(z)
            logdet = logdet + ld
        return z, logdet

    def sample(self, m: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        p = next(self.parameters())
        dev = generator.device if generator is not None else p.device
        if self.base == "gaussian":
            z = self.base_scale * torch.randn(m, self.dim, generator=generator, device=dev, dtype=p.dtype).to(p.device)
        else:
            u0 = torch.rand(m, self.dim, generator=generator, device=dev, dtype=p.dtype).to(p.device)
            z = torch.logit(u0.clamp(self.eps, 1 - self.eps))
        y, logdet = self._push(z)
        u = torch.sigmoid(y)
        log_p = self._base_log_prob(z) - logdet - _log_dsigmoid(y).sum(1)
        return u, log_p

    def _base_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Base log-density ``(m,)`` in logit space."""
        if self.base == "gaussian":
            s = self.base_scale
            return -0.5 * (z / s).pow(2).sum(1) - self.dim * math.log(s * math.sqrt(2 * math.pi))
        return _log_dsigmoid(z).sum(1)

    def log_prob(self, u: torch.Tensor) -> torch.Tensor:
        """Log-density ``(m,)`` on the unit cube at ``u`` ``(m, d)``."""
        p = next(self.parameters())
        return self.log_prob_logit(torch.logit(u.to(p.dtype).clamp(self.eps, 1 - self.eps)))

    def log_prob_logit(self, y: torch.Tensor) -> torch.Tensor:
        """Log-density ``(m,)`` on the unit cube at ``u = sigmoid(y)``, given ``y`` (no clamping at the edges)."""
        logdet = y.new_zeros(y.shape[0])
        z = y
        for layer in reversed(self.layers):
            z, ld = layer.inverse(z)
            logdet = logdet + ld
        return self._base_log_prob(z) + logdet - _log_dsigmoid(y).sum(1)

"""Residual-based adaptive distribution (RAD) and residual-based adaptive refinement with distribution (RAR-D).

Wu, Zhu, Tan, Kartha, Lu, "A comprehensive study of non-adaptive and residual-based adaptive sampling for
physics-informed neural networks", CMAME 403 (2023) 115671, Section 2.3 (Eq. 2 and Algorithms 2, 3).

Both draw from the density built on the absolute residual ``eps(x) = |r(x)|``::

    p(x)  ∝  eps(x)^k / E[eps^k] + c                                        (Wu et al., Eq. 2)

with ``E[eps^k]`` the mean over a dense candidate set ``S_0`` of ``n_candidates`` uniform points, redrawn
at every update. Draws are without replacement from ``S_0`` (as in the authors' DeepXDE code).

* RAD (``k=1, c=1`` by default, the paper's recommended choice): every ``update_every`` steps the whole
  set of ``n`` points is replaced by ``n`` draws from ``p``.
* RAR-D (``k=2, c=0`` by default, the paper's choice for RAR-D): every ``update_every`` steps ``n_add``
  draws from ``p`` are *added* to the current points (the set grows; ``max_points`` caps it).

Both need residuals at candidate points the loop has not evaluated, so ``needs_model = True``: the loop
calls ``update_with_model(step, residual_fn)`` where ``residual_fn(points (m, d)) -> (m,)`` returns the
squared PDE residual (summed over components, detached is fine). It is called in chunks of ``chunk``
points. ``update(step, points, residual)`` only records the residual at the current points.
"""

from __future__ import annotations

import torch

from ._common import StatefulSampler, as_float, as_int, check_residual, residual_in_chunks

__all__ = ["RAD", "RARD", "rad_weights"]


def rad_weights(residual: torch.Tensor, k: float, c: float) -> torch.Tensor:
    """Unnormalised RAD density ``|r|^k / mean(|r|^k) + c`` from squared residuals ``r^2`` ``(m,)``."""
    e = residual.clamp_min(0) ** (0.5 * k)
    mean = e.mean()
    # all-zero residual: uniform weights (decided on the device, no host read)
    w = torch.where(mean > 0, e / mean.clamp_min(torch.finfo(e.dtype).tiny) + c, torch.ones_like(e))
    return torch.nan_to_num(w, nan=0.0, posinf=0.0)


def sample_without_replacement(w: torch.Tensor, m: int, generator: torch.Generator) -> torch.Tensor:
    """``m`` distinct indices ``(m,)`` drawn with probabilities ``∝ w`` ``(n,)`` without replacement, in draw order.

    Exponential race (successive sampling): with ``E_i ~ Exp(1)`` i.i.d., the indices of the ``m`` smallest
    ``E_i / w_i`` are distributed as ``m`` successive weighted draws without replacement (as
    ``torch.multinomial(w, m, replacement=False)``), computed by ``topk`` on the device without a host read.
    Weights <= 0 (or NaN) never win against positive ones; if fewer than ``m`` weights are positive, the rest are
    filled from the zero-weight indices, uniformly. An all-zero ``w`` gives ``m`` uniform draws.
    """
    u = torch.rand(w.shape[0], generator=generator, device=generator.device, dtype=torch.float64).to(w.device)
    e = -torch.log1p(-u)  # Exp(1), finite (u < 1)
    w = torch.nan_to_num(w.to(torch.float64), nan=0.0).clamp_min(0)
    # log keys: log(E_i / w_i) <= ~712 for w_i > 0; zero weights rank after every positive one, ordered by E_i
    keys = torch.where(w > 0, torch.log(e) - torch.log(w.clamp_min(torch.finfo(torch.float64).tiny)), 1e4 + e)
    return torch.topk(keys, m, largest=False, sorted=True).indices


class RAD(StatefulSampler):
    """Residual-based adaptive distribution (Wu et al. 2023); see the module docstring.

    Options: ``n`` points, ``update_every`` resampling period (1000), ``k`` (1), ``c`` (1),
    ``n_candidates`` dense pool size (100000), ``chunk`` residual evaluation chunk (16384).
    """

    name = "rad"
    needs_model = True
    default_k, default_c = 1.0, 1.0

    def __init__(self, n: int = 1000, update_every: int = 1000, k: float | None = None, c: float | None = None,
                 n_candidates: int = 100_000, chunk: int = 16384):
        super().__init__(as_int("n", n, minimum=1), as_int("update_every", update_every, minimum=0))
        self.k = as_float("k", self.default_k if k is None else k, minimum=0.0)
        self.c = as_float("c", self.default_c if c is None else c, minimum=0.0)
        self.n_candidates = as_int("n_candidates", n_candidates, minimum=1)
        self.chunk = as_int("chunk", chunk, minimum=1)
        self._check_pool()

    def _draw_count(self) -> int:
        return self.n

    def _check_pool(self):
        if self.n_candidates < self._draw_count():
            raise ValueError(f"sampler option n_candidates ({self.n_candidates}) must be >= the number of points "
                             f"drawn per update ({self._draw_count()})")

    def update(self, step, points, residual):
        self._residual = check_residual(points, residual).to(self.device)

    def draw(self, residual_fn, m: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` points ``(m, d)`` drawn from the RAD density on a fresh candidate pool, and their ``r^2``."""
        pool = self._uniform(self.n_candidates)
        with torch.enable_grad():  # residual_fn may need autograd for derivatives
            res = residual_in_chunks(residual_fn, pool, self.chunk).to(pool.device)
        w = rad_weights(res.double(), self.k, self.c)
        idx = sample_without_replacement(w, m, self.generator).to(pool.device)
        return pool[idx], res[idx]

    def update_with_model(self, step, residual_fn):
        self._points, self._residual = self.draw(residual_fn, self.n)

    def describe(self):
        return {**super().describe(), "k": self.k, "c": self.c, "n_candidates": self.n_candidates}


class RARD(RAD):
    """Residual-based adaptive refinement with distribution (Wu et al. 2023, Algorithm 3): adds ``n_add``
    points drawn from the RAD density every ``update_every`` steps (defaults ``k=2, c=0``).

    Options: as :class:`RAD`, plus ``n_add`` (10) and ``max_points`` (0: no cap). The point count grows,
    so ``points()`` may hold more than ``n`` rows.
    """

    name = "rard"
    default_k, default_c = 2.0, 0.0

    def __init__(self, n: int = 1000, update_every: int = 1000, k: float | None = None, c: float | None = None,
                 n_add: int = 10, max_points: int = 0, n_candidates: int = 100_000, chunk: int = 16384):
        self.n_add = as_int("n_add", n_add, minimum=1)
        self.max_points = as_int("max_points", max_points, minimum=0)
        super().__init__(n, update_every, k, c, n_candidates, chunk)
        if self.max_points and self.max_points < self.n:
            raise ValueError(f"sampler option max_points ({self.max_points}) must be 0 or >= n ({self.n})")

    def _draw_count(self):
        return self.n_add

    def update_with_model(self, step, residual_fn):
        current = self._points.shape[0]
        m = self.n_add if not self.max_points else min(self.n_add, self.max_points - current)
        if m <= 0:
            return
        new, res = self.draw(residual_fn, m)
        old_res = self._residual if self._residual is not None and self._residual.shape[0] == current else \
            torch.full((current,), float("nan"), device=self.device, dtype=res.dtype)
        self._points = torch.cat([self._points, new], dim=0)
        self._residual = torch.cat([old_res.to(res.dtype), res])

    def describe(self):
        return {**super().describe(), "n_add": self.n_add, "max_points": self.max_points}

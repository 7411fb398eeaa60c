"""Non-adaptive collocation samplers: uniform random, Sobol, Halton, Latin hypercube and a grid.

The random and quasi-random ones are :class:`pde.collocation.RandomSampler` with a preset method
(fixed points for ``update_every=0``, redrawn every ``update_every`` steps otherwise); see
Wu, Zhu, Tan, Kartha, Lu (2023), "A comprehensive study of non-adaptive and residual-based adaptive
sampling for PINNs", CMAME 403, for how they compare.
"""

from __future__ import annotations

import torch

from pde.collocation import AbstractSampler, RandomSampler

from ._common import StatefulSampler, as_int

__all__ = ["Uniform", "Sobol", "Halton", "LatinHypercube", "Grid"]


class _Preset(StatefulSampler, RandomSampler):
    """RandomSampler with a preset method; its state includes the generator's, so a resume redraws the same."""

    method_name = "uniform"

    def __init__(self, n: int = 1000, update_every: int = 0, method: str | None = None):
        if method is not None and method != self.method_name:
            raise ValueError(f"sampler {self.name!r} always uses method {self.method_name!r}, got method={method!r}")
        super().__init__(as_int("n", n, minimum=1), as_int("update_every", update_every, minimum=0),
                         method=self.method_name)


class Uniform(_Preset):
    """I.i.d. uniform points in the domain; fixed (``update_every=0``) or redrawn every ``update_every`` steps."""

    name, method_name = "uniform", "uniform"


class Sobol(_Preset):
    """Scrambled Sobol points (low discrepancy); every ``update_every`` steps the next ``n`` points of the same
    sequence, drawn on the device (:class:`pde.sampling.SobolStream`: no host read, no host-to-device copy)."""

    name, method_name = "sobol", "sobol"


class Halton(_Preset):
    """Scrambled Halton points."""

    name, method_name = "halton", "halton"


class LatinHypercube(_Preset):
    """Latin hypercube points."""

    name, method_name = "lhs", "lhs"


class Grid(AbstractSampler):
    """Cell-centred tensor grid on the domain's bounding box, restricted to the domain.

    With ``d`` coordinates the box gets ``m = max(2, round(n ** (1 / d)))`` cells per side
    (or ``per_side`` if given), i.e. ``m ** d`` candidate points at the cell centres
    ``lower + (i + 1/2) h``; the points outside the domain are dropped, so the count may be below ``n``.
    The points never change (``update`` only records the residual for snapshots).
    """

    name = "grid"

    def __init__(self, n: int = 1000, per_side: int = 0, update_every: int = 0):
        if as_int("update_every", update_every, minimum=0) != 0:
            raise ValueError(f"sampler option update_every must be 0 for the grid (its points never change), "
                             f"got {update_every!r}")
        super().__init__(as_int("n", n, minimum=1), 0)
        self.per_side = as_int("per_side", per_side, minimum=0)
        if self.per_side == 1:
            raise ValueError("sampler option per_side must be >= 2 (0: derive from n), got 1")

    def initial_points(self):
        d = self.domain.dim
        m = self.per_side or max(2, round(self.n ** (1.0 / d)))
        if m ** d > 50_000_000:
            raise ValueError(f"a grid with {m} points per side in d={d} has {m ** d} points; use a random sampler")
        lo, hi = self.domain.bounds
        axes = [torch.tensor([a + (i + 0.5) * (b - a) / m for i in range(m)], device=self.device, dtype=self.dtype)
                for a, b in zip(lo, hi, strict=False)]
        mesh = torch.meshgrid(*axes, indexing="ij")
        pts = torch.stack([g.reshape(-1) for g in mesh], dim=1)
        pts = pts[self.domain.inside(pts)]
        if pts.shape[0] == 0:
            raise ValueError(f"no grid point with {m} per side lies inside the domain; raise n or per_side")
        return pts

    def update(self, step, points, residual):
        self._residual = residual.detach().reshape(-1)

    def describe(self):
        return {**super().describe(), "per_side": self.per_side}

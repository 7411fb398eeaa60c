"""Initial and boundary conditions as residuals on sampled points.

Every condition samples its own points from the problem's domain and returns a
residual at them; the training loop adds ``weight * mean(residual**2)`` to the
loss. Values are callables of the points ``(N, d)`` returning ``(N,)`` tensors,
or plain numbers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch

from .csg import boundary_part
from .derivatives.base import AbstractDerivatives
from .domain import AbstractDomain, SpaceTime

__all__ = ["AbstractCondition", "Dirichlet", "Neumann", "Robin", "Initial", "Periodic"]

Value = Callable[[torch.Tensor], torch.Tensor] | float


def _value(value: Value, points: torch.Tensor) -> torch.Tensor:
    if callable(value):
        out = value(points)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        return out
    return torch.full_like(points[:, 0], float(value))


class AbstractCondition(ABC):
    """A condition: where its points come from and its residual there.

    ``region`` is ``"boundary"`` (with outward normals), ``"initial"`` (the slice
    ``t = t0`` of a :class:`~pde.domain.SpaceTime`) or ``"interior"``.
    ``where`` optionally restricts the points to those where it returns True. ``on`` (boundary conditions)
    names the boundary part the condition holds on (``"outer"``, ``"hole 1"``, or a name given to a piece:
    ``Box(...) - Disk(..., name="drain")``; see :mod:`pde.csg`); an unknown name raises ``ValueError``.
    """

    region: str = "boundary"

    def __init__(self, name: str, weight: float = 1.0, where: Callable | None = None, n: int | None = None,
                 on: str | None = None):
        if on is not None and (not isinstance(on, str) or self.region != "boundary"):
            raise ValueError(f"condition {name!r}: 'on' names a boundary part (a string) and only applies to "
                             f"boundary conditions, got on={on!r} for a {self.region} condition")
        self.on = on
        if weight < 0:
            raise ValueError(f"condition weight must be >= 0, got {weight}")
        if n is not None and n < 1:
            raise ValueError(f"condition {name!r}: number of points must be >= 1, got {n}")
        self.name, self.weight, self.where, self.n = name, float(weight), where, n

    def _draw(self, domain: AbstractDomain, n: int, **kw):
        if self.region == "boundary":
            if getattr(self, "on", None) is not None:
                domain = boundary_part(domain, self.on)
            return domain.sample_boundary(n, **kw)
        if self.region == "initial":
            if not isinstance(domain, SpaceTime):
                raise ValueError(f"condition {self.name!r} needs a space-time domain, got {type(domain).__name__}")
            return domain.sample_initial(n, **kw), None
        return domain.sample_interior(n, **kw), None

    def sample(self, domain: AbstractDomain, n: int, **kw) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` points ``(n, d)`` and normals (or None) for this condition.

        With ``where``, points are i.i.d. uniform on the selected part: ``c`` candidates are drawn and the
        first ``n`` that ``where`` keeps are taken, by a stable device-side sort of the keep mask (no host read,
        no boolean-mask indexing, so redrawing every training step never waits on the host). ``c`` is fixed
        once per domain and ``n`` from the fraction ``p`` kept by a first probe draw (the only host read):
        ``c p - 8 sqrt(c p) >= n``, with ``p`` lowered by 3 standard errors of the probe, so fewer than ``n``
        kept candidates (then kept points are repeated, in order) has probability below 1e-15.
        """
        if self.where is None:
            return self._draw(domain, n, **kw)
        c = self._candidates(domain, n, kw)
        p, q = self._draw(domain, c, **kw)
        keep = self._keep(p)
        # stable sort of "not kept": kept candidates first, in draw order (i.i.d. uniform on the selected part)
        order = torch.sort((~keep).to(torch.uint8), stable=True).indices
        count = keep.sum()
        idx = order[torch.remainder(torch.arange(n, device=keep.device), count.clamp_min(1))]
        return p[idx], (q[idx] if q is not None else None)

    def _keep(self, p: torch.Tensor) -> torch.Tensor:
        keep = self.where(p)
        if not (isinstance(keep, torch.Tensor) and keep.dtype == torch.bool and keep.shape == p.shape[:1]):
            got = f"{keep.dtype} {tuple(keep.shape)}" if isinstance(keep, torch.Tensor) else type(keep).__name__
            raise ValueError(f"condition {self.name!r}: 'where' must return a boolean tensor of shape "
                             f"({p.shape[0]},) for points {tuple(p.shape)}, got {got}")
        return keep

    def _candidates(self, domain: AbstractDomain, n: int, kw: dict) -> int:
        """Candidate count ``c`` for ``n`` points (see :meth:`sample`); one probe draw per domain region."""
        # by identity (the entry holds the domain, so its id cannot be reused), then by description (a problem
        # whose ``domain`` property builds a new, equal domain at each call)
        by_id = self.__dict__.setdefault("_accept_by_id", {})
        hit = by_id.get((id(domain), self.region))
        if hit is not None and hit[0] is domain:
            return self._count(n, hit[1])
        cache = self.__dict__.setdefault("_accept", {})
        key = (self.region, repr(domain.describe()))
        if key not in cache:
            m = max(4 * n, 4096)
            probe, _ = self._draw(domain, m, **kw)
            kept = int(self._keep(probe).sum())  # a host read, once, before training
            if kept == 0 or kept < 1e-3 * m:
                raise ValueError(f"condition {self.name!r}: its 'where' selects (almost) no points of the domain "
                                 f"({kept} of {m} drawn); at least 0.1% of the {self.region} must be selected")
            p = kept / m
            cache[key] = max(p - 3.0 * (p * (1 - p) / m) ** 0.5, 0.5 * p)
        if len(by_id) > 16:
            by_id.clear()
        by_id[(id(domain), self.region)] = (domain, cache[key])
        return self._count(n, cache[key])

    @staticmethod
    def _count(n: int, p: float) -> int:
        k = (4.0 + (16.0 + n) ** 0.5) ** 2  # expected kept count with k - 8 sqrt(k) >= n
        return max(n, int(k / p) + 1)

    @abstractmethod
    def residual(self, d: AbstractDerivatives) -> torch.Tensor:
        """Residual at the sampled points: ``(N,)`` or ``(N, k)``."""

    def describe(self) -> dict:
        out = {"type": type(self).__name__, "name": self.name, "weight": self.weight, "region": self.region}
        return out if getattr(self, "on", None) is None else {**out, "on": self.on}


class Dirichlet(AbstractCondition):
    """``field = value`` on the boundary."""

    def __init__(self, value: Value = 0.0, field: str = "u", name: str = "bc", **kw):
        super().__init__(name, **kw)
        self.value, self.field = value, field

    def residual(self, d):
        return d[self.field] - _value(self.value, d.points.detach())


class Neumann(AbstractCondition):
    """``grad(field) . n = value`` on the boundary (spatial outward normal)."""

    def __init__(self, value: Value = 0.0, field: str = "u", name: str = "neumann", **kw):
        super().__init__(name, **kw)
        self.value, self.field = value, field

    def residual(self, d):
        return d.normal_derivative(self.field) - _value(self.value, d.points.detach())


class Robin(AbstractCondition):
    """``a field + b grad(field) . n = value`` on the boundary (spatial outward normal); ``a``, ``b`` numbers
    or callables of the points ``(N, d)`` returning ``(N,)``."""

    def __init__(self, a: Value = 1.0, b: Value = 1.0, value: Value = 0.0, field: str = "u", name: str = "robin",
                 **kw):
        super().__init__(name, **kw)
        self.a, self.b, self.value, self.field = a, b, value, field

    def residual(self, d):
        p = d.points.detach()
        return _value(self.a, p) * d[self.field] + _value(self.b, p) * d.normal_derivative(self.field) \
            - _value(self.value, p)


class Initial(AbstractCondition):
    """``d^order field / dt^order = value`` at ``t = t0`` (order 0: the initial value)."""

    region = "initial"

    def __init__(self, value: Value, field: str = "u", order: int = 0, name: str | None = None, time: str = "t",
                 **kw):
        if order < 0:
            raise ValueError(f"initial condition order must be >= 0, got {order}")
        super().__init__(name or ("ic" if order == 0 else f"ic_{'t' * order}"), **kw)
        self.value, self.field, self.order, self.time = value, field, order, time

    def residual(self, d):
        return d(self.field, *([self.time] * self.order)) - _value(self.value, d.points.detach())


class Periodic(AbstractCondition):
    """Periodicity in coordinate ``coord``: fields and their ``coord``-derivatives up to
    ``order`` agree on the two opposite faces. Points come in pairs: the first half on
    the lower face, the second half the same points moved to the upper face.
    """

    region = "interior"

    def __init__(self, coord: str, fields: tuple[str, ...] = ("u",), order: int = 1, name: str | None = None,
                 **kw):
        super().__init__(name or f"periodic_{coord}", **kw)
        self.coord, self.fields, self.order = coord, tuple(fields), order

    def sample(self, domain, n, **kw):
        i = domain.index(self.coord)
        lo, hi = domain.bounds
        p = domain.sample_interior(n, **kw)
        a, b = p.clone(), p.clone()
        a[:, i], b[:, i] = lo[i], hi[i]
        return torch.cat([a, b]), None

    def residual(self, d):
        half = d.n // 2
        parts = []
        for f in self.fields:
            for k in range(self.order + 1):
                v = d(f, *([self.coord] * k))
                parts.append(v[:half] - v[half:])
        return torch.stack(parts, dim=1)

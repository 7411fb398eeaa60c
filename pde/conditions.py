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

from .derivatives.base import AbstractDerivatives
from .domain import AbstractDomain, SpaceTime

__all__ = ["AbstractCondition", "Dirichlet", "Neumann", "Initial", "Periodic"]

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
    ``where`` optionally restricts the points to those where it returns True.
    """

    region: str = "boundary"

    def __init__(self, name: str, weight: float = 1.0, where: Callable | None = None, n: int | None = None):
        if weight < 0:
            raise ValueError(f"condition weight must be >= 0, got {weight}")
        if n is not None and n < 1:
            raise ValueError(f"condition {name!r}: number of points must be >= 1, got {n}")
        self.name, self.weight, self.where, self.n = name, float(weight), where, n

    def _draw(self, domain: AbstractDomain, n: int, **kw):
        if self.region == "boundary":
            return domain.sample_boundary(n, **kw)
        if self.region == "initial":
            if not isinstance(domain, SpaceTime):
                raise ValueError(f"condition {self.name!r} needs a space-time domain, got {type(domain).__name__}")
            return domain.sample_initial(n, **kw), None
        return domain.sample_interior(n, **kw), None

    def sample(self, domain: AbstractDomain, n: int, **kw) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` points ``(n, d)`` and normals (or None) for this condition."""
        if self.where is None:
            return self._draw(domain, n, **kw)
        pts, nrm, have = [], [], 0
        for _ in range(50):
            p, q = self._draw(domain, max(2 * (n - have), 16), **kw)
            keep = self.where(p)
            pts.append(p[keep])
            nrm.append(q[keep] if q is not None else None)
            have += int(keep.sum())
            if have >= n:
                break
        else:
            raise ValueError(f"condition {self.name!r}: its 'where' selects (almost) no points of the domain")
        p = torch.cat(pts)[:n]
        q = torch.cat(nrm)[:n] if nrm[0] is not None else None
        return p, q

    @abstractmethod
    def residual(self, d: AbstractDerivatives) -> torch.Tensor:
        """Residual at the sampled points: ``(N,)`` or ``(N, k)``."""

    def describe(self) -> dict:
        return {"type": type(self).__name__, "name": self.name, "weight": self.weight, "region": self.region}


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

"""Constructive solid geometry: union, intersection and difference of domains, with named boundary parts.

Build composites with operators on any domain (or the classes here)::

    plate = Box([0, 0], [1, 1]) - Disk((0.25, 0.25), 0.1) - Disk((0.75, 0.25), 0.1, name="drain")
    plate.boundary_parts        # ('outer', 'hole 1', 'drain')
    SpaceTime(plate, TimeInterval(0, 1))   # or plate * TimeInterval(0, 1)

``a | b`` (or ``a + b``) is the union, ``a & b`` the intersection, ``a - b`` the difference. Operands are
primitives (:class:`~pde.domain.Box`, :class:`~pde.domain.Ball` / ``Disk``, :class:`~pde.polygon.Polygon`)
or composites, all with the same coordinate names.

How it works. Every primitive ("leaf") has a signed distance ``s(x)`` (negative inside). A point is
classified against a leaf as ``-1`` (inside, ``s < -tol``), ``0`` (on its boundary, ``|s| <= tol``) or ``+1``
(outside), and classes combine up the tree: union ``min(a, b)``, intersection ``max(a, b)``, difference
``max(a, -b)``. ``inside(x)`` is ``class <= 0``. ``tol = 64 eps(dtype) * scale`` with ``scale`` the largest
coordinate magnitude or extent of the bounding box (about 7.6e-6 scale in float32, 1.4e-14 scale in
float64).

Boundary: every leaf's boundary is sampled in float64 (its own sampler, so points lie on it to rounding)
with candidate counts proportional to its full measure (length, area); a candidate drawn on leaf ``j``
with outward normal ``n`` is kept when ``x + h n`` is outside and ``x - h n`` inside the composite
(``h = 1e-9 scale``) and no earlier leaf's boundary passes through ``x``: exactly the pieces of the leaf's
boundary that are on the composite's boundary, a piece shared by two leaves once. The candidates are
shuffled and the first ``n`` kept are returned, so points are uniform over the composite's boundary,
holes included. Normals are the leaf's outward normals, flipped for leaves that are subtracted (an odd
number of times), so they point out of the composite.

Parts: each leaf's boundary belongs to a named part: the leaf's ``name`` if given (``Disk(..., name="hole1")``),
else ``"hole k"`` (k = 1, 2, ... in order) for subtracted leaves, else ``"outer"``. Several leaves may
share a part. :meth:`AbstractComposite.boundary_part` gives a domain that samples one part only (what a
condition's ``on=`` uses).

Shapes: points ``(N, d)``, normals ``(N, d)``, masks ``(N,)``.
"""

from __future__ import annotations

import math
from abc import abstractmethod

import torch

from .domain import AbstractDomain, Ball, Box, SpaceTime
from .polygon import Polygon
from .rejection import acceptance, candidates, first_kept, interior_by_rejection

__all__ = ["AbstractComposite", "Union", "Intersection", "Difference", "BoundaryPart", "boundary_part",
           "boundary_measure", "signed_distance"]

PRIMITIVES = (Box, Ball, Polygon)


def signed_distance(domain: AbstractDomain, x: torch.Tensor) -> torch.Tensor:
    """Signed distance ``(N,)`` of points ``x`` ``(N, d)`` to a primitive's boundary (negative inside)."""
    if isinstance(domain, Box):
        lo = domain._constant("lower", domain.lower, x.device, x.dtype)
        hi = domain._constant("upper", domain.upper, x.device, x.dtype)
        q = torch.maximum(lo - x, x - hi)                                      # (N, d)
        return q.clamp_min(0).norm(dim=1) + q.amax(dim=1).clamp_max(0)
    if isinstance(domain, Ball):
        c = domain._constant("center", domain.center, x.device, x.dtype)
        return (x - c).norm(dim=1) - domain.radius
    if isinstance(domain, Polygon):
        return domain.signed_distance(x)
    raise TypeError(f"constructive geometry supports Box, Ball/Disk, Polygon and their composites, "
                    f"got {type(domain).__name__}")


def boundary_measure(domain: AbstractDomain) -> float:
    """Measure of a primitive's boundary: perimeter in 2-D, area in 3-D (number of end points in 1-D)."""
    d = domain.dim
    if isinstance(domain, Box):
        vol = domain.volume
        return sum(2.0 * vol / (b - a) for a, b in zip(domain.lower, domain.upper))
    if isinstance(domain, Ball):
        return 2.0 * math.pi ** (d / 2) / math.gamma(d / 2) * domain.radius ** (d - 1)
    if isinstance(domain, Polygon):
        return domain.perimeter
    raise TypeError(f"no boundary measure for {type(domain).__name__}")


def _leaves(domain, flipped=False) -> list[tuple[AbstractDomain, bool]]:
    """Primitives of ``domain`` in depth-first order, each with whether it is subtracted (odd times)."""
    if isinstance(domain, AbstractComposite):
        return _leaves(domain.a, flipped) + _leaves(domain.b, flipped ^ isinstance(domain, Difference))
    if not isinstance(domain, PRIMITIVES):
        raise TypeError(f"constructive geometry supports Box, Ball/Disk, Polygon and their composites, "
                        f"got {type(domain).__name__}")
    return [(domain, flipped)]


def _combine(domain, cls: torch.Tensor, pos: int) -> tuple[torch.Tensor, int]:
    """Class ``(N,)`` of ``domain`` from leaf classes ``cls`` ``(N, L)`` (leaf columns from ``pos`` on)."""
    if not isinstance(domain, AbstractComposite):
        return cls[:, pos], pos + 1
    a, pos = _combine(domain.a, cls, pos)
    b, pos = _combine(domain.b, cls, pos)
    return domain._op(a, b), pos


def _part_names(leaves) -> list[str]:
    names, holes = [], 0
    for leaf, flipped in leaves:
        given = getattr(leaf, "name", None)
        if given is not None:
            names.append(str(given))
        elif flipped:
            holes += 1
            names.append(f"hole {holes}")
        else:
            names.append("outer")
    return names


class AbstractComposite(AbstractDomain):
    """A composite of two domains ``a`` and ``b`` (primitives or composites) with the same coordinates."""

    symbol: str = "?"

    def __init__(self, a: AbstractDomain, b: AbstractDomain):
        for op in (a, b):
            if not isinstance(op, AbstractDomain):
                raise TypeError(f"cannot combine a domain with {type(op).__name__}")
            if op.time_dependent:
                raise ValueError("combine spatial domains first, then take the product with a TimeInterval "
                                 "(SpaceTime(a - b, TimeInterval(0, 1)))")
        if tuple(a.names) != tuple(b.names):
            raise ValueError(f"cannot combine domains with coordinates {a.names} and {b.names}")
        self.a, self.b = a, b
        self.names = tuple(a.names)
        self.leaves = _leaves(self)
        self.part_of_leaf = _part_names(self.leaves)
        lo, hi = self._bounds()
        if any(x >= y for x, y in zip(lo, hi)):
            raise ValueError(f"{self._expression()} is empty: its bounding box is empty")
        self._box = (lo, hi)
        acceptance(self, "interior", self._probe_interior)  # raises for an empty domain

    # -- definition ------------------------------------------------------------------------------
    @staticmethod
    @abstractmethod
    def _op(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Combine classes ``(N,)`` (-1 inside, 0 on the boundary, +1 outside) of the two operands."""

    @abstractmethod
    def _bounds(self) -> tuple[list[float], list[float]]:
        """Bounding box from those of the operands."""

    @property
    def bounds(self):
        return list(self._box[0]), list(self._box[1])

    def _expression(self) -> str:
        def show(d):
            return f"({d._expression()})" if isinstance(d, AbstractComposite) else type(d).__name__
        return f"{show(self.a)} {self.symbol} {show(self.b)}"

    @property
    def boundary_parts(self) -> tuple[str, ...]:
        """Names of the boundary parts, in the order their leaves appear."""
        return tuple(dict.fromkeys(self.part_of_leaf))

    # -- classification --------------------------------------------------------------------------
    def _tol(self, x: torch.Tensor) -> float:
        lo, hi = self._box
        scale = max(max(abs(v) for v in lo + hi), max(b - a for a, b in zip(lo, hi)))
        return 64.0 * torch.finfo(x.dtype).eps * scale

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class ``(N,)`` int8 of points ``x`` ``(N, d)``: -1 interior, 0 boundary, +1 outside."""
        tol = self._tol(x)
        cols = []
        for leaf, _ in self.leaves:
            s = signed_distance(leaf, x)
            cols.append((s > tol).to(torch.int8) - (s < -tol).to(torch.int8))
        return _combine(self, torch.stack(cols, dim=1), 0)[0]

    def inside(self, x):
        return self.classify(x) <= 0

    # -- sampling --------------------------------------------------------------------------------
    def _probe_interior(self, m, g):
        box = Box(*self._box, names=self.names)
        return self.inside(box.sample_interior(m, generator=g, dtype=torch.float64))

    def sample_interior(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        return interior_by_rejection(self, n, method=method, generator=generator, device=device, dtype=dtype)

    def _part_leaves(self, part: str | None) -> list[int]:
        if part is None:
            return list(range(len(self.leaves)))
        if part not in self.part_of_leaf:
            raise ValueError(f"unknown boundary part {part!r}; this domain's boundary parts are "
                             f"{', '.join(map(repr, self.boundary_parts))}")
        return [j for j, p in enumerate(self.part_of_leaf) if p == part]

    def _draw_boundary(self, leaves, c, method, generator, device):
        """``c`` float64 candidates over ``leaves`` by measure: points ``(c', d)``, normals, keep mask (``c' >= c``).

        A candidate on leaf ``j`` with outward normal ``n`` (flipped for subtracted leaves) is kept when
        ``x + h n`` is outside the composite and ``x - h n`` inside it (``h = 1e-9 scale``), and no earlier
        leaf's boundary passes through ``x`` (a piece shared by two leaves counts once).
        """
        measures = [boundary_measure(self.leaves[j][0]) for j in leaves]
        total = sum(measures)
        dtype = torch.float64
        xs, ns, keeps = [], [], []
        lo, hi = self._box
        h = 1e-9 * max(max(abs(v) for v in lo + hi), max(b - a for a, b in zip(lo, hi)))
        for j, w in zip(leaves, measures):
            leaf, flipped = self.leaves[j]
            cj = math.ceil(c * w / total)
            x, nrm = leaf.sample_boundary(cj, method=method, generator=generator, device=device, dtype=dtype)
            nrm = -nrm if flipped else nrm
            keep = (self.classify(x + h * nrm) == 1) & (self.classify(x - h * nrm) == -1)
            tol = self._tol(x)
            for i in range(j):
                keep &= signed_distance(self.leaves[i][0], x).abs() > tol
            xs.append(x)
            ns.append(nrm)
            keeps.append(keep)
        return torch.cat(xs), torch.cat(ns), torch.cat(keeps)

    def boundary_acceptance(self, part: str | None = None) -> float:
        """Fraction of boundary candidates kept for ``part`` (None: the whole boundary), measured once."""
        leaves = self._part_leaves(part)
        return acceptance(self, f"boundary part {part!r}" if part else "boundary",
                          lambda m, g: self._draw_boundary(leaves, m, "uniform", g, None)[2])

    def sample_boundary(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32,
                        part: str | None = None):
        """``n`` points ``(n, d)`` uniform on the boundary (or on boundary ``part``) and outward normals."""
        leaves = self._part_leaves(part)
        p = self.boundary_acceptance(part)
        c = candidates(n, p)
        x, nrm, keep = self._draw_boundary(leaves, c, method, generator, device)
        perm = torch.randperm(x.shape[0], generator=generator, device=x.device)
        idx = perm[first_kept(keep[perm], n)]
        return x[idx].to(dtype), nrm[idx].to(dtype)

    def boundary_part(self, part: str) -> BoundaryPart:
        """A domain equal to this one whose ``sample_boundary`` draws on boundary part ``part`` only."""
        self._part_leaves(part)
        cache = self.__dict__.setdefault("_parts", {})
        if part not in cache:
            cache[part] = BoundaryPart(self, part)
        return cache[part]

    def describe(self):
        return {"type": type(self).__name__, "names": list(self.names), "a": self.a.describe(),
                "b": self.b.describe()}


class Union(AbstractComposite):
    """``a | b`` (also ``a + b``): points in either."""

    symbol = "|"

    @staticmethod
    def _op(a, b):
        return torch.minimum(a, b)

    def _bounds(self):
        (la, ha), (lb, hb) = self.a.bounds, self.b.bounds
        return [min(x, y) for x, y in zip(la, lb)], [max(x, y) for x, y in zip(ha, hb)]


class Intersection(AbstractComposite):
    """``a & b``: points in both."""

    symbol = "&"

    @staticmethod
    def _op(a, b):
        return torch.maximum(a, b)

    def _bounds(self):
        (la, ha), (lb, hb) = self.a.bounds, self.b.bounds
        return [max(x, y) for x, y in zip(la, lb)], [min(x, y) for x, y in zip(ha, hb)]


class Difference(AbstractComposite):
    """``a - b``: points of ``a`` not in the interior of ``b``."""

    symbol = "-"

    @staticmethod
    def _op(a, b):
        return torch.maximum(a, -b)

    def _bounds(self):
        return self.a.bounds


class BoundaryPart(AbstractDomain):
    """The composite ``of`` itself, except that its boundary is only the part named ``part``.

    ``inside``, ``bounds`` and interior sampling are those of ``of``; ``sample_boundary`` draws on the part.
    """

    def __init__(self, of: AbstractDomain, part: str):
        self.of, self.part = of, part
        self.names = tuple(of.names)

    @property
    def bounds(self):
        return self.of.bounds

    def inside(self, x):
        return self.of.inside(x)

    def sample_interior(self, n, **kw):
        return self.of.sample_interior(n, **kw)

    def sample_boundary(self, n, **kw):
        if isinstance(self.of, AbstractComposite):
            return self.of.sample_boundary(n, part=self.part, **kw)
        return self.of.sample_boundary(n, **kw)

    def describe(self):
        return {"type": "BoundaryPart", "names": list(self.names), "of": self.of.describe(), "part": self.part}


def boundary_part(domain: AbstractDomain, part: str) -> AbstractDomain:
    """``domain`` restricted to boundary part ``part`` (for a condition's ``on=``).

    Composites have the parts listed by ``boundary_parts``; a primitive has one part, its ``name`` or
    ``"outer"``; a :class:`~pde.domain.SpaceTime` restricts its space. Raises ``ValueError`` naming the
    unknown part and the known ones.
    """
    if isinstance(domain, SpaceTime):
        cache = domain.__dict__.setdefault("_parts", {})
        if part not in cache:
            cache[part] = SpaceTime(boundary_part(domain.space, part), domain.time)
        return cache[part]
    if isinstance(domain, AbstractComposite):
        return domain.boundary_part(part)
    own = getattr(domain, "name", None) or "outer"
    if part != own:
        raise ValueError(f"unknown boundary part {part!r}; this {type(domain).__name__}'s boundary is {own!r}")
    return domain

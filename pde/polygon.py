"""A simple polygon in the plane, as a domain (for constructive solid geometry, see :mod:`pde.csg`).

The polygon is given by its vertices ``(k, 2)`` in order (either orientation; stored counter-clockwise).
Its boundary is the closed chain of ``k`` edges; boundary points are drawn edge by edge with probability
proportional to edge length, uniform along the edge, with the outward normal ``(dy, -dx) / |e|`` of the
counter-clockwise edge ``e = (dx, dy)``. Interior points are drawn by rejection in the bounding box.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .domain import AbstractDomain, _names, cumulative_shares
from .rejection import interior_by_rejection
from .sampling import unit_cube

__all__ = ["Polygon"]


def _segments_cross(p, q, r, s) -> bool:
    """Whether the closed segments ``pq`` and ``rs`` (2-tuples) intersect."""
    def orient(a, b, c):
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return 0 if v == 0 else (1 if v > 0 else -1)

    def on_seg(a, b, c):
        return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])

    o1, o2, o3, o4 = orient(p, q, r), orient(p, q, s), orient(r, s, p), orient(r, s, q)
    if o1 != o2 and o3 != o4:
        return True
    return ((o1 == 0 and on_seg(p, q, r)) or (o2 == 0 and on_seg(p, q, s)) or (o3 == 0 and on_seg(r, s, p))
            or (o4 == 0 and on_seg(r, s, q)))


class Polygon(AbstractDomain):
    """Closed simple polygon with vertices ``(k, 2)``, ``k >= 3``; ``name`` names its boundary (see ``pde.csg``)."""

    def __init__(self, vertices: Sequence[Sequence[float]], names: Sequence[str] | None = ("x", "y"),
                 name: str | None = None):
        verts = [(float(a), float(b)) for a, b in vertices]
        if len(verts) < 3:
            raise ValueError(f"a polygon needs at least 3 vertices, got {len(verts)}")
        if not all(math.isfinite(v) for p in verts for v in p):
            raise ValueError(f"polygon vertices must be finite, got {verts}")
        area2 = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(verts, verts[1:] + verts[:1]))
        if area2 == 0:
            raise ValueError("polygon has zero area (collinear or repeated vertices)")
        if area2 < 0:
            verts = verts[::-1]
        k = len(verts)
        for i in range(k):
            for j in range(i + 1, k):
                if j == i + 1 or (i == 0 and j == k - 1):
                    continue  # neighbouring edges share a vertex
                if _segments_cross(verts[i], verts[(i + 1) % k], verts[j], verts[(j + 1) % k]):
                    raise ValueError(f"polygon edges {i} and {j} intersect; the polygon must be simple")
        self.vertices = verts
        self.area = abs(area2) / 2.0
        self.names = _names(names, 2)
        self.name = name

    @property
    def bounds(self):
        xs, ys = zip(*self.vertices)
        return [min(xs), min(ys)], [max(xs), max(ys)]

    @property
    def perimeter(self) -> float:
        v = self.vertices
        return sum(math.dist(a, b) for a, b in zip(v, v[1:] + v[:1]))

    def _edges(self, like: torch.Tensor):
        """Edge starts ``(k, 2)`` and edge vectors ``(k, 2)`` on ``like``'s device and dtype."""
        v = self.vertices
        a = self._constant("starts", v, like.device, like.dtype)
        e = self._constant("edges", [(b[0] - p[0], b[1] - p[1]) for p, b in zip(v, v[1:] + v[:1])],
                           like.device, like.dtype)
        return a, e

    def signed_distance(self, x: torch.Tensor) -> torch.Tensor:
        """Signed distance ``(N,)`` to the boundary of points ``x`` ``(N, 2)``: negative inside."""
        a, e = self._edges(x)
        rel = x[:, None, :] - a[None]                                   # (N, k, 2)
        t = ((rel * e).sum(-1) / (e * e).sum(-1)).clamp(0.0, 1.0)       # (N, k)
        dist = (rel - t[..., None] * e).norm(dim=-1).amin(dim=1)        # (N,)
        # even-odd crossing test of a ray in +x direction
        y0, y1 = a[:, 1], a[:, 1] + e[:, 1]
        py = x[:, 1:2]
        straddle = (y0 <= py) != (y1 <= py)                             # (N, k)
        safe = torch.where(e[:, 1] == 0, torch.ones_like(e[:, 1]), e[:, 1])
        xc = a[:, 0] + (py - y0) / safe * e[:, 0]
        crossings = (straddle & (x[:, 0:1] < xc)).sum(1)
        return torch.where(crossings % 2 == 1, -dist, dist)

    def inside(self, x):
        return self.signed_distance(x) <= 64 * torch.finfo(x.dtype).eps * self._scale()

    def _scale(self) -> float:
        lo, hi = self.bounds
        return max(max(abs(v) for v in lo + hi), max(b - a for a, b in zip(lo, hi)))

    def sample_interior(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        return interior_by_rejection(self, n, method=method, generator=generator, device=device, dtype=dtype)

    def _edge_cdf(self) -> list[float]:
        v = self.vertices
        return cumulative_shares([math.dist(a, b) for a, b in zip(v, v[1:] + v[:1])])

    def sample_boundary(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        u = unit_cube(n, 2, method=method, generator=generator, device=device, dtype=dtype)
        cdf = self._constant("edge_cdf", self._edge_cdf, u.device, u.dtype)
        w = u[:, 1].contiguous()
        k = len(self.vertices)
        edge = torch.searchsorted(cdf, w, right=True).clamp_(max=k - 1)
        a, e = self._edges(u)
        # the second column picks the edge, the first is the position along it
        s = u[:, 0:1]
        x = a[edge] + s * e[edge]
        ev = e[edge]
        nrm = torch.stack([ev[:, 1], -ev[:, 0]], dim=1)
        nrm = nrm / nrm.norm(dim=1, keepdim=True)
        return x, nrm

    def describe(self):
        out = {"type": "Polygon", "names": list(self.names), "vertices": [list(v) for v in self.vertices]}
        return out if self.name is None else {**out, "name": self.name}

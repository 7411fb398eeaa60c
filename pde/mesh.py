"""A domain read from a simplicial mesh file (any format meshio reads).

:class:`MeshDomain` uses the triangles of a 2-D mesh or the tetrahedra of a 3-D mesh
(quadrilaterals are split into two triangles; higher-order cells use their corner
vertices, i.e. the geometry is piecewise linear). Lower-dimensional cells such as
gmsh's boundary lines are ignored: the boundary is recomputed as the facets that
belong to exactly one cell, so it is correct for any (also non-convex) mesh.

Sampling
--------
Interior: a cell with probability proportional to its area/volume, then a point uniform
in it, ``x = sum_j w_j v_j`` with Dirichlet(1, ..., 1) weights ``w`` (the spacings of
``d`` sorted uniforms). Boundary: a facet with probability proportional to its
length/area, a uniform point on it the same way, and its outward unit normal (oriented
away from the vertex of the owning cell opposite the facet). Each point uses one row of
:func:`pde.sampling.unit_cube` (first column: the cell/facet, the others: the position),
so ``method="sobol"`` etc. work as for boxes.

``inside`` runs on the host: candidate cells come from a KD-tree over cell centroids
(every cell whose centroid lies within the largest centroid-to-vertex distance), then
a barycentric test. Shapes: points ``(N, d)``, normals ``(N, d)``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
import torch

from .domain import AbstractDomain, _names
from .sampling import unit_cube

__all__ = ["MeshDomain"]

# meshio cell type -> (dimension, number of corner vertices)
_SIMPLICES = {"triangle": 2, "triangle6": 2, "triangle7": 2, "tetra": 3, "tetra10": 3}
_QUADS = ("quad", "quad8", "quad9")


def _read(mesh):
    if isinstance(mesh, (str, os.PathLike)):
        import meshio

        path = os.fspath(mesh)
        if not os.path.exists(path):
            raise FileNotFoundError(f"mesh file {path!r} does not exist")
        return meshio.read(path), path
    if hasattr(mesh, "points") and hasattr(mesh, "cells"):
        return mesh, None
    raise TypeError(f"MeshDomain needs a mesh file path or a meshio.Mesh, got {type(mesh).__name__}")


def _cells(mesh) -> tuple[int, np.ndarray]:
    """Spatial dimension and the simplices ``(C, d + 1)`` (vertex indices) of a meshio mesh."""
    blocks = {2: [], 3: []}
    for block in mesh.cells:
        data = np.asarray(block.data, dtype=np.int64)
        if block.type in _SIMPLICES:
            d = _SIMPLICES[block.type]
            blocks[d].append(data[:, : d + 1])
        elif block.type in _QUADS:
            q = data[:, :4]
            blocks[2] += [q[:, [0, 1, 2]], q[:, [0, 2, 3]]]
    for d in (3, 2):
        if blocks[d]:
            return d, np.concatenate(blocks[d])
    found = sorted({b.type for b in mesh.cells})
    raise ValueError(f"mesh has no triangles, quadrilaterals or tetrahedra (cell types: {', '.join(found) or 'none'})")


class MeshDomain(AbstractDomain):
    """The region covered by the triangles (2-D) or tetrahedra (3-D) of a mesh.

    ``mesh``: a file path (read with meshio) or a ``meshio.Mesh``. ``names``: coordinate
    names (default ``x, y`` or ``x, y, z``). A 2-D mesh stored with a third coordinate must
    have that coordinate constant (it is dropped). Degenerate (zero-measure) cells are dropped.
    """

    def __init__(self, mesh, names: Sequence[str] | None = None):
        mesh, self.path = _read(mesh)
        d, cells = _cells(mesh)
        pts = np.asarray(mesh.points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] < d:
            raise ValueError(f"mesh points must have at least {d} coordinates, got shape {pts.shape}")
        if pts.shape[1] > d:
            extra = pts[np.unique(cells), d:]
            if np.ptp(extra, axis=0).max() > 1e-12 * max(1.0, np.abs(pts).max()):
                raise ValueError(f"a {d}-D mesh must be flat: its extra coordinate(s) vary; surface meshes in "
                                 f"{pts.shape[1]}-D are not supported")
            pts = pts[:, :d]
        if cells.min() < 0 or cells.max() >= len(pts):
            raise ValueError("mesh cells refer to points that do not exist")
        self.names = _names(names, d)
        verts = pts[cells]  # (C, d + 1, d)
        edges = verts[:, 1:] - verts[:, :1]  # (C, d, d)
        measure = np.abs(np.linalg.det(edges)) / math.factorial(d)
        keep = measure > 1e-14 * (np.ptp(pts, axis=0).max() ** d)
        if not keep.any():
            raise ValueError("every cell of the mesh is degenerate (zero area/volume)")
        cells, verts, edges, measure = cells[keep], verts[keep], edges[keep], measure[keep]
        self.cells, self.vertices = cells, verts
        self.cell_measure = measure
        used = pts[np.unique(cells)]
        self._lower, self._upper = used.min(axis=0).tolist(), used.max(axis=0).tolist()
        self._facets(cells, verts)
        # inside(): inverse affine maps and a KD-tree over centroids
        self._inv = np.linalg.inv(edges).transpose(0, 2, 1)  # lambda_{1..d} = inv @ (x - v0)
        self._centroid = verts.mean(axis=1)
        self._radius = float(np.linalg.norm(verts - self._centroid[:, None], axis=2).max()) * (1 + 1e-9)
        from scipy.spatial import cKDTree

        self._tree = cKDTree(self._centroid)
        self._cache: dict = {}

    def _facets(self, cells: np.ndarray, verts: np.ndarray) -> None:
        """Boundary facets (in exactly one cell), their measure and outward unit normals."""
        C, k = cells.shape  # k = d + 1
        d = k - 1
        # facet j of a cell omits local vertex j
        local = np.array([[i for i in range(k) if i != j] for j in range(k)])
        faces = cells[:, local].reshape(C * k, d)
        key = np.sort(faces, axis=1)
        _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        single = counts[inverse.reshape(-1)] == 1
        owner, omitted = np.divmod(np.nonzero(single)[0], k)
        fv = verts[owner[:, None], local[omitted]]  # (F, d, d): facet vertices
        opposite = verts[owner, omitted]  # (F, d)
        if d == 2:
            t = fv[:, 1] - fv[:, 0]
            normal = np.stack([t[:, 1], -t[:, 0]], axis=1)
            size = np.linalg.norm(t, axis=1)
        else:
            normal = np.cross(fv[:, 1] - fv[:, 0], fv[:, 2] - fv[:, 0])
            size = np.linalg.norm(normal, axis=1) / 2.0
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        flip = np.einsum("fi,fi->f", normal, fv[:, 0] - opposite) < 0
        normal[flip] *= -1.0
        self.facet_vertices, self.facet_normals, self.facet_measure = fv, normal, size

    # -- AbstractDomain ---------------------------------------------------------------------
    @property
    def bounds(self):
        return list(self._lower), list(self._upper)

    @property
    def volume(self) -> float:
        """Total area (2-D) or volume (3-D) of the cells."""
        return float(self.cell_measure.sum())

    @property
    def boundary_measure(self) -> float:
        """Total length (2-D) or area (3-D) of the boundary."""
        return float(self.facet_measure.sum())

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    def _on(self, device, dtype):
        """Mesh arrays as tensors on ``device``/``dtype`` (moved once, then cached)."""
        key = (str(torch.device(device) if device is not None else torch.device("cpu")), dtype)
        if key not in self._cache:
            def t(a):
                return torch.as_tensor(a, dtype=torch.float64).to(device=device, dtype=dtype)

            def cdf(m):
                c = np.cumsum(m) / m.sum()
                c[-1] = 1.0
                return t(c)

            self._cache[key] = {"verts": t(self.vertices), "cell_cdf": cdf(self.cell_measure),
                                "fverts": t(self.facet_vertices), "normals": t(self.facet_normals),
                                "facet_cdf": cdf(self.facet_measure)}
        return self._cache[key]

    @staticmethod
    def _weights(u: torch.Tensor) -> torch.Tensor:
        """Dirichlet(1, ..., 1) weights ``(n, k + 1)`` from ``k`` uniforms per row (spacings of the sorted ones)."""
        s = torch.sort(u, dim=1).values if u.shape[1] > 1 else u
        zeros, ones = torch.zeros_like(s[:, :1]), torch.ones_like(s[:, :1])
        return torch.diff(torch.cat([zeros, s, ones], dim=1), dim=1)

    @staticmethod
    def _pick(cdf: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return torch.searchsorted(cdf, u.contiguous(), right=True).clamp_(max=len(cdf) - 1)

    def sample_interior(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        u = unit_cube(n, self.dim + 1, method=method, generator=generator, device=device, dtype=dtype)
        m = self._on(u.device, dtype)
        idx = self._pick(m["cell_cdf"], u[:, 0])
        w = self._weights(u[:, 1:])
        return torch.einsum("nk,nkd->nd", w, m["verts"][idx])

    def sample_boundary(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        u = unit_cube(n, self.dim, method=method, generator=generator, device=device, dtype=dtype)
        m = self._on(u.device, dtype)
        idx = self._pick(m["facet_cdf"], u[:, 0])
        w = self._weights(u[:, 1:])
        return torch.einsum("nk,nkd->nd", w, m["fverts"][idx]), m["normals"][idx]

    def inside(self, x: torch.Tensor) -> torch.Tensor:
        """Boolean ``(N,)``: rows of ``x`` ``(N, d)`` in the closed domain (computed on the host).

        A point counts as inside when its barycentric coordinates in some cell are all
        ``>= -tol`` with ``tol = max(1e-10, 64 * eps(x.dtype))`` (relative to the cell size).
        """
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"points must have shape (N, {self.dim}), got {tuple(x.shape)}")
        tol = max(1e-10, 64 * torch.finfo(x.dtype).eps) if x.is_floating_point() else 1e-10
        p = x.detach().cpu().numpy().astype(np.float64)
        result = np.zeros(len(p), dtype=bool)
        if len(p):
            cand = self._tree.query_ball_point(p, self._radius)
            lens = np.fromiter((len(c) for c in cand), dtype=np.int64, count=len(cand))
            if lens.sum():
                rows = np.repeat(np.arange(len(p)), lens)
                cols = np.concatenate([np.asarray(c, dtype=np.int64) for c in cand if len(c)])
                lam = np.einsum("pij,pj->pi", self._inv[cols], p[rows] - self.vertices[cols, 0])
                ok = (lam >= -tol).all(axis=1) & (lam.sum(axis=1) <= 1 + tol)
                result[rows[ok]] = True
        return torch.from_numpy(result).to(x.device)

    def describe(self) -> dict:
        lo, hi = self.bounds
        return {"type": "MeshDomain", "path": self.path, "names": list(self.names), "lower": lo, "upper": hi,
                "n_vertices": int(len(np.unique(self.cells))), "n_cells": self.n_cells,
                "n_boundary_facets": int(len(self.facet_measure)), "volume": self.volume,
                "boundary_measure": self.boundary_measure}

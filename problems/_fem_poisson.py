"""Finite-element reference for Poisson and Helmholtz problems on a square with circular holes (optional extra ``fem``).

Meshing: Shewchuk's Triangle through the ``triangle`` wheel (quality Delaunay meshes of a planar straight-line
graph with holes, constrained angles and areas; a small, long-kept C library with binary wheels, no
system install, unlike gmsh's SDK). Assembly and solve: scikit-fem (pure Python on numpy/scipy, P1/P2
Lagrange elements, no compiled dependencies). Both are in the ``fem`` extra (``pip install pdekit[fem]``).

The circles are polygons of ``segments`` vertices on the true circles; for P1 elements the geometric error
of the straight edges is of the same order (h^2) as the interpolation error, so the nodal error falls at
second order when the mesh size and the circle edges are halved together
(``tests/problems/test_fem_poisson.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["mesh_square_with_holes", "solve_poisson_fem"]


def mesh_square_with_holes(centres: Sequence[Sequence[float]], radius: float, h: float,
                           lower=(0.0, 0.0), upper=(1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Triangle mesh of the box minus disks: nodes ``(P, 2)`` and triangles ``(T, 3)``; edge length about ``h``."""
    import triangle

    (x0, y0), (x1, y1) = lower, upper
    nx, ny = max(2, round((x1 - x0) / h)), max(2, round((y1 - y0) / h))
    bottom = [(x0 + (x1 - x0) * i / nx, y0) for i in range(nx)]
    right = [(x1, y0 + (y1 - y0) * i / ny) for i in range(ny)]
    top = [(x1 - (x1 - x0) * i / nx, y1) for i in range(nx)]
    left = [(x0, y1 - (y1 - y0) * i / ny) for i in range(ny)]
    verts = bottom + right + top + left
    segs = [(i, (i + 1) % len(verts)) for i in range(len(verts))]
    k = max(8, round(2 * math.pi * radius / h))
    for cx, cy in centres:
        start = len(verts)
        verts += [(cx + radius * math.cos(2 * math.pi * j / k), cy + radius * math.sin(2 * math.pi * j / k))
                  for j in range(k)]
        segs += [(start + j, start + (j + 1) % k) for j in range(k)]
    spec = {"vertices": np.array(verts), "segments": np.array(segs), "holes": np.array(centres, dtype=float)}
    out = triangle.triangulate(spec, f"pq30a{math.sqrt(3) / 4 * h * h:.12f}")
    return out["vertices"], out["triangles"]


def solve_poisson_fem(source: Callable[[np.ndarray, np.ndarray], np.ndarray],
                      boundary: Callable[[np.ndarray, np.ndarray], np.ndarray], centres, radius: float, h: float,
                      order: int = 1, wavenumber: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``-lap u - wavenumber^2 u = source`` in the unit square minus disks, ``u = boundary`` on every boundary.

    ``wavenumber = 0`` (default) is Poisson's equation, otherwise Helmholtz's (``wavenumber^2`` must not be a
    Dirichlet eigenvalue of the domain). ``source(x, y)`` and ``boundary(x, y)`` are numpy functions. Returns
    the mesh nodes ``(P, 2)`` and the solution there ``(P,)`` (P1 or P2, ``order``; for P2 the values at the
    vertices).
    """
    import skfem
    from skfem.helpers import dot, grad

    if order not in (1, 2):
        raise ValueError(f"FEM order must be 1 or 2, got {order}")
    pts, tris = mesh_square_with_holes(centres, radius, h)
    mesh = skfem.MeshTri(np.ascontiguousarray(pts.T), np.ascontiguousarray(tris.T))
    elem = skfem.ElementTriP1() if order == 1 else skfem.ElementTriP2()
    basis = skfem.Basis(mesh, elem)

    @skfem.BilinearForm
    def stiffness(u, v, w):
        return dot(grad(u), grad(v))

    k2 = float(wavenumber) ** 2

    @skfem.BilinearForm
    def mass(u, v, w):
        return u * v

    @skfem.LinearForm
    def load(v, w):
        return source(w.x[0], w.x[1]) * v

    a, b = stiffness.assemble(basis), load.assemble(basis)
    if k2:
        a = a - k2 * mass.assemble(basis)
    dofs = basis.get_dofs()  # every boundary facet: the outer square and the holes
    u = np.zeros(basis.N)
    xb = basis.doflocs[:, dofs.flatten()]
    u[dofs.flatten()] = boundary(xb[0], xb[1])
    u = skfem.solve(*skfem.condense(a, b, x=u, D=dofs))
    return mesh.p.T.copy(), u[: mesh.p.shape[1]].copy()

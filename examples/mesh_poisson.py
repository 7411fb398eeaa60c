"""Poisson's equation on an L-shaped domain read from a mesh file, against an exact solution.

    -laplace(u) = 2 pi^2 sin(pi x) sin(pi y)   in  Omega = [-1, 1]^2 minus (0, 1] x (0, 1]
             u = sin(pi x) sin(pi y)           on  the boundary of Omega

The exact solution is u = sin(pi x) sin(pi y). The domain comes from a triangle mesh
(written here with meshio if no mesh file is given; any file meshio reads works, e.g.
a gmsh .msh). The run is stored in an HDF5 file; then try
``pde show mesh_poisson.h5``, ``pde validate mesh_poisson.h5 --json`` and
``pde export mesh_poisson.h5 --mesh lshape.msh --out mesh_poisson.vtu`` for ParaView.

Run: ``python examples/mesh_poisson.py [STEPS]``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pde import AbstractProblem, Dirichlet
from pde.mesh import MeshDomain


def write_lshape_mesh(path, n: int = 16) -> str:
    """Triangulate [-1, 1]^2 minus the quadrant (0, 1] x (0, 1] on an ``n x n`` grid and write it."""
    import meshio

    xs = np.linspace(-1.0, 1.0, n + 1)
    ids = -np.ones((n + 1, n + 1), dtype=np.int64)
    points, tris = [], []

    def vid(i, j):
        if ids[i, j] < 0:
            ids[i, j] = len(points)
            points.append([xs[i], xs[j]])
        return ids[i, j]

    for i in range(n):
        for j in range(n):
            if i >= n // 2 and j >= n // 2:
                continue
            a, b, c, d = vid(i, j), vid(i + 1, j), vid(i + 1, j + 1), vid(i, j + 1)
            tris += [[a, b, c], [a, c, d]]
    meshio.write(path, meshio.Mesh(np.array(points), [("triangle", np.array(tris))]))
    return str(path)


def exact_u(p: torch.Tensor) -> torch.Tensor:
    return torch.sin(math.pi * p[:, 0]) * torch.sin(math.pi * p[:, 1])


@dataclass
class MeshPoisson(AbstractProblem):
    """Poisson with a manufactured solution on the domain of a mesh file."""

    name = "mesh_poisson"
    eval_points = 41
    mesh: str = "lshape.msh"

    def __post_init__(self):
        self._domain = MeshDomain(self.mesh)

    @property
    def domain(self):
        return self._domain

    def residual(self, d):
        return -d.laplacian("u") - 2 * math.pi ** 2 * exact_u(d.points)

    def conditions(self):
        return [Dirichlet(exact_u, n=256)]

    def exact(self, p):
        return exact_u(p)[:, None]

    def default_settings(self):
        return {"steps": 3000, "lr": 2e-3, "n_interior": 1000, "checkpoint_every": 500}


def main(steps: int = 3000, out: str = "mesh_poisson.h5", mesh: str | None = None, quiet: bool = False):
    """Solve, store the run in ``out`` and return it (``run.metrics["rel_l2"]``)."""
    from pde.models import MLP
    from pde.solve import solve

    if mesh is None:
        mesh = write_lshape_mesh(Path(out).with_name("lshape.msh"))
    run = solve(MeshPoisson(mesh=str(mesh)), model=MLP(width=32, depth=3), steps=steps, out=out, seed=0,
                quiet=quiet)
    print(f"L-shaped Poisson: relative L2 error {run.metrics['rel_l2']:.3e} after {steps} steps ({out})")
    return run


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)

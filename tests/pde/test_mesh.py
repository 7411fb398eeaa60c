"""Tests of pde.mesh.MeshDomain on the shipped L-shaped triangle mesh and an in-memory tetrahedral cube."""

from __future__ import annotations

import itertools
from pathlib import Path

import meshio
import numpy as np
import pytest
import torch

from pde.mesh import MeshDomain

LSHAPE = Path(__file__).parents[1] / "data" / "lshape.msh"


@pytest.fixture(scope="module")
def lshape():
    return MeshDomain(LSHAPE)


def in_lshape(p: torch.Tensor) -> torch.Tensor:
    """Exact indicator of [-1, 1]^2 minus (0, 1] x (0, 1]."""
    x, y = p[:, 0], p[:, 1]
    return (x.abs() <= 1) & (y.abs() <= 1) & ~((x > 0) & (y > 0))


def dist_to_lshape_boundary(p: torch.Tensor) -> torch.Tensor:
    x, y = p[:, 0], p[:, 1]
    segs = [((-1, -1), (1, -1)), ((1, -1), (1, 0)), ((1, 0), (0, 0)), ((0, 0), (0, 1)), ((0, 1), (-1, 1)),
            ((-1, 1), (-1, -1))]
    out = torch.full_like(x, float("inf"))
    for (ax, ay), (bx, by) in segs:
        tx, ty = bx - ax, by - ay
        s = (((x - ax) * tx + (y - ay) * ty) / (tx * tx + ty * ty)).clamp(0, 1)
        out = torch.minimum(out, torch.hypot(x - ax - s * tx, y - ay - s * ty))
    return out


def cube_mesh(n: int = 3) -> meshio.Mesh:
    """[0, 1]^3 split into n^3 cubes of 6 (Kuhn) tetrahedra each, as a meshio mesh."""
    g = np.linspace(0.0, 1.0, n + 1)
    pts = np.array(list(itertools.product(g, g, g)))

    def vid(i, j, k):
        return (i * (n + 1) + j) * (n + 1) + k

    tets = []
    for i, j, k in itertools.product(range(n), repeat=3):
        for perm in itertools.permutations(range(3)):
            v, path = [i, j, k], [vid(i, j, k)]
            for axis in perm:
                v[axis] += 1
                path.append(vid(*v))
            tets.append(path)
    return meshio.Mesh(pts, [("tetra", np.array(tets))])


def test_lshape_geometry(lshape):
    assert lshape.names == ("x", "y") and lshape.dim == 2
    assert lshape.volume == pytest.approx(3.0, rel=1e-12)
    assert lshape.boundary_measure == pytest.approx(8.0, rel=1e-12)
    assert lshape.bounds == ([-1.0, -1.0], [1.0, 1.0])
    info = lshape.describe()
    assert info["n_cells"] == 600 and info["n_boundary_facets"] == 80 and info["path"].endswith("lshape.msh")


def test_inside_matches_the_exact_nonconvex_shape(lshape):
    g = torch.Generator().manual_seed(0)
    p = torch.rand(20000, 2, generator=g, dtype=torch.float64) * 2.4 - 1.2
    far = dist_to_lshape_boundary(p) > 1e-9
    assert torch.equal(lshape.inside(p)[far], in_lshape(p)[far])
    corners = torch.tensor([[0.0, 0.0], [1.0, 0.0], [-1.0, 1.0], [0.5, 0.0], [0.0, 0.5]], dtype=torch.float64)
    assert lshape.inside(corners).all()  # closed domain
    assert not lshape.inside(torch.tensor([[0.5, 0.5], [0.01, 0.01], [1.01, -0.5]])).any()


@pytest.mark.parametrize("method", ["uniform", "sobol"])
def test_interior_samples_inside_and_uniform(lshape, method):
    n = 30000
    p = lshape.sample_interior(n, method=method, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert p.shape == (n, 2) and p.dtype == torch.float64
    assert lshape.inside(p).all() and in_lshape(p).all()
    # fraction in a region = its area / 3; binomial standard deviation <= 0.003, bound 0.015 (5 sigma)
    regions = {
        "lower-left quadrant": ((p[:, 0] < 0) & (p[:, 1] < 0), 1.0),
        "upper-left quadrant": ((p[:, 0] < 0) & (p[:, 1] > 0), 1.0),
        "square across cells": ((p[:, 0] - 0.23).abs() < 0.37) & ((p[:, 1] + 0.41).abs() < 0.29),
    }
    regions["square across cells"] = (regions["square across cells"], 0.74 * 0.58)
    for name, (mask, area) in regions.items():
        frac = mask.double().mean().item()
        assert abs(frac - area / 3.0) < 0.015, (name, frac, area / 3.0)


def test_sampling_reproducible_and_dtype(lshape):
    a = lshape.sample_interior(100, generator=torch.Generator().manual_seed(3))
    b = lshape.sample_interior(100, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.dtype == torch.float32
    x, nrm = lshape.sample_boundary(50, method="halton", generator=torch.Generator().manual_seed(3))
    assert x.shape == nrm.shape == (50, 2) and x.dtype == torch.float32


def test_lshape_boundary_normals_unit_and_outward(lshape):
    x, nrm = lshape.sample_boundary(4000, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.allclose(nrm.norm(dim=1), torch.ones(len(x), dtype=torch.float64), atol=1e-14)
    assert (dist_to_lshape_boundary(x) < 1e-12).all()
    eps = 1e-4
    assert not lshape.inside(x + eps * nrm).any()
    assert lshape.inside(x - eps * nrm).all()
    # boundary points spread by length: the side x = -1 has length 2 of 8
    frac = ((x[:, 0] + 1).abs() < 1e-12).double().mean().item()
    assert abs(frac - 0.25) < 0.03


def test_tetrahedral_cube_from_meshio_object():
    cube = MeshDomain(cube_mesh(3), names=("a", "b", "c"))
    assert cube.names == ("a", "b", "c")
    assert cube.volume == pytest.approx(1.0, rel=1e-12)
    assert cube.boundary_measure == pytest.approx(6.0, rel=1e-12)
    g = torch.Generator().manual_seed(0)
    p = cube.sample_interior(5000, generator=g, dtype=torch.float64)
    assert ((p >= 0) & (p <= 1)).all() and cube.inside(p).all()
    assert abs((p[:, 0] < 0.3).double().mean().item() - 0.3) < 0.03
    x, nrm = cube.sample_boundary(2000, generator=g, dtype=torch.float64)
    on_face = torch.minimum(x, 1 - x).abs().min(dim=1).values < 1e-12
    assert on_face.all()
    assert torch.allclose(nrm.abs().sum(dim=1), torch.ones(len(x), dtype=torch.float64))  # axis-aligned unit
    assert not cube.inside(x + 1e-4 * nrm).any() and cube.inside(x - 1e-4 * nrm).all()
    assert not cube.inside(torch.tensor([[1.1, 0.5, 0.5], [0.5, -0.01, 0.5]])).any()


def graded_square(n: int = 8) -> meshio.Mesh:
    """[0, 1]^2 on the graded grid x_i = (i / n)^2 (cells of very different sizes), as quads."""
    g = np.linspace(0.0, 1.0, n + 1) ** 2
    pts = np.array([[a, b] for a in g for b in g])
    quads = [[i * (n + 1) + j, (i + 1) * (n + 1) + j, (i + 1) * (n + 1) + j + 1, i * (n + 1) + j + 1]
             for i in range(n) for j in range(n)]
    return meshio.Mesh(pts, [("quad", np.array(quads))])


def test_sampling_weights_cells_and_facets_by_measure():
    dom = MeshDomain(graded_square())
    assert dom.volume == pytest.approx(1.0) and dom.boundary_measure == pytest.approx(4.0)
    g = torch.Generator().manual_seed(0)
    p = dom.sample_interior(20000, generator=g, dtype=torch.float64)
    for c in (0, 1):  # most cells lie at small x, y, but half the points must have x < 0.5
        assert abs((p[:, c] < 0.5).double().mean().item() - 0.5) < 0.02
    x, _ = dom.sample_boundary(20000, generator=g, dtype=torch.float64)
    assert abs((x[:, 0] < 0.5).double().mean().item() - 0.5) < 0.02


def test_uniform_inside_one_triangle():
    tri = MeshDomain(meshio.Mesh(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), [("triangle", np.array([[0, 1, 2]]))]))
    p = tri.sample_interior(20000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert tri.inside(p).all()
    assert abs((p.sum(dim=1) < 0.5).double().mean().item() - 0.25) < 0.015  # area ratio 1/4
    assert abs((p[:, 0] > 0.5).double().mean().item() - 0.25) < 0.015
    assert torch.allclose(p.mean(dim=0), torch.tensor([1 / 3, 1 / 3], dtype=torch.float64), atol=0.01)


def test_mesh_errors(tmp_path):
    lines = meshio.Mesh(np.array([[0.0, 0.0], [1.0, 0.0]]), [("line", np.array([[0, 1]]))])
    with pytest.raises(ValueError, match="no triangles"):
        MeshDomain(lines)
    with pytest.raises(FileNotFoundError):
        MeshDomain(tmp_path / "missing.msh")
    with pytest.raises(ValueError, match="coordinate names"):
        MeshDomain(LSHAPE, names=("x",))
    with pytest.raises(ValueError, match="shape"):
        MeshDomain(LSHAPE).inside(torch.zeros(3, 3))


def test_space_time_over_a_mesh_and_a_model_on_it(lshape):
    from pde.domain import SpaceTime, TimeInterval
    from pde.models import PINN

    st = SpaceTime(lshape, TimeInterval(0.0, 2.0))
    g = torch.Generator().manual_seed(0)
    x, nrm = st.sample_boundary(200, generator=g)
    assert x.shape == nrm.shape == (200, 3) and (nrm[:, 2] == 0).all()
    assert st.inside(st.sample_interior(200, generator=g)).all()
    assert in_lshape(st.sample_initial(100, generator=g)[:, :2]).all()
    model = PINN(width=8, depth=1).build(st, 1)
    assert model(x).shape == (200, 1)


def test_steady_state_mesh_sampling_makes_no_host_tensors(lshape, hot_loop_trap):
    """Mesh arrays are moved to the device once: later draws create no tensor from host data and index with no
    boolean mask (``inside`` is a host computation by design and is not part of a training step)."""
    g = torch.Generator().manual_seed(0)
    lshape.sample_interior(32, generator=g)
    lshape.sample_boundary(32, generator=g)
    with hot_loop_trap() as trap:
        trap.armed = True
        x = lshape.sample_interior(32, generator=g)
        b, nrm = lshape.sample_boundary(32, generator=g)
    assert trap.events == [], trap.report()
    assert x.shape == (32, 2) and b.shape == (32, 2) and torch.allclose(nrm.norm(dim=1), torch.ones(32))
    assert not lshape.fills_bounding_box

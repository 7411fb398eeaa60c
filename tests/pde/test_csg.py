"""Constructive solid geometry (pde.csg, pde.polygon): areas and perimeters by Monte Carlo against exact values,
normals on every boundary part, points on the boundary to 1e-12, no point outside, named parts, bad input."""

import math

import pytest
import torch

from pde import Ball, Box, Dirichlet, Disk, Polygon, SpaceTime, TimeInterval
from pde.csg import Difference, Intersection, Union, boundary_measure, boundary_part, signed_distance
from pde.rejection import measured_rate

R = 0.1
CENTRES = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]


def plate():
    d = Box([0, 0], [1, 1])
    for c in CENTRES:
        d = d - Disk(c, R)
    return d


def lens(d, r=1.0):
    """Area of the intersection of two disks of radius r whose centres are d apart."""
    return 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)


# (domain factory, exact area, exact perimeter)
SHAPES = {
    "plate": (plate, 1 - 4 * math.pi * R ** 2, 4 + 4 * 2 * math.pi * R),
    "edge_notch": (lambda: Box([0, 0], [1, 1]) - Disk((1.0, 0.5), 0.25), 1 - math.pi * 0.25 ** 2 / 2,
                   4 - 0.5 + math.pi * 0.25),
    "two_disks_union": (lambda: Disk((0, 0), 1) | Disk((1, 0), 1), 2 * math.pi - lens(1.0), 8 * math.pi / 3),
    "two_disks_meet": (lambda: Disk((0, 0), 1) & Disk((1, 0), 1), lens(1.0), 4 * math.pi / 3),
    "l_polygon_minus_disk": (lambda: Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]) - Disk((0.5, 0.5), 0.2),
                             3 - math.pi * 0.04, 8 + 2 * math.pi * 0.2),
    "box_plus_box": (lambda: Box([0, 0], [2, 1]) + Box([1, 0], [3, 2]), 2 + 4 - 1, 2 * (3 + 2)),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_area_and_perimeter_by_monte_carlo(shape):
    make, area, perimeter = SHAPES[shape]
    dom = make()
    lo, hi = dom.bounds
    box_area = math.prod(b - a for a, b in zip(lo, hi))
    n = 400_000
    x = Box(lo, hi).sample_interior(n, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    p = dom.inside(x).double().mean().item()
    assert abs(p * box_area - area) < 5 * box_area * math.sqrt(p * (1 - p) / n) + 1e-12
    # perimeter: kept fraction of candidates drawn on every primitive's boundary, times their total length
    dom.boundary_acceptance()
    q = measured_rate(dom, "boundary")
    total = sum(boundary_measure(leaf) for leaf, _ in dom.leaves)
    m = 65_536
    assert abs(q * total - perimeter) < 5 * total * math.sqrt(max(q * (1 - q), 1e-6) / m) + 1e-9


@pytest.mark.parametrize("shape", list(SHAPES))
def test_boundary_points_exactly_on_boundary_with_outward_normals(shape):
    dom = SHAPES[shape][0]()
    g = torch.Generator().manual_seed(2)
    for part in dom.boundary_parts:
        x, nrm = dom.sample_boundary(2000, generator=g, dtype=torch.float64, part=part)
        assert x.shape == nrm.shape == (2000, 2)
        leaves = [leaf for (leaf, _), p in zip(dom.leaves, dom.part_of_leaf) if p == part]
        dist = torch.stack([signed_distance(leaf, x).abs() for leaf in leaves]).amin(0)
        assert dist.max() < 1e-12, part
        assert dom.inside(x).all()
        assert torch.allclose(nrm.norm(dim=1), torch.ones(2000, dtype=torch.float64))
        h = 1e-6
        assert not dom.inside(x + h * nrm).any(), f"normals of part {part!r} do not point out"
        assert dom.inside(x - h * nrm).double().mean() > 0.999, part


def test_boundary_covers_every_part_in_proportion_to_length():
    dom = plate()
    assert dom.boundary_parts == ("outer", "hole 1", "hole 2", "hole 3", "hole 4")
    x, _ = dom.sample_boundary(100_000, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    on_hole = [(signed_distance(Disk(c, R), x).abs() < 1e-12).double().mean().item() for c in CENTRES]
    share = 2 * math.pi * R / (4 + 8 * math.pi * R)
    for s in on_hole:
        assert abs(s - share) < 5 * math.sqrt(share * (1 - share) / 100_000)


@pytest.mark.parametrize("method", ["uniform", "sobol", "halton"])
def test_no_interior_point_outside(method):
    dom = plate()
    x = dom.sample_interior(20_000, method=method, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert x.shape == (20_000, 2) and dom.inside(x).all()
    for c in CENTRES:
        assert ((x - torch.tensor(c, dtype=torch.float64)).norm(dim=1) >= R - 1e-12).all()
    assert (x >= 0).all() and (x <= 1).all()
    # spread over the whole domain: the mean is the centre of the symmetric plate
    assert (x.mean(0) - 0.5).abs().max() < 0.02


def test_sampling_is_reproducible_and_float32_stays_inside():
    dom = plate()
    a = dom.sample_interior(1000, generator=torch.Generator().manual_seed(5))
    b = dom.sample_interior(1000, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.dtype == torch.float32 and dom.inside(a).all()
    xb, nb = dom.sample_boundary(1000, generator=torch.Generator().manual_seed(5))
    assert dom.inside(xb).all() and xb.dtype == torch.float32


def test_named_parts_and_conditions_on_a_part():
    dom = Box([0, 0], [1, 1]) - Disk((0.3, 0.5), 0.1, name="inlet") - Disk((0.7, 0.5), 0.1)
    assert dom.boundary_parts == ("outer", "inlet", "hole 1")
    bc = Dirichlet(1.0, on="inlet")
    x, nrm = bc.sample(dom, 500, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    assert ((x - torch.tensor([0.3, 0.5], dtype=torch.float64)).norm(dim=1) - 0.1).abs().max() < 1e-12
    assert bc.describe()["on"] == "inlet"
    # space-time: the lateral boundary of the part
    st = dom * TimeInterval(0, 2)
    assert isinstance(st, SpaceTime)
    x, nrm = Dirichlet(0.0, on="hole 1").sample(st, 300, generator=torch.Generator().manual_seed(7),
                                                 dtype=torch.float64)
    assert x.shape == (300, 3) and (nrm[:, 2] == 0).all()
    assert ((x[:, :2] - torch.tensor([0.7, 0.5], dtype=torch.float64)).norm(dim=1) - 0.1).abs().max() < 1e-12
    assert (x[:, 2] >= 0).all() and (x[:, 2] <= 2).all()
    # a primitive has one part, "outer" or its name
    assert boundary_part(Box([0, 0], [1, 1]), "outer").bounds == ([0.0, 0.0], [1.0, 1.0])


def test_grid_mask_marks_the_domain():
    dom = plate()
    axes, pts, mask = dom.grid(201, dtype=torch.float64)
    assert mask.shape == (201 * 201,)
    assert torch.equal(mask, dom.inside(pts))
    assert abs(mask.double().mean().item() - (1 - 4 * math.pi * R ** 2)) < 0.01
    assert not mask[((pts - torch.tensor([0.25, 0.25], dtype=torch.float64)).norm(dim=1) < R - 1e-9)].any()


def test_three_dimensional_box_minus_ball():
    dom = Box.cube(3) - Ball([0.5, 0.5, 0.5], 0.3)
    x = dom.sample_interior(5000, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    assert dom.inside(x).all() and ((x - 0.5).norm(dim=1) >= 0.3 - 1e-12).all()
    xb, nb = dom.sample_boundary(5000, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    on_ball = ((xb - 0.5).norm(dim=1) - 0.3).abs() < 1e-12
    share = 4 * math.pi * 0.09 / (6 + 4 * math.pi * 0.09)
    assert abs(on_ball.double().mean().item() - share) < 5 * math.sqrt(share * (1 - share) / 5000)
    # on the ball the normal points to its centre
    inward = (0.5 - xb[on_ball]) / 0.3
    assert torch.allclose(nb[on_ball], inward, atol=1e-12)


def test_operators_build_the_composites():
    a, b = Box([0, 0], [1, 1]), Disk((1, 1), 0.5)
    assert isinstance(a - b, Difference) and isinstance(a | b, Union) and isinstance(a + b, Union)
    assert isinstance(a & b, Intersection)
    assert (a | b).bounds == ([0.0, 0.0], [1.5, 1.5])
    assert (a & b).bounds == ([0.5, 0.5], [1.0, 1.0])
    assert (a - b).describe()["type"] == "Difference"


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="empty"):
        Disk((0.5, 0.5), 0.2) - Box([0, 0], [1, 1])
    with pytest.raises(ValueError, match="empty"):
        Disk((0, 0), 1) & Disk((5, 0), 1)
    with pytest.raises(ValueError, match="unknown boundary part 'hole 9'.*'outer', 'hole 1'"):
        plate().sample_boundary(10, part="hole 9")
    with pytest.raises(ValueError, match="unknown boundary part 'rim'"):
        Dirichlet(0.0, on="rim").sample(plate(), 10)
    with pytest.raises(ValueError, match="unknown boundary part 'hole 1'"):
        boundary_part(Box([0, 0], [1, 1]), "hole 1")
    with pytest.raises(ValueError, match="coordinates"):
        Box([0, 0], [1, 1]) - Disk((0, 0), 1, names=("x", "z"))
    with pytest.raises(ValueError, match="simple"):
        Polygon([(0, 0), (2, 2), (2, 0), (0, 1)])
    with pytest.raises(ValueError, match="TimeInterval"):
        SpaceTime(Box([0], [1]), TimeInterval(0, 1)) - Box([0, 0], [0.5, 0.5])


@pytest.mark.parametrize("method", ["uniform", "sobol_stream"])
def test_sampling_in_the_training_loop_waits_on_no_host(method, device, hot_loop_trap):
    from pde.sampling import SobolStream

    dom = plate() * TimeInterval(0, 1)
    m = SobolStream(3) if method == "sobol_stream" else "uniform"
    g = torch.Generator(device=device).manual_seed(0)
    bc = Dirichlet(0.0, on="hole 2")

    def draw():
        a = dom.sample_interior(256, method=m, generator=g, device=device)
        b, nb = dom.sample_boundary(128, method=m, generator=g, device=device)
        c, nc = bc.sample(dom, 64, method=m, generator=g, device=device)
        return a, b, c

    draw()  # warm-up: acceptance rates measured, constants cached
    with hot_loop_trap() as trap:
        trap.armed = True
        a, b, c = draw()
        trap.armed = False
    assert trap.events == [], trap.report()
    assert a.device.type == device.type and dom.inside(a).all() and dom.inside(b).all()


def test_a_problem_on_the_plate_trains_with_conditions_on_parts(tmp_path):
    from pde import define, solve
    from samplers import R3

    prob = define("plate", plate(), lambda d: d.laplacian("u"),
                  conditions=[Dirichlet(0.0, name="outer", on="outer"),
                              Dirichlet(1.0, name="hole", on="hole 1")])
    run = solve(prob, sampler=R3(n=128), steps=4, lbfgs_steps=2, device="cpu", quiet=True,
                out=tmp_path / "plate.h5", n_boundary=32)
    assert run.status == "finished" and (tmp_path / "plate.h5").exists()
    assert "loss/outer" in run.history and "loss/hole" in run.history
    assert all(torch.isfinite(torch.as_tensor(run.history["loss/hole"])))

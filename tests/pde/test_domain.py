import math

import pytest
import torch

from pde import Ball, Box, Disk, Interval, SpaceTime, TimeInterval
from pde.sampling import METHODS, unit_cube


@pytest.mark.parametrize("method", METHODS)
def test_unit_cube_in_range_and_reproducible(method):
    a = unit_cube(256, 3, method=method, generator=torch.Generator().manual_seed(1))
    b = unit_cube(256, 3, method=method, generator=torch.Generator().manual_seed(1))
    assert a.shape == (256, 3) and torch.equal(a, b)
    assert (a >= 0).all() and (a < 1).all()
    # each coordinate roughly uniform: mean 1/2 within 5 standard errors
    assert (a.mean(0) - 0.5).abs().max() < 5 * math.sqrt(1 / 12 / 256)


def test_unit_cube_errors():
    with pytest.raises(ValueError, match="unknown sampling method 'foo'"):
        unit_cube(4, 2, method="foo")
    with pytest.raises(ValueError, match="dimension"):
        unit_cube(4, 0)


def test_box_high_dimensional_interior_and_boundary():
    d = 2000
    box = Box.cube(d, -1.0, 1.0)
    assert box.names[0] == "x1" and box.names[-1] == f"x{d}"
    g = torch.Generator().manual_seed(0)
    x = box.sample_interior(64, generator=g)
    assert x.shape == (64, d) and box.inside(x).all()
    xb, n = box.sample_boundary(500, generator=g)
    assert box.inside(xb).all()
    assert torch.allclose(n.norm(dim=1), torch.ones(500))
    # exactly one coordinate sits on a face, the one the normal points along
    on_face = (xb.abs() == 1.0)
    assert (on_face.sum(1) == 1).all()
    assert torch.equal(on_face, n != 0)
    assert torch.equal(torch.sign(xb[n != 0]), n[n != 0])


def test_box_boundary_faces_weighted_by_area():
    box = Box([0, 0], [4, 1])  # faces x=0,4 have length 1; faces y=0,1 have length 4
    _, n = box.sample_boundary(20000, generator=torch.Generator().manual_seed(3))
    frac_x = (n[:, 0] != 0).float().mean().item()
    assert abs(frac_x - 2 / 10) < 0.02
    assert abs((n[:, 0] > 0).float().mean().item() - 0.1) < 0.015


def test_interval_boundary_and_grid():
    iv = Interval(-1, 1)
    x, n = iv.sample_boundary(100, generator=torch.Generator().manual_seed(0))
    assert set(x[:, 0].tolist()) <= {-1.0, 1.0}
    assert torch.equal(torch.sign(x[:, 0]), n[:, 0])
    axes, pts, mask = iv.grid(5)
    assert torch.allclose(axes["x"], torch.linspace(-1, 1, 5)) and mask.all() and pts.shape == (5, 1)


@pytest.mark.parametrize("method", ["uniform", "sobol"])
def test_ball_sampling(method):
    ball = Ball([0.5, -0.5, 0.0], 2.0)
    x = ball.sample_interior(4000, method=method, generator=torch.Generator().manual_seed(0))
    r = (x - torch.tensor([0.5, -0.5, 0.0])).norm(dim=1)
    assert (r <= 2.0 + 1e-5).all()
    # uniform in a ball: P(r < R/2) = 1/8
    assert abs((r < 1.0).float().mean().item() - 0.125) < 0.02
    xb, n = ball.sample_boundary(100, method=method, generator=torch.Generator().manual_seed(0))
    assert torch.allclose((xb - torch.tensor([0.5, -0.5, 0.0])).norm(dim=1), torch.full((100,), 2.0), atol=1e-5)
    assert torch.allclose(n.norm(dim=1), torch.ones(100), atol=1e-6)


def test_disk_and_errors():
    assert Disk().names == ("x", "y")
    with pytest.raises(ValueError, match="radius"):
        Ball([0, 0], -1.0)
    with pytest.raises(ValueError, match="lower < upper"):
        Box([0, 1], [1, 1])
    with pytest.raises(ValueError, match="unknown coordinate 'q'"):
        Box.cube(2).index("q")


def test_space_time():
    st = SpaceTime(Interval(-1, 1), TimeInterval(0, 2))
    assert st.names == ("x", "t") and st.time_dependent and st.bounds == ([-1.0, 0.0], [1.0, 2.0])
    g = torch.Generator().manual_seed(0)
    x0 = st.sample_initial(50, generator=g)
    assert (x0[:, 1] == 0).all() and st.inside(x0).all()
    xb, n = st.sample_boundary(50, generator=g)
    assert (xb[:, 0].abs() == 1).all() and (n[:, 1] == 0).all()
    xi = st.sample_interior(50, method="sobol", generator=g)
    assert st.inside(xi).all() and (xi[:, 1] <= 2).all()


def test_ball_radial_sampling_options():
    g = torch.Generator().manual_seed(0)
    vol = Ball([0.0] * 50, 2.0).sample_interior(4000, generator=g)
    uni = Ball([0.0] * 50, 2.0, radial="uniform").sample_interior(4000, generator=g)
    r_vol, r_uni = vol.norm(dim=1) / 2, uni.norm(dim=1) / 2
    assert r_vol.min() > 0.8 and r_vol.max() <= 1 + 1e-6  # volume-uniform in d = 50: near the sphere
    # uniform radius: quartiles 0.25 / 0.5 / 0.75 (4000 draws: standard error about 0.007)
    q = torch.quantile(r_uni, torch.tensor([0.25, 0.5, 0.75]))
    assert torch.allclose(q, torch.tensor([0.25, 0.5, 0.75]), atol=0.03)
    assert Ball([0.0] * 3, 1.0, radial="uniform").describe()["radial"] == "uniform"
    assert "radial" not in Ball([0.0] * 3, 1.0).describe()
    with pytest.raises(ValueError, match="radial sampling must be one of"):
        Ball([0.0], 1.0, radial="shell")

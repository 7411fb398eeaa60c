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


# -- issue 14, item 5: sampling in the hot loop never copies host data to the device -----------------------------
def _domains():
    return [Box([0.0, -1.0], [1.0, 2.0]), Interval(-1.0, 3.0), Disk((0.5, -0.5), 2.0),
            SpaceTime(Box([0.0, 0.0], [1.0, 2.0]), TimeInterval(0.0, 1.0)),
            SpaceTime(Disk(), TimeInterval(0.0, 1.0))]


@pytest.mark.parametrize("dom", _domains(), ids=lambda d: d.describe()["type"])
def test_steady_state_sampling_makes_no_host_tensors(dom, hot_loop_trap):
    """After a first (caching) call, sampling and ``inside`` create no tensor from host data (4 per step with
    R3 before: the bounds were rebuilt with ``torch.tensor`` at every call)."""
    g = torch.Generator().manual_seed(0)

    def once():
        x = dom.sample_interior(16, generator=g)
        b, nrm = dom.sample_boundary(16, generator=g)
        out = [x, b, nrm, dom.inside(x), dom.inside(b)]
        if dom.time_dependent:
            out.append(dom.sample_initial(16, generator=g))
        return out

    first = once()
    with hot_loop_trap() as trap:
        trap.armed = True
        again = once()
    assert trap.events == [], trap.report()
    assert all(a.shape == b.shape for a, b in zip(first, again))
    assert again[3].all() and again[4].all()  # drawn points lie in the (closed) domain


def test_domain_constants_cached_per_device_and_dtype():
    box = Box([0.0, 1.0], [2.0, 3.0])
    x32, x64 = torch.zeros(1, 2), torch.zeros(1, 2, dtype=torch.float64)
    assert box._lo_hi(x32)[0] is box._lo_hi(x32)[0]
    lo64, hi64 = box._lo_hi(x64)
    assert lo64.dtype == torch.float64 and lo64.tolist() == [0.0, 1.0] and hi64.tolist() == [2.0, 3.0]
    with torch.inference_mode():  # a constant first made in inference mode is still usable with autograd
        box2 = Box([0.0], [1.0])
        box2.inside(torch.zeros(1, 1))
    u = torch.rand(4, 1, requires_grad=True)
    box2._affine(u).sum().backward()
    assert torch.equal(u.grad, torch.ones(4, 1))


def test_box_boundary_faces_3d_weighted_by_area():
    """The face probabilities (now host floats, cached on the device) still weigh faces by their area."""
    box = Box([0.0, 0.0, 0.0], [1.0, 2.0, 4.0])  # face pairs normal to x, y, z: areas 8, 4, 2
    _, nrm = box.sample_boundary(70_000, generator=torch.Generator().manual_seed(0))
    frac = (nrm != 0).double().mean(0)
    assert torch.allclose(frac, torch.tensor([8, 4, 2], dtype=torch.float64) / 14, atol=0.01)
    assert box.fills_bounding_box and not Disk().fills_bounding_box
    assert SpaceTime(box, TimeInterval(0, 1)).fills_bounding_box


# -- conditions with ``where``: a fixed candidate count, selected on the device ------------------------------------
def test_where_condition_points_selected_and_uniform(hot_loop_trap):
    """Points satisfy ``where``, come in the asked number, are uniform on the selected part (KS), carry the
    right normals, and after the first draw (which estimates the kept fraction) cost no host read, no host
    tensor and no boolean-mask indexing."""
    from scipy import stats

    from pde import Dirichlet

    box = Box([0.0, 0.0], [1.0, 1.0])
    cond = Dirichlet(0.0, where=lambda p: (p[:, 0] < 0.3) & (p[:, 1] < 1e-12))  # the bottom face, x < 0.3
    g = torch.Generator().manual_seed(0)
    cond.sample(box, 500, generator=g, dtype=torch.float64)
    with hot_loop_trap() as trap:
        trap.armed = True
        draws = [cond.sample(box, 500, generator=g, dtype=torch.float64) for _ in range(4)]
    assert trap.events == [], trap.report()
    for p, nrm in draws:
        assert p.shape == (500, 2) and nrm.shape == (500, 2)
        assert ((p[:, 0] < 0.3) & (p[:, 1] == 0)).all()
        assert torch.equal(nrm, torch.tensor([[0.0, -1.0]], dtype=torch.float64).expand(500, 2))
        assert len(torch.unique(p[:, 0])) == 500  # no repeats
    x = torch.cat([p[:, 0] for p, _ in draws]).numpy()
    assert stats.kstest(x / 0.3, "uniform").pvalue > 1e-3
    a = cond.sample(box, 64, generator=torch.Generator().manual_seed(3))[0]
    b = cond.sample(box, 64, generator=torch.Generator().manual_seed(3))[0]
    assert torch.equal(a, b)


def test_where_condition_errors():
    from pde import Dirichlet

    box = Box([0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="selects \\(almost\\) no points"):
        Dirichlet(0.0, name="none", where=lambda p: p[:, 0] > 2).sample(box, 10)
    with pytest.raises(ValueError, match="'where' must return a boolean tensor"):
        Dirichlet(0.0, name="float", where=lambda p: p[:, 0]).sample(box, 10)


# -- quasi-random redraws on the device -----------------------------------------------------------------------------
def test_sobol_stream_is_torchs_scrambled_sobol_sequence(hot_loop_trap):
    from pde.sampling import SobolStream

    for d in (1, 4):
        s = SobolStream(11)
        parts = [s.draw(5, d, dtype=torch.float64)]
        with hot_loop_trap() as trap:
            trap.armed = True
            parts += [s.draw(27, d, dtype=torch.float64), s.draw(1000, d, dtype=torch.float64)]
        assert trap.events == [], trap.report()
        ref = torch.quasirandom.SobolEngine(d, scramble=True, seed=(11 + 7919 * d) % (2**31 - 1)).draw(
            1032, dtype=torch.float64)
        # the same points (torch's engine rounds its float64 output through float32: 2^-25 at most)
        assert torch.allclose(torch.cat(parts), ref, rtol=0, atol=2.0 ** -25)
        assert torch.equal(torch.cat(parts).float(), torch.quasirandom.SobolEngine(
            d, scramble=True, seed=(11 + 7919 * d) % (2**31 - 1)).draw(1032))
        assert s.index[d] == 1032 and SobolStream.from_state_dict(s.state_dict()).index == {d: 1032}
    box = Box([0.0, 1.0], [2.0, 3.0])
    x = box.sample_interior(64, method=SobolStream(0))
    assert x.shape == (64, 2) and box.inside(x).all()


def test_condition_draws_make_no_host_tensors(hot_loop_trap):
    """Initial, Dirichlet (with normals) and Periodic draws on a space-time box: steady state is event free."""
    from pde import Dirichlet, Initial, Periodic

    dom = SpaceTime(Interval(0.0, 2.0), TimeInterval(0.0, 1.0))
    conds = [Initial(0.0), Dirichlet(0.0), Periodic("x"), Dirichlet(0.0, name="late", where=lambda p: p[:, 1] > 0.5)]
    g = torch.Generator().manual_seed(0)
    for c in conds:
        c.sample(dom, 8, generator=g)
    with hot_loop_trap() as trap:
        trap.armed = True
        out = [c.sample(dom, 8, generator=g) for c in conds]
    assert trap.events == [], trap.report()
    (ic, _), (bc, nrm), (per, _), (late, _) = out
    assert (ic[:, 1] == 0).all() and ((bc[:, 0] == 0) | (bc[:, 0] == 2)).all() and (nrm[:, 0].abs() == 1).all()
    assert per.shape == (16, 2) and (per[:8, 0] == 0).all() and (per[8:, 0] == 2).all()
    assert (late[:, 1] > 0.5).all() and ((late[:, 0] == 0) | (late[:, 0] == 2)).all()

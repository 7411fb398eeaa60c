"""Observations (pde.observations): checks, subset and noise, file readers, derivative data; Robin conditions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from inverse_helpers import Diffusion, exact_u, grid_points

from pde import Interval
from pde.conditions import Robin
from pde.derivatives.autograd import Autograd
from pde.observations import Observation, make_observations, read_data

DOM = Diffusion().domain


def _obs(**kw):
    pts = grid_points(6)
    return Observation(pts, exact_u(pts), **kw)


@pytest.mark.parametrize("make, needle", [
    (lambda: Observation(np.array([[0.5, 0.5], [np.nan, 0.1]]), [1.0, 2.0]), "points contain 1 NaN/Inf"),
    (lambda: Observation(np.zeros((2, 2)), [1.0, np.inf]), "values contain 1 NaN/Inf"),
    (lambda: Observation(np.zeros((3, 2)), np.zeros(2)), r"values have shape \(2, 1\) but 3 points"),
    (lambda: Observation(np.zeros((3, 2)), np.zeros((3, 2)), ("u",)), r"need \(3, 1\)"),
    (lambda: Observation(np.zeros(3), np.zeros(3)), r"shape \(N, d\)"),
    (lambda: _obs(subset=0), r"subset must be an integer in \[1, 36\]"),
    (lambda: _obs(subset=37), r"subset must be an integer in \[1, 36\]"),
    (lambda: _obs(noise=-0.1), "noise .* must be >= 0"),
    (lambda: Observation(np.zeros((1, 2)), [0.0], derivative=("u",)), "derivative must be"),
])
def test_bad_observations_are_refused_with_one_line(make, needle):
    with pytest.raises(ValueError, match=needle) as e:
        make()
    assert "\n" not in str(e.value)


def test_points_outside_the_domain_and_wrong_width_are_refused():
    obs = Observation(np.array([[0.5, 0.5], [1.5, 0.2]]), [0.0, 0.0])
    with pytest.raises(ValueError, match=r"1 of 2 observation points .* outside the domain \(first: \[1.5, 0.2\]"):
        obs.sample(DOM, 0)
    with pytest.raises(ValueError, match="3 columns but the domain has 2"):
        Observation(np.zeros((2, 3)), [0.0, 0.0]).sample(DOM, 0)
    Observation(np.array([[1.0 + 1e-12, 0.0]]), [0.0]).sample(DOM, 0)  # round-off on a face is kept
    from pde import SpaceTime, TimeInterval

    dom = SpaceTime(Interval(-1, 1), TimeInterval(0, 0.99))
    obs = Observation(np.array([[0.5, float(np.float32(0.99))]]), [0.0])  # 0.99 stored as float32 (a checkpoint)
    assert obs.sample(dom, 0, dtype=torch.float64)[0][0, 1].item() == 0.99
    with pytest.raises(ValueError, match="outside the domain"):
        Observation(np.array([[0.5, 0.9901]]), [0.0]).sample(dom, 0)


def test_unknown_field_is_refused():
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['v'\]"):
        make_observations(_obs(fields=("v",)), Diffusion())


def test_subset_and_noise_follow_the_generator_and_are_drawn_once_per_run():
    obs = _obs(subset=10, noise=0.05)
    g = torch.Generator().manual_seed(3)
    p1, _ = obs.sample(DOM, 0, generator=g, dtype=torch.float64)
    v1 = obs.values.clone()
    p1b, _ = obs.sample(DOM, 0, generator=g, dtype=torch.float64)  # a redraw in the same run: the same data
    assert torch.equal(p1, p1b) and torch.equal(v1, obs.values)
    p2, _ = obs.sample(DOM, 0, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert torch.equal(p1, p2) and torch.equal(v1, obs.values)  # same seed, same draw
    p3, _ = obs.sample(DOM, 0, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert not torch.equal(p1, p3)
    assert p1.shape == (10, 2)
    clean = torch.as_tensor(exact_u(p1.numpy()))[:, None]
    noise = (v1 - clean) / exact_u(grid_points(6)).std()
    assert 0.01 < noise.std().item() < 0.12  # noise of relative level 0.05 (10 draws)


def test_residual_is_model_minus_data_and_a_derivative_observation_differentiates():
    pts = grid_points(5)
    net = lambda p: torch.sin(math.pi * p[:, :1]) * torch.exp(-p[:, 1:])  # noqa: E731
    obs = Observation(pts, np.sin(math.pi * pts[:, 0]) * np.exp(-pts[:, 1]))
    p, _ = obs.sample(DOM, 0, dtype=torch.float64)
    d = Autograd().derivatives(net, p, DOM.names, ("u",))
    assert obs.residual(d).abs().max().item() < 1e-12
    flux = Observation(pts, math.pi * np.cos(math.pi * pts[:, 0]) * np.exp(-pts[:, 1]), derivative=("u", "x"))
    p, _ = flux.sample(DOM, 0, dtype=torch.float64)
    d = Autograd().derivatives(net, p, DOM.names, ("u",))
    assert flux.residual(d).abs().max().item() < 1e-12
    assert flux.labels() == ["u_x"]


def test_robin_condition_residual():
    dom = Interval(0, 1)
    net = lambda p: (p[:, :1] ** 2)  # noqa: E731  u = x^2: at x=1, u + 2 u_n = 1 + 4 = 5; at x=0, 0
    c = Robin(a=1.0, b=2.0, value=lambda p: 5 * p[:, 0])
    p, nrm = c.sample(dom, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    d = Autograd().derivatives(net, p, dom.names, ("u",), normals=nrm)
    assert c.residual(d).abs().max().item() < 1e-12


@pytest.mark.parametrize("suffix", [".npz", ".mat", ".h5", ".csv"])
def test_readers_give_points_and_values(tmp_path, suffix):
    x, t = np.linspace(0, 1, 7), np.linspace(0, 1, 5)
    X, T = np.meshgrid(x, t, indexing="ij")
    u = exact_u(np.stack([X.ravel(), T.ravel()], 1)).reshape(7, 5)
    path = tmp_path / f"obs{suffix}"
    if suffix == ".npz":
        np.savez(path, x=x, t=t, usol=u)
    elif suffix == ".mat":
        import scipy.io

        scipy.io.savemat(path, {"x": x[:, None], "tt": t[:, None], "usol": u})
    elif suffix == ".h5":
        import h5py

        with h5py.File(path, "w") as f:
            f["xx"], f["t"], f["U"] = x, t, u
    else:
        pts = np.stack([X.ravel(), T.ravel(), u.ravel()], 1)
        np.savetxt(path, pts, delimiter=",", header="x,t,u", comments="")
    names = {"x": "xx", "u": "U"} if suffix == ".h5" else None
    pts, vals = read_data(path, ["x", "t"], ["u"], names=names)
    assert pts.shape == (35, 2) and vals.shape == (35, 1)
    np.testing.assert_allclose(vals[:, 0], exact_u(pts), atol=1e-12)


def test_reader_refuses_unknown_columns_and_arrays(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("x,t,u\n0.1,0.2,0.3\n")
    with pytest.raises(ValueError, match=r"has no column\(s\) v; its columns are x, t, u"):
        read_data(path, ["x", "t"], ["v"])
    with pytest.raises(ValueError, match=r"unknown name\(s\) \['w'\]"):
        read_data(path, ["x", "t"], ["u"], names={"w": "u"})
    npz = tmp_path / "obs.npz"
    np.savez(npz, x=np.zeros(3), t=np.zeros(2), usol=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="no array 'nosuch'"):
        read_data(npz, ["x", "t"], ["u"], names={"u": "nosuch"})
    with pytest.raises(ValueError, match="does not exist"):
        read_data(tmp_path / "missing.csv", ["x", "t"], ["u"])

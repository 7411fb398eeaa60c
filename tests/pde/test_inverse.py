"""Inverse problems end to end: identification, history, run file, resume and load of unknowns and data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from inverse_helpers import KAPPA, Diffusion, exact_u, grid_points

import pde
from pde import MLP, solve
from pde.observations import Observation
from pde.training import resume
from pde.unknowns import Unknown


def _data(n=11, **kw):
    pts = grid_points(n)
    return Observation(pts, exact_u(pts), **kw)


def test_identifies_the_diffusivity_from_clean_data():
    """kappa from 121 exact values (init 0.5, true 0.1), no initial or boundary condition: within 0.5 %."""
    run = solve(Diffusion(), MLP(width=20, depth=3), data=_data(), steps=1500, lbfgs_steps=300, lr=3e-3,
                n_interior=500, device="cpu", quiet=True, log_every=500)
    err = abs(run.unknowns["kappa"] - KAPPA) / KAPPA
    assert err < 5e-3, run.unknowns
    assert run.metrics["param/kappa/rel_error"] == pytest.approx(err)
    assert run.metrics["data/data/u/rel_l2"] < 1e-2
    assert run.metrics["rel_l2"] < 1e-2
    h = run.history["param/kappa"]
    assert len(h) == len(run.history["step"]) and h[0] == pytest.approx(0.5, abs=0.05)
    assert h[-1] == run.unknowns["kappa"]


def test_own_learning_rate_and_bounds_are_used():
    """A tiny lr for kappa keeps it near its initial value; bounds keep it inside."""
    slow = solve(Diffusion(kappa=Unknown(init=0.5, positive=True, lr=1e-7)), MLP(width=8, depth=2),
                 data=_data(6), steps=50, n_interior=50, device="cpu", quiet=True, log_every=25)
    assert slow.unknowns["kappa"] == pytest.approx(0.5, abs=1e-4)
    fast = solve(Diffusion(kappa=Unknown(init=0.5, bounds=(0.4, 0.6), lr=0.5)), MLP(width=8, depth=2),
                 data=_data(6), steps=50, n_interior=50, device="cpu", quiet=True, log_every=25)
    assert 0.4 <= fast.unknowns["kappa"] <= 0.6 and fast.unknowns["kappa"] != pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("line_search", ["strong_wolfe", "device"])
def test_lbfgs_moves_the_unknown(line_search):
    run = solve(Diffusion(), MLP(width=8, depth=2), data=_data(6), steps=0, lbfgs_steps=20, n_interior=50,
                device="cpu", quiet=True, log_every=10, lbfgs_line_search=line_search)
    assert run.unknowns["kappa"] != pytest.approx(0.5, abs=1e-4)


def _weights(run):
    return {**{k: v.detach().clone() for k, v in run.model.state_dict().items()},
            **{f"unknown:{k}": v.detach().clone() for k, v in pde.unknowns.unknown_parameters(run.problem)
               .state_dict().items()}}


@pytest.mark.parametrize("lbfgs", [0, 6])
def test_resume_is_bit_exact_with_unknowns_and_data(tmp_path, lbfgs):
    """Data given to solve (subset and noise drawn with the run's seed) and the unknown survive a resume."""
    kw = dict(lbfgs_steps=lbfgs, n_interior=40, device="cpu", quiet=True, log_every=3, checkpoint_every=3,
              history_every=1, seed=3)
    data = lambda: _data(6, subset=20, noise=0.01)  # noqa: E731
    straight = solve(Diffusion(), MLP(width=8, depth=2), data=data(), steps=12, **kw)
    path = tmp_path / "inv.h5"
    stop = lambda t: t.step == 6  # noqa: E731  a run stopped in the middle of its Adam phase
    solve(Diffusion(), MLP(width=8, depth=2), data=data(), steps=12, out=path, callbacks=[stop], **kw)
    resumed = resume(path, quiet=True)
    assert resumed.step == 12 + lbfgs
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    np.testing.assert_array_equal(straight.history["param/kappa"], resumed.history["param/kappa"])
    np.testing.assert_array_equal(straight.history["loss/data"], resumed.history["loss/data"])
    assert straight.unknowns == resumed.unknowns


def test_run_file_stores_unknowns_as_plain_arrays_and_load_restores_them(tmp_path):
    import h5py

    path = tmp_path / "inv.h5"
    run = solve(Diffusion(), MLP(width=8, depth=2), data=_data(6), steps=30, n_interior=40, device="cpu",
                quiet=True, log_every=10, out=path)
    with h5py.File(path) as f:
        raw = f["unknowns/raw/kappa"][()]
        assert isinstance(raw, np.ndarray) or np.isscalar(raw)
        assert "param/kappa" in f["metrics"].attrs
        assert f["history"]["param%2Fkappa" if "param%2Fkappa" in f["history"] else "param/kappa"].shape[0] > 0
    back = pde.load(path)
    assert back.unknowns == pytest.approx(run.unknowns, rel=1e-12)
    assert back.problem.kappa.item() == pytest.approx(run.unknowns["kappa"], rel=1e-6)  # float32 training
    assert back.config["data"][0]["n_points"] == 36


def test_fit_from_data_alone_and_forward_solve_with_measurements():
    """A pure data fit (weight 0 on the residual) and a forward problem with a few measurements added."""
    from problems import Heat

    fit = solve(Diffusion(), MLP(width=16, depth=2), data=_data(), steps=300, n_interior=20, device="cpu",
                quiet=True, log_every=100, weights={"pde": 0.0}, lr=1e-2)
    assert fit.metrics["data/data/u/rel_l2"] < 0.1
    heat = Heat(d=1)
    pts = np.array([[0.5, 0.5], [0.25, 0.75]])
    vals = heat.exact(torch.as_tensor(pts)).numpy()
    fwd = solve(heat, MLP(width=8, depth=2), data=Observation(pts, vals, name="sensors"), steps=20, n_interior=50,
                device="cpu", quiet=True, log_every=10)
    assert "loss/sensors" in fwd.history and "data/sensors/u/rmse" in fwd.metrics and fwd.unknowns == {}


def test_solve_refuses_bad_data():
    with pytest.raises(ValueError, match="outside the domain"):
        solve(Diffusion(), data=Observation([[2.0, 0.0]], [0.0]), steps=1, device="cpu", quiet=True)
    with pytest.raises(ValueError, match="data must be an Observation"):
        solve(Diffusion(), data=42, steps=1, device="cpu", quiet=True)


def test_a_problem_without_reference_reports_misfit_and_identified_values(tmp_path, capsys):
    """No exact solution, no true value: the run trains, writes its file, reports the misfit and the value."""
    from pde import define

    prob = define("noref", Diffusion().domain, lambda d, k: d("u", "t") - k * d("u", "x", "x"),
                  params={"k": Unknown(init=0.3, positive=True)})
    run = solve(prob, MLP(width=8, depth=2), data=_data(6), steps=20, n_interior=40, device="cpu", quiet=False,
                log_every=10, out=tmp_path / "noref.h5")
    text = "".join(capsys.readouterr())
    assert "rel_l2" not in run.metrics and "param/k" in run.metrics and "param/k/rel_error" not in run.metrics
    assert f"identified k = {run.unknowns['k']:.6g}" in text and "data misfit data/u" in text
    assert pde.load(tmp_path / "noref.h5", model=False).unknowns == run.unknowns


def test_plot_shows_the_unknowns(tmp_path):
    pytest.importorskip("matplotlib")
    from pde.plot import plot_run

    path = tmp_path / "inv.h5"
    solve(Diffusion(), MLP(width=8, depth=2), data=_data(6), steps=10, n_interior=20, device="cpu", quiet=True,
          log_every=5, out=path)
    assert plot_run(path, tmp_path / "inv.png") and (tmp_path / "inv.png").stat().st_size > 0

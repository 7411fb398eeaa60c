"""Diagnostics (issue 17, item 3): balance weights in the history, the loss-imbalance warning, per-term summaries
and the PDE residual over the domain (pde/diagnostics.py, pde/training/callbacks.py ImbalanceWarning)."""

import json
import math

import h5py
import numpy as np
import pytest
import torch
from tiny_runs import constant1d, heat1, small

from pde import load
from pde.diagnostics import pointwise_residual, residual_image, term_summary
from pde.models import MLP
from pde.solve import solve
from pde.training import ImbalanceWarning, Settings, resume
from pde.training.progress import Progress


def _still(**kw):
    """A run whose losses barely move (lr 1e-7): the term ratios are those the weights set."""
    return small(lr=1e-7, steps=24, **kw)


def _weights(run):
    return {k: v.detach().clone() for k, v in run.model.state_dict().items()}


# -- balance weights in the history ------------------------------------------------------------------------------
def test_gradient_norm_balancing_records_its_weights_at_every_row(tmp_path):
    out = tmp_path / "bal.h5"
    run = solve(heat1(), MLP(width=8, depth=2), out=out, history_every=2,
                balancing={"name": "gradient_norm", "update_every": 3}, **small())
    h = run.history
    n = len(h["step"])
    assert n == 6 and set(h) >= {"weight/pde", "weight/bc"}
    assert all(len(h[f"weight/{t}"]) == n for t in ("pde", "bc"))
    w_pde = np.asarray(h["weight/pde"])
    # the weights start at 1 (the fixed weights) and move once the balancing updates them (step 3 on)
    assert w_pde[0] == 1.0 and not np.allclose(w_pde, 1.0)
    # the last row's weights are the ones the loss used at the end
    final = (run_w := load(out).history)["weight/bc"][-1]
    assert final == pytest.approx(float(h["weight/bc"][-1])) and len(run_w["weight/bc"]) == n
    # total = sum of the weighted terms at every row (the recorded weights are the ones in use at that row's step)
    total = sum(np.asarray(h[f"weight/{t}"]) * np.asarray(h[f"loss/{t}"]) for t in ("pde", "bc"))
    np.testing.assert_allclose(total, h["loss"], rtol=1e-5)


def test_fixed_weights_are_not_recorded_each_row():
    run = solve(heat1(), MLP(width=8, depth=2), weights={"bc": 3.0}, **small())
    assert not any(k.startswith("weight/") for k in run.history)


def test_balanced_resume_keeps_the_weight_columns(tmp_path):
    out = tmp_path / "r.h5"
    bal = {"name": "gradient_norm", "update_every": 2}
    full = solve(heat1(), MLP(width=8, depth=2), balancing=bal, **small(steps=16))
    solve(heat1(), MLP(width=8, depth=2), balancing=bal, out=out, checkpoint_every=8,
          callbacks=[lambda tr: tr.step >= 8 or None], **small(steps=16))
    resumed = resume(out, quiet=True)
    for k in ("weight/pde", "weight/bc", "loss/pde"):
        np.testing.assert_allclose(resumed.history[k], full.history[k], rtol=1e-6)


def test_a_run_file_without_weight_columns_resumes_with_them(tmp_path):
    """A balanced run written before the weights were recorded: the resumed history has NaN weights before."""
    out = tmp_path / "old.h5"
    bal = {"name": "gradient_norm", "update_every": 2}
    solve(heat1(), MLP(width=8, depth=2), balancing=bal, out=out, checkpoint_every=8,
          callbacks=[lambda tr: tr.step >= 8 or None], **small(steps=16))
    with h5py.File(out, "a") as f:
        for k in [k for k in f["history"] if k.startswith("weight")]:
            del f["history"][k]
    n_old = len(load(out).history["step"])
    h = resume(out, quiet=True).history
    assert len(h["weight/bc"]) == len(h["step"]) > n_old
    assert np.isnan(h["weight/bc"][:n_old]).all() and np.isfinite(h["weight/bc"][n_old:]).all()


# -- the loss-imbalance warning ----------------------------------------------------------------------------------
@pytest.mark.parametrize("weight, term_first", [(1e4, True), (1e-4, False)])
def test_imbalance_warns_once_per_term_and_records_it(tmp_path, capsys, weight, term_first):
    out = tmp_path / "w.h5"
    run = solve(constant1d(), MLP(width=8, depth=2), out=out, weights={"bc": weight}, **_still(quiet=False))
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(lines) == 1, err
    line = lines[0]
    if term_first:
        assert line.startswith("warning: weighted loss term 'bc' (") and "x the residual's" in line
        assert "the fit ignores the residual; try balancing=gradient_norm or a larger weight on 'pde'" in line
    else:
        assert line.startswith("warning: the residual's weighted loss (") and "that of 'bc'" in line
        assert line.endswith("a larger weight on 'bc'")
    # the ratio printed is the weighted losses' ratio, above the factor; warned at the second log step (step 8)
    ratio = float(line.split(" x ")[0].split()[-1])
    h = run.history
    expect = weight * h["loss/bc"][1] / h["loss/pde"][1]
    assert ratio == pytest.approx(expect if term_first else 1 / expect, rel=0.06) and ratio > 1e3
    assert "for 2 log steps (to step 8)" in line
    # kept in the run file and shown by pde show
    with h5py.File(out) as f:
        assert json.loads(f.attrs["warnings"]) == [line]
    assert load(out).warnings == [line]


def test_no_warning_on_a_balanced_run(tmp_path, capsys):
    run = solve(constant1d(), MLP(width=8, depth=2), out=tmp_path / "b.h5", **_still(quiet=False))
    assert "warning" not in capsys.readouterr().err
    assert load(tmp_path / "b.h5").warnings == [] and 0.1 < run.history["loss/bc"][-1] / run.history["loss/pde"][-1]


def test_quiet_silences_the_warning_but_keeps_it_in_the_run_file(tmp_path, capsys):
    solve(constant1d(), MLP(width=8, depth=2), out=tmp_path / "q.h5", weights={"bc": 1e4}, **_still())
    assert "warning" not in capsys.readouterr().err
    assert len(load(tmp_path / "q.h5").warnings) == 1


def _stub_trainer(term_names, residual_names, weights):
    """What :class:`ImbalanceWarning` reads of a trainer: term names and weights, the history, warnings, progress."""

    class Stub:
        status, warnings = "running", []
        progress = Progress(quiet=True)

        class losses:
            pass

        class weighting:
            varies = False

    Stub.losses.term_names, Stub.losses.residual_names, Stub.losses.weights = term_names, residual_names, weights
    return Stub()


def test_one_log_step_above_the_factor_is_not_enough():
    """The warning needs ``patience`` consecutive log steps: a ratio that drops back resets the count."""
    tr = _stub_trainer(["pde", "bc"], ["pde"], [1.0, 1.0])
    cb = ImbalanceWarning(factor=10.0, patience=2)
    for bc in (100.0, 1.0, 100.0, 1.0, 100.0):  # above, below, ... never twice in a row
        tr.history = {"loss/pde": [1.0], "loss/bc": [bc]}
        cb.on_log(tr, 1)
    assert tr.warnings == []
    tr.history = {"loss/pde": [1.0], "loss/bc": [100.0]}
    cb.on_log(tr, 2)
    assert len(tr.warnings) == 1 and "'bc' (1.0e+02) is 1.0e+02 x" in tr.warnings[0]
    for bc in (100.0, 100.0, 0.0, 0.0):  # 0 against 1: infinitely far below, warned once (the other direction)
        tr.history = {"loss/pde": [1.0], "loss/bc": [bc]}
        cb.on_log(tr, 3)
    assert len(tr.warnings) == 2 and "is inf x that of 'bc'" in tr.warnings[1]


def test_a_system_compares_each_condition_with_the_sum_of_its_weighted_residuals():
    tr = _stub_trainer(["pde/u", "pde/v", "ic"], ["u", "v"], [1.0, 2.0, 1.0])
    cb = ImbalanceWarning(factor=100.0, patience=1)
    # w r: 1 * 0.001 + 2 * 0.002 = 0.005; ic 0.4 is 80 x that: no warning (one residual alone would give 400 x)
    tr.history = {"loss/pde/u": [0.001], "loss/pde/v": [0.002], "loss/ic": [0.4]}
    cb.on_log(tr, 1)
    assert tr.warnings == []
    tr.history["loss/ic"] = [1.0]  # 200 x
    cb.on_log(tr, 2)
    assert len(tr.warnings) == 1 and "is 2.0e+02 x the residual's (5.0e-03)" in tr.warnings[0]
    assert tr.warnings[0].endswith("a larger weight on 'pde/u', 'pde/v'")


def test_the_warning_does_not_change_the_run(tmp_path):
    a = solve(constant1d(), MLP(width=8, depth=2), weights={"bc": 1e4}, out=tmp_path / "a.h5", **small(steps=16))
    b = solve(constant1d(), MLP(width=8, depth=2), weights={"bc": 1e4}, imbalance_warning=False, out=tmp_path / "b.h5",
              **small(steps=16))
    assert len(load(tmp_path / "a.h5").warnings) == 1 and load(tmp_path / "b.h5").warnings == []
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa) and np.array_equal(a.history["loss"], b.history["loss"])


def test_the_warning_state_survives_a_resume(tmp_path, capsys):
    """A count reached before the checkpoint goes on after it; a warning given before it is not repeated."""
    out = tmp_path / "res.h5"
    # stopped after the first log step above the factor (count 1): the warning comes at the next log step.
    # Heat(d=1) (registered: resumable) at this seed: L_bc / L_pde ~ 1e-4, so w_bc = 1e9 puts bc ~ 1e5 x above
    solve(heat1(), MLP(width=8, depth=2), out=out, weights={"bc": 1e9}, checkpoint_every=4,
          callbacks=[lambda tr: tr.step >= 4 or None], **_still())
    assert load(out).warnings == []
    run = resume(out, quiet=False)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("warning:")]
    assert len(lines) == 1 and "(to step 8)" in lines[0] and run.step == 24
    # resumed once more with more steps: the warning is kept, not given again
    again = resume(out, steps=32, quiet=False)
    assert not [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("warning:")]
    assert load(out).warnings == lines and again.step == 32


def test_imbalance_refuses_bad_input():
    with pytest.raises(ValueError, match="imbalance factor must be a finite number > 1"):
        ImbalanceWarning(0.5)
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        ImbalanceWarning(10.0, patience=0)
    with pytest.raises(ValueError, match="imbalance factor must be a finite number > 1, got 'x'"):
        Settings(imbalance_warning="x")
    assert Settings(imbalance_warning=False).imbalance_warning is None


# -- per-term summary ----------------------------------------------------------------------------------------------
def test_term_summary_reads_start_middle_end_min_and_weight():
    h = {"step": np.arange(5), "loss": np.ones(5), "loss/pde": np.array([4.0, 3.0, 1.0, 2.0, 0.5]),
         "loss/bc": np.array([1.0, np.nan, 3.0, 4.0, 5.0]), "weight/pde": np.array([1.0, 2.0, 3.0, 4.0, 7.0])}
    s = term_summary(h)
    assert s["pde"] == {"start": 4.0, "middle": 1.0, "end": 0.5, "min": 0.5, "weight": 7.0}
    assert s["bc"]["min"] == 1.0 and s["bc"]["weight"] is None and list(s) == ["pde", "bc"]


# -- the residual over the domain ----------------------------------------------------------------------------------
class _Exact(torch.nn.Module):
    """Heat(d=1)'s exact solution as a model (columns x, t)."""

    def __init__(self, kappa):
        super().__init__()
        self.kappa = kappa
        self.dummy = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, p):
        x, t = p[:, 0], p[:, 1]
        return (torch.exp(-self.kappa * math.pi ** 2 * t) * torch.sin(math.pi * x) + 0 * self.dummy)[:, None]


class _Square(_Exact):
    """u = x^2: the heat residual u_t - kappa u_xx is -2 kappa everywhere."""

    def forward(self, p):
        return (p[:, :1] ** 2) + 0 * self.dummy


def test_pointwise_residual_is_that_of_the_equation():
    problem = heat1()
    kappa = problem.kappa
    pts = torch.rand(50, 2, dtype=torch.float64)
    assert np.max(pointwise_residual(problem, _Exact(kappa), pts)) < 1e-12
    np.testing.assert_allclose(pointwise_residual(problem, _Square(kappa), pts, rows=7), 2 * kappa, rtol=1e-12)


def test_residual_image_on_the_grid():
    problem = heat1()
    img = residual_image(problem, _Square(problem.kappa), n=9)
    assert img["names"] == ["x", "t"] and img["log10_abs"].shape == (9, 9)
    np.testing.assert_allclose(img["log10_abs"], np.log10(2 * problem.kappa), rtol=1e-12)
    line = residual_image(constant1d(value=2.0), _Zero(), n=5)
    np.testing.assert_allclose(line["log10_abs"], np.log10(2.0), rtol=1e-12)  # u = 0: |u - 2| = 2
    with pytest.raises(ValueError, match="one or two coordinates; this problem has 3"):
        from problems import Heat

        residual_image(Heat(d=2), _Zero(), n=3)


class _Zero(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, p):
        return (p[:, :1] * self.w).to(p.dtype)


"""Optimiser phases and loss weightings as objects handed to the trainer (pde/training/phases.py, weighting.py)."""

import numpy as np
import pytest
import torch
from tiny_runs import heat1, small

from pde.collocation import RandomSampler
from pde.models import MLP
from pde.solve import _make_engine, _make_model, _settings, solve
from pde.training import (
    AdamPhase,
    CausalSchedule,
    GradientNormBalancing,
    LBFGSPhase,
    Settings,
    Trainer,
    resume,
)


def _trainer(phases=None, weighting=None, seed=3, **kw):
    problem = heat1()
    opts = {k: v for k, v in small(**kw).items() if k not in ("device", "quiet")}
    settings, n = _settings(problem, {}, opts)
    torch.manual_seed(seed)
    model = _make_model(MLP(width=8, depth=2), problem, False)
    return Trainer(problem, model, RandomSampler(n), _make_engine("autograd"), settings, device="cpu",
                   dtype=torch.float32, seed=seed, quiet=True, phases=phases, weighting=weighting)


def _state(tr):
    return {k: v.detach().clone() for k, v in tr.model.state_dict().items()}


def test_explicit_default_phases_give_the_same_run_as_the_settings():
    a = _trainer(steps=8, lbfgs_steps=4)
    a.run()
    s = a.settings
    b = _trainer(steps=8, lbfgs_steps=4, phases=[AdamPhase(8, s.lr, s.lr_schedule, s.lr_decay, s.decay_steps),
                                                   LBFGSPhase(4, s.lbfgs_history)])
    b.run()
    sa, sb = _state(a), _state(b)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a.history["loss"] == b.history["loss"] and a.step == b.step == 12


def test_a_custom_phase_list_runs_every_phase_in_order():
    seen = []

    class Spy(AdamPhase):
        def run(self, trainer, end):
            seen.append((self.lr, trainer.step, end))
            super().run(trainer, end)

    tr = _trainer(phases=[Spy(4, lr=1e-2), LBFGSPhase(4), Spy(4, lr=1e-4)])
    tr.run()
    assert seen == [(1e-2, 0, 4), (1e-4, 8, 12)] and tr.step == 12 and tr.status == "finished"
    assert tr.history["step"][-1] == 12
    # duplicated names are told apart in the checkpoint
    assert tr.training_state()["optimizer"]["phase"] == "adam#2"


def test_phases_refuse_bad_input():
    with pytest.raises(ValueError, match="unknown lbfgs_line_search"):
        LBFGSPhase(3, line_search="wolfe")
    with pytest.raises(ValueError, match="lr must be > 0"):
        AdamPhase(3, lr=0.0)
    with pytest.raises(TypeError, match="AbstractPhase"):
        _trainer(phases=["adam"])
    with pytest.raises(ValueError, match="nothing to train"):
        _trainer(phases=[AdamPhase(0)])


def _grad_norms(tr):
    pts = tr.sampler.points()
    terms = tr.losses.term_losses(tr.model, pts, tr.cond_points)
    out = []
    for k in range(terms.shape[0]):
        g = torch.autograd.grad(terms[k], tr.params, retain_graph=True, allow_unused=True)
        out.append(float(torch.sqrt(sum(x.square().sum() for x in g if x is not None))))
    return np.array(out)


def test_gradient_norm_balancing_equalises_the_weighted_gradient_norms():
    tr = _trainer(steps=1, weighting=GradientNormBalancing(update_every=1, alpha=0.0))
    assert len(tr.losses.term_names) >= 2  # pde + soft conditions
    tr.run()
    # the update ran after the step, at the model it left and on the step's (fixed) points: recompute the norms
    # there; w_k ||grad L_k|| is then the same for every term
    w = tr.losses.weight_tensor.detach().numpy()
    weighted = w * _grad_norms(tr)
    np.testing.assert_allclose(weighted, weighted.mean(), rtol=1e-5)
    assert not np.allclose(w, 1.0)  # the terms' gradients differ, so the weights do


def test_gradient_norm_balancing_resumes_bit_exactly(tmp_path):
    path = tmp_path / "bal.h5"
    kw = small(log_every=3, checkpoint_every=3, hard=False,
               balancing={"name": "gradient_norm", "update_every": 2, "alpha": 0.5})
    straight = solve(heat1(), MLP(width=8, depth=2), seed=2, **{**kw, "steps": 12})
    solve(heat1(), MLP(width=8, depth=2), seed=2, out=path, **{**kw, "steps": 6})
    resumed = resume(path, steps=12, quiet=True)
    a, b = _state(straight), _state(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    np.testing.assert_array_equal(straight.history["loss"], resumed.history["loss"])
    plain = solve(heat1(), MLP(width=8, depth=2), seed=2, **{**kw, "steps": 12, "balancing": None})
    assert not np.array_equal(plain.history["loss"], straight.history["loss"])  # the balancing changed the run


def test_balancing_setting_refuses_unknown_names_and_options():
    with pytest.raises(ValueError, match="unknown balancing 'magic'"):
        Settings(balancing="magic")
    with pytest.raises(ValueError, match="balancing 'gradient_norm'"):
        Settings(balancing={"name": "gradient_norm", "every": 3})
    with pytest.raises(ValueError, match="alpha must lie"):
        Settings(balancing={"name": "gradient_norm", "alpha": 1.5})


def test_causal_schedule_is_a_part_only_with_causal_weighting():
    from pde.training.callbacks import default_callbacks

    assert not any(isinstance(p, CausalSchedule) for p in default_callbacks(Settings(steps=3)))
    assert any(isinstance(p, CausalSchedule) for p in default_callbacks(Settings(steps=3, causal={"eps": 1.0})))


# -- stopping rules (pde/training/stopping.py) ---------------------------------------------------------------------
def test_parse_duration():
    from pde.training.stopping import parse_duration

    assert [parse_duration(t) for t in ("90", "90s", "10m", "1.5h", 2.5)] == [90, 90, 600, 5400, 2.5]
    for bad in ("0", "-3m", "ten", "5x", "inf", True):
        with pytest.raises(ValueError, match="time budget"):
            parse_duration(bad)


def test_time_budget_ends_each_phase_and_hands_on_to_the_next():
    run = solve(heat1(), MLP(width=8, depth=2), **small(steps=10 ** 7, lbfgs_steps=10 ** 6, log_every=50,
                                                         time_budget=1.5))
    assert run.status == "finished"
    assert "time budget: the adam phase ended" in run.message and "the lbfgs phase ended" in run.message
    steps = np.asarray(run.history["step"])
    assert run.step < 10 ** 6 and steps[-1] == run.step
    assert np.isnan(run.history["lr"][-1])  # the last rows are L-BFGS rows: the second phase ran
    assert run.wall_time < 1.5 + 5.0  # ends near the budget (a slow machine adds one step, one chunk piece)


def test_plateau_ends_adam_with_advice_then_lbfgs_runs():
    run = solve(heat1(), MLP(width=8, depth=2), **small(steps=400, lbfgs_steps=3, log_every=5, lr=1e-12,
                                                         plateau={"patience": 20, "rel": 0.01}))
    assert "plateau: loss" in run.message and "did not fall by 1% for 20 steps (adam); try" in run.message
    assert run.step == 25 + 3  # best at the first log step (5); 20 steps later Adam ended, then 3 L-BFGS
    assert "collocation points" in run.message or "hard constraint" in run.message


def test_plateau_state_is_checkpointed_and_settings_are_checked(tmp_path):
    path = tmp_path / "pl.h5"
    kw = small(steps=40, log_every=5, checkpoint_every=5, plateau={"patience": 1000})
    straight = solve(heat1(), MLP(width=8, depth=2), seed=4, **kw)
    solve(heat1(), MLP(width=8, depth=2), seed=4, out=path, **{**kw, "steps": 20})
    resumed = resume(path, steps=40, quiet=True)
    np.testing.assert_array_equal(straight.history["loss"], resumed.history["loss"])
    with pytest.raises(ValueError, match="patience"):
        Settings(plateau={"patience": 0})
    with pytest.raises(ValueError, match="plateau must be"):
        Settings(plateau=3)
    with pytest.raises(ValueError, match="time budget"):
        Settings(time_budget="soon")

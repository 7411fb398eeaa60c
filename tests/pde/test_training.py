import math

import numpy as np
import pytest
import torch

from pde import Dirichlet, Initial, Interval, SpaceTime, TimeInterval, define
from pde.cli import main
from pde.models import MLP
from pde.solve import solve
from pde.training import CausalWeighting, Settings


def heat(k=0.1):
    """u_t = k u_xx on [0,1]x[0,1], u = exp(-k pi^2 t) sin(pi x)."""
    return define(
        "heat1d", SpaceTime(Interval(0, 1), TimeInterval(0, 1)),
        lambda d, k: d("u", "t") - k * d("u", "x", "x"),
        conditions=[Initial(lambda p: torch.sin(math.pi * p[:, 0])), Dirichlet(0.0)],
        exact=lambda p, k: torch.exp(-k * math.pi**2 * p[:, 1]) * torch.sin(math.pi * p[:, 0]), params={"k": k})


def small(**kw):
    base = dict(steps=60, device="cpu", quiet=True, log_every=20, n_interior=64, n_boundary=16, n_initial=16)
    base.update(kw)
    return base


def test_causal_weights_follow_the_formula():
    cw = CausalWeighting(eps=2.0, bins=4)
    t = torch.tensor([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])   # bins 0,0,1,2,2,3 on [0, 1]
    r2 = torch.tensor([1.0, 3.0, 0.5, 0.2, 0.4, 0.1])
    loss, w = cw.weighted(r2, t, 0.0, 1.0)
    slices = torch.tensor([2.0, 0.5, 0.3, 0.1])
    expect_w = torch.exp(-2.0 * torch.tensor([0.0, 2.0, 2.5, 2.8]))
    torch.testing.assert_close(w, expect_w)
    torch.testing.assert_close(loss, (expect_w * slices).mean())
    assert cw.advance(0.995) is False  # no schedule: eps stays
    cw2 = CausalWeighting(eps=0.1, bins=4, eps_schedule=(0.1, 1.0, 10.0))
    assert cw2.advance(0.5) is False and cw2.eps == 0.1
    assert cw2.advance(0.999) is True and cw2.eps == 1.0


@pytest.mark.parametrize("schedule, expect", [
    ("constant", [1.0, 1.0, 1.0]),
    ("exponential", [1.0, 0.5 ** 0.5, 0.5]),  # lr_decay 0.5 per 100 steps
    ("cosine", [1.0, 0.75, 0.5]),             # to lr * lr_decay = 0.5
    ("linear", [1.0, 0.5, 0.0]),              # to zero at the last Adam step
])
def test_lr_schedules(schedule, expect):
    from pde.training.phases import lr_factor

    f = lr_factor(schedule, 0.5, 100, 100)
    assert [f(k) for k in (0, 50, 100)] == pytest.approx(expect)


def test_settings_validation():
    with pytest.raises(ValueError, match="lr must be > 0"):
        Settings(lr=-1)
    with pytest.raises(ValueError, match="unknown lr_schedule 'warp'"):
        Settings(lr_schedule="warp")
    with pytest.raises(ValueError, match="n_boundary must be an integer >= 1"):
        Settings(n_boundary=0)
    with pytest.raises(ValueError, match="causal bins"):
        Settings(causal={"bins": 1})


def test_same_seed_same_run_and_different_seed_differs():
    a = solve(heat(), MLP(width=8, depth=2), seed=3, **small())
    b = solve(heat(), MLP(width=8, depth=2), seed=3, **small())
    c = solve(heat(), MLP(width=8, depth=2), seed=4, **small())
    for (k, v), w in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(v, w), k
    assert not torch.equal(next(a.model.parameters()), next(c.model.parameters()))
    assert a.history["loss"].shape == (6,) and set(a.history) >= {"loss/pde", "loss/ic", "loss/bc", "lr", "step"}


def test_training_learns_heat_equation():
    run = solve(heat(), MLP(width=16, depth=2), steps=400, lbfgs_steps=100,
                **{k: v for k, v in small(n_interior=256, n_boundary=64, n_initial=64, log_every=100).items()
                   if k != "steps"})
    assert run.status == "finished"
    assert run.metrics["rel_l2"] < 2e-2, run.metrics
    # L-BFGS lowered the loss after Adam
    steps = run.history["step"]
    adam_end = run.history["loss"][steps == 400][0]
    assert run.history["loss"][-1] < adam_end


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_nan_guard_stops_and_keeps_last_good_weights(where):
    """A NaN loss (step 36) or a NaN gradient only (in step 20, a log step: the loss stays finite) stops the run
    with the weights of the last good log step (step 30, resp. 10), which are finite."""
    calls = {"n": 0}

    def residual(d):
        calls["n"] += 1
        r = d("u", "t") - 0.1 * d("u", "x", "x")
        return r * float("nan") if where == "loss" and calls["n"] > 35 else r

    prob = define("nan", SpaceTime(Interval(0, 1), TimeInterval(0, 1)), residual,
                  conditions=[Initial(0.0)], exact=lambda p: torch.zeros_like(p[:, 0]))
    kw = {k: v for k, v in small(log_every=10).items() if k != "steps"}
    torch.manual_seed(0)
    model = MLP(width=8, depth=2)
    if where == "gradient":
        backward = {"n": 0}

        def hook(g):
            backward["n"] += 1
            return g * float("nan") if backward["n"] == 20 else g

        model.build(prob.domain, 1)
        next(model.parameters()).register_hook(hook)
    run = solve(prob, model, steps=100, **kw)
    assert run.status == "diverged" and "NaN" in run.message
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    good_steps = 30 if where == "loss" else 10
    calls["n"] = -10 ** 9  # no NaN in the reference run
    good = solve(prob, MLP(width=8, depth=2), steps=good_steps, **kw)
    for k, v in good.model.state_dict().items():
        assert torch.equal(v, run.model.state_dict()[k]), k
    assert math.isfinite(run.metrics["rel_l2"]) or run.metrics["rel_l2"] == 0.0


def test_unknown_weight_and_causal_without_time_are_errors():
    with pytest.raises(ValueError, match=r"unknown loss terms \['bd'\]"):
        solve(heat(), MLP(width=4, depth=1), weights={"bd": 2.0}, **small())
    steady = define("lap", Interval(0, 1), lambda d: d("u", "x", "x"), exact=lambda p: p[:, 0])
    with pytest.raises(ValueError, match="causal weighting needs a time-dependent problem"):
        solve(steady, MLP(width=4, depth=1), causal={"eps": 1.0}, **small())


def test_causal_training_runs_and_reports_weights(capsys):
    """The progress lines report the smallest causal weight, in (0, 1]; with a large eps it is far below 1."""
    import re

    run = solve(heat(), MLP(width=8, depth=2), causal={"eps": 1.0, "bins": 8}, **{**small(), "quiet": False})
    assert run.status == "finished" and math.isfinite(run.history["loss"][-1])
    found = [(float(w), float(e)) for w, e in re.findall(r"causal min w ([0-9.]+) eps ([0-9.e+-]+)",
                                                           capsys.readouterr().err)]
    assert len(found) == 3 and all(0 < w <= 1 and e == 1.0 for w, e in found), found
    run = solve(heat(), MLP(width=8, depth=2), causal={"eps": 1e4, "bins": 8}, **{**small(), "quiet": False})
    found = [float(w) for w in re.findall(r"causal min w ([0-9.]+)", capsys.readouterr().err)]
    assert len(found) == 3 and all(w < 0.5 for w in found), found


def test_sampler_residual_weights_gate_the_pde_loss_only():
    """A sampler's ``residual_weights`` multiply the squared residual in the loss, not what ``update`` sees."""
    from pde import RandomSampler

    seen = {}

    class HalfGate(RandomSampler):
        def residual_weights(self, points):
            return (points[:, -1] < 0.5).to(points.dtype)

        def update(self, step, points, residual):
            seen["points"], seen["residual"] = points, residual

    prob = heat()
    run = solve(prob, MLP(width=8, depth=2), sampler=HalfGate(n=64, update_every=5), steps=5, device="cpu",
                quiet=True, log_every=5, history_every=1)
    pts, r2 = seen["points"], seen["residual"]
    late = pts[:, -1] >= 0.5
    assert late.any() and (r2[late] > 0).all()  # update got the ungated residual
    # the recorded PDE loss of the last step is the gated mean, so it is below the plain mean
    assert run.history["loss/pde"][-1] < float(r2.mean())


# -- the compiled path (compile=...) against eager mode ------------------------------------------
def test_compile_setting_values():
    assert Settings(compile=True).compile == "default"
    assert Settings(compile="on").compile == "default"
    assert Settings(compile="off").compile is False
    assert Settings(compile="reduce-overhead").compile == "reduce-overhead"
    with pytest.raises(ValueError, match="compile must be on/off or one of"):
        Settings(compile="fastest")


def test_compile_with_nested_autograd_is_a_clear_error():
    with pytest.raises(ValueError, match="'autograd' uses nested reverse mode.*'taylor'"):
        solve(heat(), MLP(width=8, depth=2), engine="autograd", compile=True, **small())


@pytest.mark.slow  # ~150 s on a 2-core CPU (inductor compiles C++)
def test_compiled_training_matches_eager_to_float32_rounding():
    """Same seed, same points: compiled loss + backward + fused Adam follow the eager Taylor run.

    Also covers causal weighting (its slices and weights are inside the compiled graph) and the
    engine default: ``compile=True`` without an engine picks the Taylor engine.
    """
    kw = small(steps=40, log_every=10, causal={"eps": 1.0, "bins": 4})
    eager = solve(heat(), MLP(width=16, depth=2), engine="taylor", seed=1, **kw)
    compiled = solve(heat(), MLP(width=16, depth=2), seed=1, compile=True, **kw)
    assert compiled.config["engine"]["name"] == "taylor"
    assert compiled.config["settings"]["compile"] == "default"
    np.testing.assert_allclose(compiled.history["loss"], eager.history["loss"], rtol=1e-4)
    for (k, a), b in zip(eager.model.state_dict().items(), compiled.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=k)
    assert abs(compiled.metrics["rel_l2"] - eager.metrics["rel_l2"]) < 1e-4 * eager.metrics["rel_l2"] + 1e-6


def test_cli_compile_switch(tmp_path, capsys, monkeypatch):
    """The CLI switch reaches the settings (torch.compile replaced by the identity: the compiled path itself is
    tested by ``test_compiled_graph_through_dynamo_and_aot_autograd_matches_eager`` and the slow tests)."""
    import pde.training.trainer as trainer_module

    compiled = []
    monkeypatch.setattr(trainer_module.torch, "compile", lambda fn, mode=None: compiled.append(mode) or fn)
    out = tmp_path / "run.h5"
    assert main(["solve", "heat", "--steps", "3", "--lbfgs-steps", "0", "--set", "n_interior=32",
                 "--set", "d=1", "--set", "model.width=4", "--set", "model.depth=1", "--device", "cpu", "--compile",
                 "--quiet", "--out", str(out)]) == 0
    from pde.store import read_run

    cfg = read_run(out)["config"]
    assert cfg["settings"]["compile"] == "default" and cfg["engine"]["name"] == "taylor"
    assert compiled == ["default"]
    assert main(["solve", "heat", "--steps", "2", "--lbfgs-steps", "0", "--set", "d=1", "--device", "cpu",
                 "--no-compile", "--quiet", "--out", str(tmp_path / "b.h5")]) == 0
    try:
        code = main(["solve", "heat", "--compile", "fastest"])
    except SystemExit as bad:  # argparse's own exit
        code = bad.code
    assert code == 2 and "invalid choice: 'fastest'" in capsys.readouterr().err


@pytest.mark.slow  # ~30 s on a 2-core CPU
def test_compiled_stde_draws_the_same_directions_as_eager():
    """The stochastic engine compiles too: same seed, same random directions, same losses."""
    from problems import InseparablePoisson

    kw = dict(engine="stde", steps=6, lbfgs_steps=0, device="cpu", quiet=True, log_every=2, n_interior=16, seed=2)
    eager = solve(InseparablePoisson(d=6), **kw)
    compiled = solve(InseparablePoisson(d=6), compile=True, **kw)
    np.testing.assert_allclose(compiled.history["loss"], eager.history["loss"], rtol=1e-4)


def test_compiled_graph_through_dynamo_and_aot_autograd_matches_eager(monkeypatch):
    """The one compile test of the default run: dynamo tracing and AOT autograd (backend ``aot_eager``, no C++
    code generation, seconds instead of minutes) of the loss with its backward, Taylor engine, causal weights."""
    import pde.training.trainer as trainer_module

    real = torch.compile
    monkeypatch.setattr(trainer_module.torch, "compile", lambda fn, mode=None: real(fn, backend="aot_eager"))
    kw = small(steps=4, log_every=2, n_interior=16, causal={"eps": 1.0, "bins": 4})
    eager = solve(heat(), MLP(width=4, depth=1), engine="taylor", seed=1, **kw)
    compiled = solve(heat(), MLP(width=4, depth=1), seed=1, compile=True, **kw)
    assert compiled.message == "" and compiled.config["engine"]["name"] == "taylor"
    np.testing.assert_allclose(compiled.history["loss"], eager.history["loss"], rtol=1e-5)


def test_failed_compilation_falls_back_to_eager(monkeypatch):
    """A compiler failure (no C compiler, unsupported op) costs nothing: the run goes on in eager mode."""
    import torch._inductor.exc as inductor_exc

    import pde.training.trainer as trainer_module

    def broken_compile(fn, **kw):
        def compiled(*a, **k):
            raise inductor_exc.InductorError(RuntimeError("no working C++ compiler found"), None)
        return compiled

    monkeypatch.setattr(trainer_module.torch, "compile", broken_compile)
    kw = small(steps=20, log_every=10)
    run = solve(heat(), MLP(width=8, depth=2), compile=True, seed=5, **kw)
    eager = solve(heat(), MLP(width=8, depth=2), engine="taylor", seed=5, **kw)
    assert run.status == "finished" and "continued in eager mode" in run.message and "C++ compiler" in run.message
    np.testing.assert_allclose(run.history["loss"], eager.history["loss"], rtol=1e-5)  # fused vs foreach Adam

"""Regression tests for the training loop and ``solve`` (issue 14, item 1): each failed at ddeb978."""

import math

import h5py
import numpy as np
import pytest
import torch
from tiny_runs import heat1  # a registered problem (resume rebuilds the problem from its name)

from pde import Dirichlet, Initial, Interval, SpaceTime, TimeInterval, define
from pde.models import MLP, OutputTransform
from pde.solve import solve
from pde.training import CausalWeighting, resume


def heat(k=0.1, exact=True):
    """u_t = k u_xx on [0,1]x[0,1], u = exp(-k pi^2 t) sin(pi x)."""
    return define(
        "heat1d", SpaceTime(Interval(0, 1), TimeInterval(0, 1)),
        lambda d, k: d("u", "t") - k * d("u", "x", "x"),
        conditions=[Initial(lambda p: torch.sin(math.pi * p[:, 0])), Dirichlet(0.0)],
        exact=(lambda p, k: torch.exp(-k * math.pi**2 * p[:, 1]) * torch.sin(math.pi * p[:, 0])) if exact else None,
        params={"k": k})


def small(**kw):
    base = dict(steps=20, lbfgs_steps=0, device="cpu", quiet=True, log_every=5, n_interior=32, n_boundary=8,
                n_initial=8)
    base.update(kw)
    return base


def _weights(run):
    return {k: v.detach().clone() for k, v in run.model.state_dict().items()}


# -- a. the NaN guard checks the weights it keeps ------------------------------------------------
class NaNGradMLP(MLP):
    """An MLP whose first weight receives a NaN gradient in backward pass number ``at`` (loss stays finite)."""

    def __init__(self, at, **kw):
        super().__init__(**kw)
        self.at, self.calls = at, 0

    def build(self, *a, **k):
        out = super().build(*a, **k)
        p = next(self.parameters())

        def hook(g):
            self.calls += 1
            return g * float("nan") if self.calls == self.at else g

        p.register_hook(hook)
        return out


def test_nan_gradient_on_a_log_step_keeps_the_last_good_weights():
    # steps are counted from 1; the loss hooks fire once per backward (one per Adam step, autograd engine
    # runs the model's forward several times but the parameter gradient accumulates in one backward)
    kw = small(steps=30, log_every=5)
    good = solve(heat(), NaNGradMLP(at=10 ** 9, width=8, depth=2), seed=1, **{**kw, "steps": 5})
    run = solve(heat(), NaNGradMLP(at=10, width=8, depth=2), seed=1, **kw)  # NaN gradient in step 10 (a log step)
    assert run.status == "diverged" and "NaN" in run.message
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    for k, v in _weights(good).items():
        assert torch.equal(v, run.model.state_dict()[k]), k


# -- b. resume is bit-exact ------------------------------------------------------------------------
def _resume_matches(tmp_path, name, problem_fn, n=6, **kw):
    path = tmp_path / f"{name}.h5"
    kw = small(log_every=3, checkpoint_every=3, **kw)
    straight = solve(problem_fn(), MLP(width=8, depth=2), seed=2, **{**kw, "steps": 2 * n})
    solve(problem_fn(), MLP(width=8, depth=2), seed=2, out=path, **{**kw, "steps": n})
    resumed = resume(path, steps=2 * n, quiet=True)
    assert resumed.status == "finished"
    a, b = _weights(straight), _weights(resumed)
    for k in a:
        assert torch.equal(a[k], b[k]), (name, k, float((a[k] - b[k]).abs().max()))
    np.testing.assert_array_equal(np.asarray(straight.history["loss"]), np.asarray(resumed.history["loss"]))


@pytest.mark.parametrize("engine", ["autograd", "taylor", "stde"])
def test_resume_is_bit_exact_for_every_engine(tmp_path, engine):
    from problems import InseparablePoisson

    if engine == "stde":
        _resume_matches(tmp_path, engine, lambda: InseparablePoisson(d=4), engine="stde")
    else:
        _resume_matches(tmp_path, engine, heat1, engine=engine)


def test_resume_is_bit_exact_with_causal_schedule_and_r3(tmp_path):
    from samplers import R3

    causal = CausalWeighting(eps=0.1, bins=4, eps_schedule=(0.1, 1.0, 10.0, 100.0), delta=0.0)
    before = causal.describe()
    _resume_matches(tmp_path, "causal", heat1, causal=causal,
                    sampler=R3(n=32, update_every=2))
    assert causal.describe() == before  # the caller's object is not mutated by the schedule


def test_causal_schedule_state_is_restored_on_resume(tmp_path):
    path = tmp_path / "c.h5"
    causal = CausalWeighting(eps=0.1, bins=4, eps_schedule=(0.1, 1.0, 10.0, 100.0), delta=0.0)
    solve(heat1(), MLP(width=8, depth=2), seed=0, out=path, causal=causal, **small(steps=6, log_every=3))
    from pde.store import read_run

    state = read_run(path)
    assert state["sampler"]["state"]["trainer:causal"]["eps"] == 10.0  # advanced twice (log steps 3 and 6)


def test_named_stde_engine_follows_the_run_seed():
    from problems import InseparablePoisson

    kw = dict(engine="stde", steps=3, lbfgs_steps=0, device="cpu", quiet=True, log_every=3, n_interior=16,
              model=MLP(width=8, depth=2))
    a = solve(InseparablePoisson(d=4), seed=1, **kw)
    assert a.config["engine"]["seed"] == 1


def test_resume_on_another_device_type_is_refused_in_one_line(tmp_path):
    path = tmp_path / "cuda.h5"
    solve(heat1(), MLP(width=8, depth=2), seed=0, out=path, **small(steps=3, log_every=3))
    with h5py.File(path, "r+") as f:  # pretend it was trained on CUDA (a 16-byte CUDA generator state)
        f["rng"].attrs["device"] = "cuda"
        del f["rng"]["torch_generator"]
        f["rng"].create_dataset("torch_generator", data=np.zeros(16, np.uint8))
    from pde.cli import main

    with pytest.raises(ValueError, match="trained on 'cuda'.*--device cuda"):
        resume(path, steps=6, quiet=True, device="cpu")
    assert main(["resume", str(path), "--steps", "6", "--device", "cpu", "--quiet"]) != 0


# -- c. a problem without a reference ------------------------------------------------------------
def test_problem_without_reference_finishes_and_writes_its_file(tmp_path, capsys):
    path = tmp_path / "noref.h5"
    run = solve(heat(exact=False), MLP(width=8, depth=2), out=path, **small(steps=4, log_every=2,
                                                                              checkpoint_every=1000))
    assert run.status == "finished" and not run.metrics
    from pde.store import read_run

    state = read_run(path)
    assert state["status"] == "finished" and state["step"] == 4 and state["model"]["state"]
    assert "no reference" in run.message


# -- d. a callable OutputTransform trains -----------------------------------------------------------
def test_callable_output_transform_without_out_file_trains(tmp_path):
    model = OutputTransform(MLP(width=8, depth=2), lambda x, raw: torch.sin(math.pi * x[:, :1]) + x[:, 1:] * raw,
                            satisfies=("ic",))
    run = solve(heat(), model, **small(steps=3, log_every=3))
    assert run.status == "finished" and run.config["model"]["source"] == "callable"
    with pytest.raises(ValueError, match="cannot be stored.*out=None"):
        solve(heat(), OutputTransform(MLP(width=8, depth=2), lambda x, raw: raw), out=tmp_path / "x.h5",
              **small(steps=3, log_every=3))
    assert not (tmp_path / "x.h5").exists()


# -- e. causal=None switches a problem's default off -------------------------------------------------
def test_causal_none_switches_the_problem_default_off():
    from problems import AllenCahn

    run = solve(AllenCahn(), MLP(width=8, depth=2), causal=None, steps=1, lbfgs_steps=0, n_interior=16,
                device="cpu", quiet=True, log_every=1, n_boundary=4, n_initial=4)
    assert run.config["settings"]["causal"] is None
    run = solve(AllenCahn(), MLP(width=8, depth=2), steps=1, lbfgs_steps=0, n_interior=16,
                device="cpu", quiet=True, log_every=1, n_boundary=4, n_initial=4)
    assert run.config["settings"]["causal"]["bins"] == 32


# -- f. L-BFGS gets a deterministic objective ---------------------------------------------------------
def test_lbfgs_objective_is_deterministic_with_causal_weights_and_stde(monkeypatch):
    """Two evaluations of the L-BFGS closure at the same parameters return the same loss."""
    from problems import InseparablePoisson

    seen = []
    orig = torch.optim.LBFGS.step

    def step(self, closure):
        a, b = float(closure()), float(closure())
        seen.append((a, b))
        return orig(self, closure)

    monkeypatch.setattr(torch.optim.LBFGS, "step", step)
    solve(InseparablePoisson(d=4), MLP(width=8, depth=2), engine="stde", seed=0,
          **small(steps=2, lbfgs_steps=2, log_every=1))
    solve(heat(), MLP(width=8, depth=2), causal={"eps": 5.0, "bins": 4}, seed=0,
          **small(steps=2, lbfgs_steps=2, log_every=1))
    assert len(seen) >= 4
    for a, b in seen:
        assert a == b


# -- g. the run file exists from step 0, and is checkpointed by wall time ------------------------------
def test_run_file_is_written_before_the_first_step(tmp_path):
    from pde.store import read_run

    path = tmp_path / "early.h5"
    seen = {}

    class Spy(MLP):
        def forward(self, x):
            if "state" not in seen:
                seen["state"] = read_run(path) if path.exists() else None
            return super().forward(x)

    solve(heat(), Spy(width=8, depth=2), out=path, **small(steps=2, log_every=2))
    assert seen["state"] is not None
    assert seen["state"]["status"] == "running" and seen["state"]["step"] == 0


def test_checkpoint_by_wall_time(tmp_path, monkeypatch):
    import pde.store

    writes = []
    real = pde.store.write_run
    monkeypatch.setattr(pde.store, "write_run", lambda p, s, **k: (writes.append(s["step"]), real(p, s, **k))[1])
    solve(heat(), MLP(width=8, depth=2), out=tmp_path / "w.h5", checkpoint_seconds=0.0,
          **small(steps=6, log_every=2, checkpoint_every=1000))
    assert {0, 2, 4, 6} <= set(writes)


# -- h. the compile fallback catches only compilation errors ------------------------------------------
def test_non_compilation_errors_propagate(monkeypatch):
    import pde.training.trainer as T

    def oom_compile(fn, **kw):
        def compiled(*a, **k):
            raise torch.OutOfMemoryError("CUDA out of memory")
        return compiled

    monkeypatch.setattr(T.torch, "compile", oom_compile)
    with pytest.raises(torch.OutOfMemoryError):
        solve(heat(), MLP(width=8, depth=2), compile=True, **small(steps=2, log_every=2))


def test_compilation_errors_fall_back_with_a_message(monkeypatch, capsys):
    import torch._dynamo.exc as dexc

    import pde.training.trainer as T

    def broken(fn, **kw):
        def compiled(*a, **k):
            raise dexc.BackendCompilerFailed(lambda: None, RuntimeError("no working C++ compiler found"), None)
        return compiled

    monkeypatch.setattr(T.torch, "compile", broken)
    run = solve(heat(), MLP(width=8, depth=2), compile=True, **small(steps=2, log_every=2))  # quiet: still printed
    assert run.status == "finished" and "continued in eager mode" in run.message
    cap = capsys.readouterr()
    assert "eager mode" in cap.out + cap.err and "C++ compiler" in cap.out + cap.err


def test_a_run_killed_before_its_first_checkpoint_resumes_from_step_0(tmp_path):
    """The step-0 file is a complete run file: resuming it gives the run that was never interrupted."""
    from pde import RandomSampler
    from pde.store import read_run

    class Crash(RandomSampler):  # stored under the name of RandomSampler, so resume rebuilds a plain one
        def points(self):
            raise RuntimeError("killed")

    path = tmp_path / "killed.h5"
    kw = small(steps=4, log_every=2, checkpoint_every=1000)
    with pytest.raises(RuntimeError, match="killed"):
        solve(heat1(), MLP(width=8, depth=2), sampler=Crash(n=32), seed=3, out=path, **kw)
    state = read_run(path)
    assert state["status"] == "running" and state["step"] == 0 and state["model"]["state"]
    resumed = resume(path, quiet=True)
    straight = solve(heat1(), MLP(width=8, depth=2), seed=3, **kw)
    for k, v in _weights(straight).items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k


# -- i. Settings.deterministic ---------------------------------------------------------------------
def test_deterministic_causal_sums_equal_the_index_add_ones():
    g = torch.Generator().manual_seed(0)
    r2, t = torch.rand(200, generator=g, dtype=torch.float64), torch.rand(200, generator=g, dtype=torch.float64)
    cw = CausalWeighting(eps=3.0, bins=7)
    a, wa = cw.weighted(r2, t, 0.0, 1.0)
    b, wb = cw.weighted(r2, t, 0.0, 1.0, deterministic=True)
    torch.testing.assert_close(a, b, rtol=1e-14, atol=0)
    torch.testing.assert_close(wa, wb, rtol=1e-14, atol=0)
    fixed, wf = cw.weighted(r2, t, 0.0, 1.0, weights=torch.ones(7, dtype=torch.float64))
    assert torch.equal(wf, torch.ones(7, dtype=torch.float64)) and fixed > a  # weights given are used


def test_deterministic_setting_reaches_the_engine():
    from pde.derivatives import STDE
    from problems import InseparablePoisson

    eng = STDE(n_directions=2)
    run = solve(InseparablePoisson(d=4), MLP(width=8, depth=2), engine=eng, deterministic=True,
                **small(steps=2, log_every=2, n_interior=8))
    assert run.config["settings"]["deterministic"] is True and eng.deterministic is True


# -- i. the user's own callback and loss reduction --------------------------------------------------
def test_user_callback_sees_log_steps_keeps_state_and_can_stop(tmp_path):
    class StopAt:
        def __init__(self, at):
            self.at, self.seen = at, []

        def __call__(self, trainer):
            self.seen.append((trainer.step, trainer.history["loss"][-1]))
            return trainer.step >= self.at

        def state_dict(self):
            return {"seen_steps": [s for s, _ in self.seen]}

        def load_state_dict(self, state):
            self.seen = [(int(s), None) for s in state["seen_steps"]]

    cb = StopAt(6)
    path = tmp_path / "cb.h5"
    run = solve(heat1(), MLP(width=8, depth=2), callbacks=[cb], out=path, **small(steps=20, log_every=3))
    assert [s for s, _ in cb.seen] == [3, 6] and run.status == "finished" and "stopped at step 6" in run.message
    assert run.history["step"][-1] == 6
    cb2 = StopAt(12)
    resumed = resume(path, quiet=True, callbacks=[cb2])
    assert [s for s, _ in cb2.seen] == [3, 6, 9, 12] and resumed.history["step"][-1] == 12


def test_user_loss_reduction_replaces_the_mean():
    mean = solve(heat(), MLP(width=8, depth=2), seed=4, **small(steps=1, log_every=1, history_every=1))
    robust = solve(heat(), MLP(width=8, depth=2), seed=4, reduction=lambda r2: torch.log1p(r2).mean(),
                   **small(steps=1, log_every=1, history_every=1))
    for term in ("pde", "ic", "bc"):  # the first step's terms are of the same initial model: log1p(x) < x
        a, b = mean.history[f"loss/{term}"][0], robust.history[f"loss/{term}"][0]
        assert 0 < b < a, (term, a, b)
    assert robust.config["reduction"]
    with pytest.raises(ValueError, match="must return a scalar"):
        solve(heat(), MLP(width=8, depth=2), reduction=lambda r2: r2, **small(steps=1, log_every=1))


def test_cli_stde_engine_with_options_follows_seed(tmp_path):
    from pde.cli import main
    from pde.store import read_run

    out = tmp_path / "s.h5"
    assert main(["solve", "inseparable_poisson", "--set", "d=4", "--derivatives", "stde", "--directions", "2",
                 "--seed", "5", "--steps", "2", "--lbfgs-steps", "0", "--set", "n_interior=8",
                 "--set", "model.width=4", "--set", "model.depth=1", "--device", "cpu", "--quiet",
                 "--out", str(out)]) == 0
    assert read_run(out)["config"]["engine"]["seed"] == 5


def test_stde_resume_inside_the_lbfgs_phase_is_bit_exact(tmp_path):
    """A run stopped in the middle of L-BFGS (STDE frozen directions) resumes onto the same objective."""
    from problems import InseparablePoisson

    path = tmp_path / "mid.h5"
    kw = small(steps=4, lbfgs_steps=8, log_every=2, checkpoint_every=2, engine="stde")
    straight = solve(InseparablePoisson(d=4), MLP(width=8, depth=2), seed=1, **kw)

    def stop_at_8(trainer):
        return trainer.step == 8

    stopped = solve(InseparablePoisson(d=4), MLP(width=8, depth=2), seed=1, out=path, callbacks=[stop_at_8], **kw)
    assert stopped.step == 8
    resumed = resume(path, quiet=True)
    assert resumed.step == 12
    a, b = _weights(straight), _weights(resumed)
    for k in a:
        assert torch.equal(a[k], b[k]), (k, float((a[k] - b[k]).abs().max()))

"""DeviceLBFGS: convergence on analytic functions, no host synchronisation, exact checkpointing, Trainer use."""

from __future__ import annotations

import copy
import math
import shutil

import numpy as np
import pytest
import torch
from test_store_helpers import TinyHeat, short_run

import pde.store
from pde.cli import main
from pde.models import MLP
from pde.solve import solve
from pde.store import read_run
from pde.training import Settings
from pde.training.lbfgs import DeviceLBFGS


def spd(n=20, cond=100.0, seed=0):
    """Random SPD matrix ``(n, n)`` with eigenvalues log-spaced in [1, cond], and a right-hand side ``(n,)``."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    a = q @ torch.diag(torch.logspace(0, math.log10(cond), n, dtype=torch.float64)) @ q.T
    return (a + a.T) / 2, torch.randn(n, generator=g, dtype=torch.float64)


def minimise(fn, x0, **kw):
    x = x0.clone().requires_grad_(True)
    opt = DeviceLBFGS([x], **kw)

    def closure():
        opt.zero_grad()
        loss = fn(x)
        loss.backward()
        return loss

    opt.step(closure)
    return x.detach(), opt


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quadratic_float64_to_gradient_1e_8(seed):
    """cond(A) = 100, dim 20, 10 pairs: 0.5 x'Ax - b'x to |Ax - b| < 1e-8 within 150 iterations (uses 86-101).

    Steepest descent would need about a thousand; f alone cannot certify decrease below |g| ~ 1e-8
    (f's rounding floor), so this also exercises the slope form of the Armijo test.
    """
    a, b = spd(seed=seed)
    x, opt = minimise(lambda x: 0.5 * x @ a @ x - b @ x, torch.zeros(20, dtype=torch.float64), max_iter=150,
                      history_size=10, tolerance_grad=1e-12, tolerance_change=0.0)
    assert torch.linalg.vector_norm(a @ x - b) < 1e-8
    info = opt.info()
    assert info["func_evals"] == 151 and 0 < info["n_iter"] <= 150


def test_rosenbrock_float64():
    """From (-1.2, 1) to |x - (1, 1)| < 1e-6 within 100 iterations (uses 53; strong Wolfe: 45 evaluations)."""
    def rosen(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    x, opt = minimise(rosen, torch.tensor([-1.2, 1.0], dtype=torch.float64), max_iter=100, history_size=10,
                      tolerance_grad=1e-12, tolerance_change=0.0)
    assert torch.linalg.vector_norm(x - 1) < 1e-6, x
    assert opt.info()["loss"] < 1e-12


def test_converged_flag_freezes_the_parameters():
    a, b = spd(n=5, cond=10.0)
    x, opt = minimise(lambda x: 0.5 * x @ a @ x - b @ x, torch.zeros(5, dtype=torch.float64), max_iter=200,
                      history_size=5, tolerance_grad=1e-6)
    info = opt.info()
    assert info["converged"] and info["grad_norm"] <= 1e-6 and info["n_iter"] < 100
    assert info["func_evals"] == 201  # later iterations still evaluate, at the same point
    assert torch.linalg.vector_norm(a @ x - b, ord=math.inf) <= 1e-6


def two_loop(g, pairs, gamma):
    """Textbook two-loop recursion, ``pairs`` = [(s, y), ...] newest first: returns ``-H g``."""
    q, a = g.clone(), []
    for s, y in pairs:
        a.append((s @ q) / (s @ y))
        q -= a[-1] * y
    r = gamma * q
    for (s, y), ai in zip(reversed(pairs), reversed(a)):
        r += (ai - (y @ r) / (s @ y)) * s
    return -r


@pytest.mark.parametrize("iterations", [3, 17])  # a partly filled ring, and a wrapped one
def test_triangular_solves_are_the_two_loop_recursion(iterations):
    net, make_closure = regression()
    opt = DeviceLBFGS(net.parameters(), max_iter=iterations, history_size=6)
    opt.step(make_closure(opt))
    st = opt.state[next(net.parameters())]
    m, head, count = 6, int(st["head"]), int(st["count"])
    assert (count < m) == (iterations == 3) and count >= 3
    slots = [(head - 1 - k) % m for k in range(count)]
    pairs = [(st["S"][i], st["Y"][i]) for i in slots]
    torch.testing.assert_close(st["SY"], st["S"] @ st["Y"].T, rtol=1e-12, atol=0)
    g = torch.randn(st["S"].shape[1], dtype=torch.float64)
    want = two_loop(g, pairs, st["gamma"])
    got = DeviceLBFGS._direction(g, st["S"], st["Y"], st["SY"], st["rho"], st["head"], st["gamma"])
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12 * float(want.abs().max()))


# -- no host synchronisation (trap: the no_host_reads fixture of conftest.py) ------------------------
def regression(dtype=torch.float64, device="cpu", seed=1):
    """A small tanh network on fixed data: ``(model, closure factory)``."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g, dtype=dtype).to(device)
    y = torch.sin(3 * x[:, :1]) * x[:, 1:]
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).to(device, dtype)

    def make_closure(opt):
        def closure():
            opt.zero_grad(set_to_none=True)
            loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            return loss
        return closure

    return net, make_closure


def test_step_reads_nothing_on_the_host(no_host_reads):
    net, make_closure = regression()
    opt = DeviceLBFGS(net.parameters(), max_iter=25, history_size=5)
    closure = make_closure(opt)
    start = float(closure().detach())
    with no_host_reads():
        with pytest.raises(AssertionError, match="host synchronisation"):
            bool(torch.ones(()) > 0)  # the trap is armed
        opt.step(closure)
        opt.step(closure)
    assert opt.info()["loss"] < 0.5 * start
    # the same trap catches torch's strong-Wolfe L-BFGS
    torch_opt = torch.optim.LBFGS(net.parameters(), max_iter=5, line_search_fn="strong_wolfe")
    with no_host_reads(), pytest.raises(AssertionError, match="host synchronisation"):
        torch_opt.step(make_closure(torch_opt))


@pytest.mark.gpu
def test_step_does_not_synchronise_cuda():
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    net, make_closure = regression(dtype=torch.float32, device="cuda")
    opt = DeviceLBFGS(net.parameters(), max_iter=25, history_size=5)
    closure = make_closure(opt)
    start = float(closure().detach())
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        opt.step(closure)
        opt.step(closure)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert opt.info()["loss"] < 0.5 * start


# -- checkpointing -----------------------------------------------------------------------------
def test_state_dict_roundtrip_resumes_exactly(h5_roundtrip):
    """k steps, save (through the HDF5 encoding), m more; a fresh model + optimizer from the save, m more: equal."""
    net, make_closure = regression()
    opt = DeviceLBFGS(net.parameters(), max_iter=7, history_size=4)  # small ring: wraps around
    closure = make_closure(opt)
    for _ in range(3):
        opt.step(closure)
    saved = h5_roundtrip({"model": copy.deepcopy(net.state_dict()), "opt": opt.state_dict()})
    for _ in range(3):
        opt.step(closure)

    net2, make_closure2 = regression(seed=5)  # different initial weights, overwritten by the load
    opt2 = DeviceLBFGS(net2.parameters(), max_iter=7, history_size=4)
    net2.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["opt"])
    closure2 = make_closure2(opt2)
    for _ in range(3):
        opt2.step(closure2)
    for a, b in zip(net.parameters(), net2.parameters(), strict=True):
        assert torch.equal(a, b)
    assert opt.info() == opt2.info()
    st = opt2.state[next(net2.parameters())]
    assert st["count"].dtype == torch.int64 and st["converged"].dtype == torch.bool


def test_load_keeps_integer_counters_exact_and_rejects_foreign_state():
    net, make_closure = regression()
    opt = DeviceLBFGS(net.parameters(), max_iter=2)
    opt.step(make_closure(opt))
    sd = opt.state_dict()
    sd["state"][0]["func_evals"] = torch.tensor(2**53 + 1)  # not representable in float64
    opt2 = DeviceLBFGS(net.parameters(), max_iter=2)
    opt2.load_state_dict(sd)
    assert opt2.state[next(net.parameters())]["func_evals"] == torch.tensor(2**53 + 1)

    torch_opt = torch.optim.LBFGS(net.parameters(), max_iter=2)
    torch_opt.step(make_closure(torch_opt))
    with pytest.raises(ValueError, match="not a DeviceLBFGS state.*torch.optim.LBFGS"):
        DeviceLBFGS(net.parameters()).load_state_dict(torch_opt.state_dict())


# -- in the Trainer ------------------------------------------------------------------------------
def test_settings_validate_the_line_search():
    assert Settings().lbfgs_line_search == "strong_wolfe"
    assert Settings(lbfgs_line_search="device").lbfgs_line_search == "device"
    with pytest.raises(ValueError, match="unknown lbfgs_line_search 'wolfe'; allowed: strong_wolfe, device"):
        Settings(lbfgs_line_search="wolfe")


def test_device_lbfgs_after_adam_matches_strong_wolfe_progress():
    """TinyHeat, 200 Adam steps then 200 L-BFGS iterations (float32, 2 seeds).

    Bound: L-BFGS lowers the loss by at least 1000x, and the device optimizer's final/after-Adam ratio is
    within 3x of strong Wolfe's (measured: 1.0-1.4x) although its iterations are single evaluations.
    """
    kw = dict(steps=200, lbfgs_steps=200, device="cpu", quiet=True, log_every=50, n_interior=128, n_boundary=32,
              n_initial=32)
    for seed in (0, 1):
        ratios = {}
        for ls in ("strong_wolfe", "device"):
            run = solve(TinyHeat(), MLP(width=16, depth=2), seed=seed, lbfgs_line_search=ls, **kw)
            h = run.history
            assert run.status == "finished" and h["step"][-1] == 400
            ratios[ls] = h["loss"][-1] / h["loss"][h["step"] == 200][0]
        assert ratios["device"] < 1e-3, ratios
        assert ratios["device"] < 3 * ratios["strong_wolfe"], ratios


def test_resume_in_the_device_lbfgs_phase_reproduces_the_uninterrupted_run(tmp_path, monkeypatch):
    kw = dict(lbfgs_steps=40, log_every=10, checkpoint_every=10, lbfgs_line_search="device")
    ref = short_run(tmp_path / "ref.h5", **kw)
    copies = {}
    real_write = pde.store.write_run

    def spy(path, state, **k):
        out = real_write(path, state, **k)
        if state["step"] == 80 and state["status"] == "running" and 80 not in copies:
            copies[80] = shutil.copy(path, tmp_path / "at80.h5")
        return out

    monkeypatch.setattr(pde.store, "write_run", spy)
    short_run(tmp_path / "again.h5", **kw)
    monkeypatch.undo()
    mid = read_run(copies[80])
    assert mid["optimizer"]["phase"] == "lbfgs" and mid["config"]["settings"]["lbfgs_line_search"] == "device"
    lbfgs_state = mid["optimizer"]["state"]["state"][0]
    assert {"S", "Y", "rho", "alpha", "converged"} <= set(lbfgs_state)
    assert 0 < int(lbfgs_state["n_iter"]) <= 20  # 20 of the 40 iterations done

    from pde.training import resume

    resume(copies[80], quiet=True)
    got, want = read_run(copies[80]), read_run(ref.path)
    assert got["status"] == "finished" and got["provenance"]["resumed_from_step"] == 80
    assert got["history"]["loss"][-1] == want["history"]["loss"][-1] == ref.history["loss"][-1]
    for k, v in want["model"]["state"].items():
        assert torch.equal(got["model"]["state"][k], v), k


def test_cli_sets_the_line_search(tmp_path, capsys):
    out = tmp_path / "run.h5"
    assert main(["solve", "heat", "--steps", "5", "--lbfgs-steps", "6", "--set", "d=1", "--set", "n_interior=32",
                 "--set", "lbfgs_line_search=device", "--device", "cpu", "--quiet", "--out", str(out)]) == 0
    state = read_run(out)
    assert state["config"]["settings"]["lbfgs_line_search"] == "device"
    assert int(state["optimizer"]["state"]["state"][0]["func_evals"]) >= 6
    assert np.isfinite(state["history"]["loss"][-1])
    assert main(["solve", "heat", "--steps", "2", "--set", "d=1", "--set", "lbfgs_line_search=wolfe",
                 "--device", "cpu", "--quiet", "--out", str(tmp_path / "bad.h5")]) == 2
    assert "unknown lbfgs_line_search 'wolfe'" in capsys.readouterr().err

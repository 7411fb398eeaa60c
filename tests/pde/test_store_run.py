"""A real run file: documented schema, pde.load, and kill-and-resume reproducibility."""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from test_store_helpers import ROOT, TinyHeat, cached_run, short_run, subprocess_env

import pde.store
from pde.store import load, read_run

KILL_STEPS = 100  # the killed runs are longer so that kills land mid-training


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return cached_run(tmp_path_factory)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Final weights of the uninterrupted KILL_STEPS run."""
    path = tmp_path_factory.mktemp("ref") / "ref.h5"
    short_run(path, steps=KILL_STEPS, checkpoint_every=1000)
    return read_run(path)["model"]["state"]


def test_real_run_matches_documented_schema(finished):
    text = (ROOT / "docs" / "run-schema.md").read_text()
    block = re.search(r"```schema\n(.*?)```", text, re.S).group(1)
    with h5py.File(finished) as f:
        assert f.attrs["schema_version"] == pde.store.SCHEMA_VERSION
        for line in block.strip().splitlines():
            path, kind, *rest = line.split()
            attrs = rest[1:] if rest and rest[0] == "attrs" else []
            assert path in f, f"{path} missing"
            obj = f[path]
            if kind == "group":
                assert isinstance(obj, h5py.Group), path
            elif kind == "dataset":
                assert isinstance(obj, h5py.Dataset), path
            for a in attrs:
                assert a in obj.attrs, f"attribute {a} missing on {path}"
        n = f["history"].attrs["length"]
        assert n > 0 and all(ds.shape == (n,) for ds in f["history"].values())
        assert f["solution/prediction"].shape == (21, 21, 1)
        assert [d.label or d[0].name for d in f["solution/prediction"].dims] == ["/solution/x", "/solution/t",
                                                                                   "/solution/field"]


def test_load_rebuilds_model_and_problem(finished):
    run = load(finished)
    assert isinstance(run.problem, TinyHeat) and run.status == "finished"
    assert run.coordinates == ["x", "t"] and run.fields == ["u"]
    sol = run.solution
    np.testing.assert_allclose(run.predict_numpy(sol["points"]), sol["prediction"], rtol=1e-5, atol=1e-6)
    assert run.metrics["rel_l2"] == pytest.approx(np.linalg.norm(sol["error"]) / np.linalg.norm(sol["reference"]))
    assert set(run.history) >= {"step", "wall_time", "lr", "loss", "loss/pde", "loss/ic", "loss/bc"}
    assert run.snapshots and run.snapshots[-1]["points"].shape == (64, 2)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_load_on_device(finished, device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    run = load(finished, device=device)
    assert run.device.type == device
    pts = torch.rand(5, 2)
    y = run.predict(pts)
    assert y.shape == (5, 1) and y.device.type == device
    np.testing.assert_allclose(y.cpu().double().numpy(), load(finished).predict_numpy(pts), rtol=1e-5, atol=1e-6)


def test_resume_from_a_checkpoint_reproduces_uninterrupted_weights(tmp_path, monkeypatch, finished):
    ref = finished
    copies = {}
    real_write = pde.store.write_run

    def spy(path, state, **kw):
        out = real_write(path, state, **kw)
        if state["step"] in (30, 60) and state["step"] not in copies:
            copies[state["step"]] = shutil.copy(path, tmp_path / f"at{state['step']}.h5")
        return out

    monkeypatch.setattr(pde.store, "write_run", spy)
    short_run(tmp_path / "again.h5")
    monkeypatch.undo()
    assert set(copies) == {30, 60}
    want = read_run(ref)["model"]["state"]
    from pde.training import resume

    for step, path in copies.items():
        assert read_run(path)["step"] == step
        resume(path, quiet=True)
        got = read_run(path)
        assert got["status"] == "finished" and got["provenance"]["resumed_from_step"] == step
        for k, v in want.items():
            assert torch.equal(got["model"]["state"][k], v), (step, k)


def _resume_cli(path):
    from pde.commands import resume as cmd

    parser = argparse.ArgumentParser()
    cmd.add_command(parser.add_subparsers())
    args = parser.parse_args(["resume", str(path), "--quiet"])
    return args.func(args)


def _kill_trials(tmp_path, uninterrupted, n):
    rng = np.random.default_rng(1234)
    script = Path(__file__).with_name("test_store_helpers.py")
    outcomes = []
    for i in range(n):
        path = tmp_path / f"kill{i}.h5"
        proc = subprocess.Popen([sys.executable, str(script), str(path), str(KILL_STEPS)], env=subprocess_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # a random moment: once the run has checkpointed a random step, after a further random delay
        target, deadline = int(rng.integers(5, KILL_STEPS)), time.time() + 120
        while proc.poll() is None and time.time() < deadline:
            try:
                with h5py.File(path, "r") as f:
                    if int(f.attrs["step"]) >= target:
                        break
            except (OSError, KeyError):
                pass
            time.sleep(0.005)
        assert path.exists(), proc.stderr.read().decode()[-2000:]
        time.sleep(float(rng.uniform(0.0, 0.05)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        r = read_run(path)  # the last checkpoint is always readable
        outcomes.append((r["step"], r["status"]))
        assert _resume_cli(path) == 0
        done = read_run(path)
        assert done["status"] == "finished" and done["step"] == KILL_STEPS + 4
        for k, v in uninterrupted.items():
            assert torch.equal(done["model"]["state"][k], v), (i, outcomes[-1], k)
    return outcomes


def test_sigkill_then_resume(tmp_path, uninterrupted):
    outcomes = _kill_trials(tmp_path, uninterrupted, 1)
    assert all(step >= 5 for step, _ in outcomes)


@pytest.mark.slow
def test_sigkill_then_resume_20_trials(tmp_path, uninterrupted):
    outcomes = _kill_trials(tmp_path, uninterrupted, 20)
    print("killed at (step, status):", outcomes)
    assert sum(status == "running" for _, status in outcomes) >= 15  # most kills landed mid-training

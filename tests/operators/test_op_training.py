"""Shared training machinery: short trainings lower the error, run files, validate, CLI wiring."""

import argparse
import json

import h5py
import pytest
import torch

from operators import H1Loss, LpLoss, generate_dataset, train, validate
from operators.cli import add_commands


@pytest.fixture(scope="module")
def darcy(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "darcy.h5"
    return generate_dataset("darcy", 50, 17, path, seed=0, quiet=True, stride=2)


def test_losses():
    y = torch.ones(2, 1, 8, 8)
    assert LpLoss(2)(y, y) == 0
    assert LpLoss(2)(2 * y, y).item() == pytest.approx(1.0)
    assert H1Loss()(y * 1.5, y).item() == pytest.approx(0.5)
    x = torch.linspace(0, 1, 9)
    ramp = x[None, None, :, None].expand(1, 1, 9, 9)
    assert H1Loss()(ramp + 0.0, ramp * 0) > 0


@pytest.mark.parametrize("model,options,bound", [
    ("fno", {"n_modes": 6, "hidden_channels": 16}, 0.15),
    ("mgno", {"hidden_channels": 8, "n_layers": 2, "levels": [[1, 1], [1, 1], [1, 0]]}, 0.15),
])
def test_short_training_lowers_error(darcy, tmp_path, model, options, bound):
    out = tmp_path / f"{model}.h5"
    res = train(darcy, model=model, out=out, epochs=20, device="cpu", quiet=True, batch_size=8, lr=3e-3, n_test=10,
                model_options=options)
    assert res.history["test_l2"][0] > 0.3
    assert res.metrics["test_l2"] < bound, res.metrics
    assert res.metrics["speedup_vs_solver"] > 0
    with h5py.File(out, "r") as f:  # pdekit's one run format, kind "operator"
        assert f.attrs["format"] == "pdekit-run" and f.attrs["kind"] == "operator" and f.attrs["status"] == "finished"
        assert json.loads(f["config"].attrs["json"])["model"] == model
        assert f["history/test_l2"].shape == (20,)
        assert "test_l2" in f["metrics"].attrs and len(f["model/state"]) > 0
        assert f["predictions/pred"].shape == f["predictions/y"].shape
    check = validate(out)
    assert check["matches"] and check["test_l2"] == pytest.approx(res.metrics["test_l2"], rel=1e-4)


def test_zero_shot_higher_resolution_and_h1_and_physics(darcy, tmp_path):
    out = tmp_path / "ckpt.h5"
    res = train(darcy, model="fno", out=out, epochs=3, quiet=True, train_stride=2, loss="h1", physics_weight=1e-3,
                checkpoint_every=1, schedule="step", model_options={"n_modes": 4, "hidden_channels": 8})
    assert validate(out)["zero_shot_l2"] == pytest.approx(res.metrics["zero_shot_l2"], rel=1e-4)
    assert res.metrics["train_resolution"] == 9 and res.metrics["zero_shot_resolution"] == 17
    assert 0 < res.metrics["zero_shot_l2"] < 10


def test_train_rejects_bad_model(darcy):
    with pytest.raises(ValueError, match="'transformer'"):
        train(darcy, model="transformer", epochs=1, quiet=True)


def test_cli_commands(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="cmd"))
    data = tmp_path / "d.h5"
    args = parser.parse_args(["dataset", "darcy", "--samples", "10", "--resolution", "9", "--out", str(data),
                              "--quiet"])
    assert args.func(args) == 0 and data.exists()
    run = tmp_path / "r.h5"
    args = parser.parse_args(["train", str(data), "--model", "mgno", "--epochs", "1", "--out", str(run), "--quiet",
                              "--model-options", '{"hidden_channels": 4, "n_layers": 1, "levels": [[1, 0], [1, 0]]}'])
    assert args.func(args) == 0 and run.exists()
    args = parser.parse_args(["validate", str(run)])
    assert args.func(args) == 0
    assert '"matches": true' in capsys.readouterr().out


def test_time_dependent_datasets_train_end_to_end(tmp_path):
    b = generate_dataset("burgers", 6, 32, tmp_path / "b.h5", quiet=True, stride=2, n_times=2)
    res = train(b, model="fno", epochs=2, quiet=True, batch_size=4, model_options={"n_modes": 4, "hidden_channels": 4})
    assert res.metrics["test_l2"] > 0
    ns = generate_dataset("navier_stokes", 4, 16, tmp_path / "ns.h5", quiet=True, final_time=11, dt=1e-2)
    res = train(ns, model="mgno", epochs=1, quiet=True, batch_size=2,
                model_options={"hidden_channels": 4, "n_layers": 1, "levels": [[1, 0], [1, 0]],
                               "padding_mode": "circular"})
    assert res.model(torch.zeros(1, 10, 16, 16)).shape == (1, 2, 16, 16)
    with pytest.raises(ValueError, match="2-D"):
        train(b, model="mgno", epochs=1, quiet=True)


def test_darcy_physics_residual_vanishes_on_solver_solution():
    import numpy as np

    from operators.solvers import solve_darcy
    from operators.training import darcy_residual

    rng = np.random.default_rng(0)
    a = np.where(rng.standard_normal((17, 17)) > 0, 12.0, 3.0)
    u = solve_darcy(a, 1.0)
    res = darcy_residual(torch.from_numpy(a)[None, None], torch.from_numpy(u)[None, None])
    assert res.abs().max() < 1e-9
    assert darcy_residual(torch.from_numpy(a)[None, None], torch.zeros(1, 1, 17, 17)).abs().min() == 1.0


def test_progress_reads_lazy_values_only_when_printing(capsys):
    from operators.progress import Progress

    calls = []
    prog = Progress("demo", 100, every=3600.0)  # throttled: only the first and the last update print

    for step in range(1, 101):
        prog.update(step, lambda s=step: calls.append(s) or "extra")
    assert calls == [1, 100]
    assert capsys.readouterr().err.count("extra") == 2
    Progress("quiet", 10, quiet=True).update(10, lambda: calls.append("quiet") or "")
    assert "quiet" not in calls

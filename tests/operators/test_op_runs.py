"""Operator runs are pdekit runs: one Run type, one run-file format, kind dispatch, --set, no per-batch reads."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import h5py
import pytest
import torch
from torch import nn

import pde
from operators import generate_dataset, train
from operators.cli import add_commands

TINY = {"n_modes": 3, "hidden_channels": 4}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return generate_dataset("darcy", 12, 9, tmp_path_factory.mktemp("d") / "d.h5", seed=0, quiet=True, stride=2)


@pytest.fixture(scope="module")
def run_file(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "fno.h5"
    train(data, model="fno", out=out, epochs=2, quiet=True, batch_size=4, n_test=4, model_options=TINY)
    return out


def test_train_returns_the_one_run_type_and_load_reads_it_back(data, run_file, tmp_path):
    res = train(data, model="fno", out=tmp_path / "r.h5", epochs=2, quiet=True, batch_size=4, n_test=4,
                model_options=TINY)
    assert type(res) is pde.Run and res.kind == "operator" and res.status == "finished" and res.step == 2
    loaded = pde.load(tmp_path / "r.h5")
    assert type(loaded) is pde.Run and loaded.kind == "operator" and loaded.step == 2
    assert loaded.metrics["test_l2"] == pytest.approx(res.metrics["test_l2"])
    assert list(loaded.history["test_l2"]) == pytest.approx(list(res.history["test_l2"]))
    x = torch.rand(2, 1, 9, 9)
    torch.testing.assert_close(loaded.predict(x), res.predict(x))
    with h5py.File(tmp_path / "r.h5") as f:
        assert f.attrs["schema_version"] == pde.store.SCHEMA_VERSION and f.attrs["kind"] == "operator"
        assert json.loads(f["model"].attrs["architecture"])["name"] == "fno"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5"]  # no temporary file left
    with pytest.raises(ValueError, match="no coordinates"):
        _ = loaded.coordinates


def test_checkpoints_are_running_runs(data, tmp_path, monkeypatch):
    import operators.runfile as rf

    seen = []
    real = rf.write_run

    def spy(path, state, **kw):
        seen.append((state["status"], state["step"]))
        return real(path, state, **kw)

    monkeypatch.setattr(rf, "write_run", spy)
    train(data, model="fno", out=tmp_path / "c.h5", epochs=3, quiet=True, batch_size=4, n_test=4,
          checkpoint_every=1, model_options=TINY)
    assert seen == [("running", 1), ("running", 2), ("finished", 3)]


def test_pde_validate_dispatches_on_kind_through_the_registry(run_file, capsys):
    from pde import registry
    from pde.cli import main

    assert main(["validate", str(run_file)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["matches"] is True
    import operators.runfile

    assert registry.run_kind("operator") is operators.runfile
    with pytest.raises(ValueError, match="no handler for runs of kind 'nosuch'"):
        registry.run_kind("nosuch")
    src = (Path(pde.__file__).parent / "commands" / "validate.py").read_text()
    assert "operators" not in src.replace("(operators)", "")  # pde reaches operators only through the registry


def _parser():
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="cmd"))
    return parser


def test_train_cli_takes_set_like_solve(data, tmp_path, capsys):
    out = tmp_path / "s.h5"
    args = _parser().parse_args(["train", str(data), "--epochs", "1", "--out", str(out), "--quiet",
                                 "--set", "lr=3e-3", "--set", "batch_size=4", "--set", "schedule=step",
                                 "--set", "model.n_modes=3", "--set", "model.hidden_channels=4"])
    assert args.func(args) == 0
    cfg = pde.load(out, model=False).config
    assert cfg["lr"] == 3e-3 and cfg["batch_size"] == 4 and cfg["schedule"] == "step"
    assert cfg["model_options"] == {"n_modes": 3, "hidden_channels": 4}
    for bad, match in ((["--set", "nosuch=1"], "nosuch"), (["--set", "lr"], "NAME=VALUE"),
                       (["--set", "batch_size=x"], "batch_size")):
        args = _parser().parse_args(["train", str(data), "--epochs", "1", "--quiet", *bad])
        with pytest.raises(ValueError, match=match):
            args.func(args)
    # the old JSON flags still work, with a deprecation message
    args = _parser().parse_args(["train", str(data), "--epochs", "1", "--out", str(out), "--quiet",
                                 "--model-options", json.dumps(TINY), "--options", '{"batch_size": 4}'])
    capsys.readouterr()
    assert args.func(args) == 0
    assert "deprecated" in capsys.readouterr().err
    assert pde.load(out, model=False).config["model_options"] == TINY


def test_training_reads_the_loss_once_per_epoch_not_per_batch(data, monkeypatch):
    """The per-batch loss stays on the device: host reads made by the training code (``.item()``, ``float()``)
    do not grow with the number of batches per epoch (torch's own CPU-side reads, e.g. Adam's step count,
    are not device reads and are not counted)."""
    import sys

    import operators.training as T

    counts = []
    for batch_size in (8, 2):  # 1 vs 4 batches per epoch (8 training samples)
        n = [0]
        item, flt = torch.Tensor.item, torch.Tensor.__float__

        def counted(f, n=n):
            def read(self):
                if sys._getframe(1).f_code.co_filename == T.__file__:
                    n[0] += 1
                return f(self)
            return read

        monkeypatch.setattr(torch.Tensor, "item", counted(item))
        monkeypatch.setattr(torch.Tensor, "__float__", counted(flt))
        train(data, model="fno", epochs=2, quiet=True, batch_size=batch_size, n_test=4, model_options=TINY)
        monkeypatch.undo()
        counts.append(n[0])
    assert counts[0] == counts[1] and counts[0] > 0, counts


class Custom(nn.Module):
    """A user's own operator with a learnable extra parameter and a custom submodule."""

    def __init__(self):
        super().__init__()
        self.lift = nn.Conv2d(1, 4, 1)
        self.head = nn.Sequential(nn.GELU(), nn.Conv2d(4, 1, 1))
        self.gain = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return self.gain * self.head(self.lift(x))


def test_custom_operator_module_loads_with_model_argument(data, tmp_path):
    from operators import validate

    torch.manual_seed(0)
    res = train(data, model=Custom(), out=tmp_path / "c.h5", epochs=2, quiet=True, batch_size=4, n_test=4)
    with pytest.raises(pde.store.RunFileError, match=r"pde.load\(path, model="):
        pde.load(tmp_path / "c.h5")
    run = pde.load(tmp_path / "c.h5", model=Custom())
    x = torch.rand(2, 1, 9, 9)
    torch.testing.assert_close(run.predict(x), res.predict(x))
    assert run.model.model.gain.item() == pytest.approx(res.model.model.gain.item())
    assert validate(tmp_path / "c.h5", model=Custom())["matches"]
    with pytest.raises(pde.store.RunFileError, match="gain"):  # strict: a module without the extra parameter
        pde.load(tmp_path / "c.h5", model=nn.Sequential())


def test_old_operator_layout_is_refused_with_the_upgrade_command(tmp_path, run_file):
    from operators.runfile import upgrade

    old = tmp_path / "old.h5"
    run = pde.load(run_file)
    with h5py.File(old, "w") as f:  # the layout before run schema 2
        f.attrs.update({"pdekit_run": "operator", "config": json.dumps(run.config)})
        for k, v in run.history.items():
            f.create_dataset(f"history/{k}", data=v)
        f.create_group("metrics").attrs.update(run.metrics)
        for k, v in run.model.state_dict().items():
            f.create_dataset(f"weights/{k}", data=v.numpy())
    with pytest.raises(pde.store.RunFileError, match="upgrade"):
        pde.load(old)
    upgrade(old)
    again = pde.load(old)
    x = torch.rand(1, 1, 9, 9)
    torch.testing.assert_close(again.predict(x), run.predict(x))


def test_operator_run_matches_documented_schema(run_file):
    import re

    text = (Path(__file__).resolve().parents[2] / "docs" / "run-schema.md").read_text()
    block = re.search(r"```schema-operator\n(.*?)```", text, re.S).group(1)
    with h5py.File(run_file) as f:
        assert f.attrs["kind"] == "operator"
        for line in block.strip().splitlines():
            path, kind, *rest = line.split()
            assert path in f, f"{path} missing"
            if kind == "group":
                assert isinstance(f[path], h5py.Group), path
            elif kind == "dataset":
                assert isinstance(f[path], h5py.Dataset), path
            for a in rest[1:] if rest and rest[0] == "attrs" else []:
                assert a in f[path].attrs, f"attribute {a} missing on {path}"


def test_pde_show_on_an_operator_run_names_the_dataset_not_a_problem(run_file, data, capsys):
    from pde.cli import main

    assert main(["show", str(run_file)]) == 0
    out = capsys.readouterr().out
    assert "operator run" in out and f"dataset  {Path(data).resolve()}" in out
    assert "None" not in out.split("device")[0]  # no empty problem / sampler / engine lines
    assert "problem" not in out and "sampler" not in out and "engine" not in out

"""Custom nn.Module models and learnable extra parameters load and resume (``model=`` of load and resume)."""

from __future__ import annotations

import pytest
import torch
from test_store_helpers import SHORT, TinyHeat
from torch import nn

import pde
from pde.models import MLP
from pde.solve import solve
from pde.store import RunFileError, read_run


class WithExtra(nn.Module):
    """A user's own model: a pdekit MLP inside, a custom submodule and a learnable extra parameter."""

    def __init__(self):
        super().__init__()
        self.body = MLP(width=8, depth=1).build(TinyHeat().domain, 1)
        self.tail = nn.Linear(1, 1)
        self.scale = nn.Parameter(torch.tensor(0.7))

    def forward(self, x):
        return self.scale * self.tail(self.body(x))


def _mlp_plus():
    """A pdekit MLP with a submodule and a parameter added after construction (its architecture omits them)."""
    m = MLP(width=8, depth=1).build(TinyHeat().domain, 1)
    m.extra = nn.Linear(1, 1)
    m.gain = nn.Parameter(torch.tensor(1.0))
    return m


RUN = {**SHORT, "steps": 10, "lbfgs_steps": 0, "checkpoint_every": 5}


@pytest.mark.parametrize("make", [WithExtra, _mlp_plus], ids=["custom-module", "mlp-with-added-parts"])
def test_custom_model_loads_with_model_argument(tmp_path, make):
    torch.manual_seed(0)
    run = solve(TinyHeat(), model=make(), out=str(tmp_path / "c.h5"), **RUN)
    stored = read_run(tmp_path / "c.h5")["model"]["state"]
    assert any(k.endswith(("scale", "gain")) for k in stored)  # the extra parameter is stored as a plain array
    with pytest.raises(RunFileError, match=r"pde.load\(path, model="):
        pde.load(tmp_path / "c.h5")
    loaded = pde.load(tmp_path / "c.h5", model=make())
    assert isinstance(loaded, pde.Run) and type(loaded) is type(run)
    pts = torch.rand(7, 2)
    torch.testing.assert_close(loaded.predict(pts), run.predict(pts))
    for k, v in run.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k].cpu(), v.cpu()), k
    with pytest.raises(RunFileError, match="lacks"):  # strict: a module missing stored entries is refused
        pde.load(tmp_path / "c.h5", model=MLP(width=8, depth=1))


def test_custom_model_resumes_bit_exactly(tmp_path, monkeypatch):
    """A checkpoint of a run with a custom model resumes (``resume(path, model=...)``) to the same weights."""
    import shutil

    import pde.store

    torch.manual_seed(0)
    full = solve(TinyHeat(), model=WithExtra(), out=str(tmp_path / "full.h5"), **RUN)
    real, copies = pde.store.write_run, {}

    def spy(path, state, **kw):
        out = real(path, state, **kw)
        if state["step"] == 5 and not copies:
            copies["p"] = shutil.copy(path, tmp_path / "at5.h5")
        return out

    monkeypatch.setattr(pde.store, "write_run", spy)
    torch.manual_seed(0)
    solve(TinyHeat(), model=WithExtra(), out=str(tmp_path / "again.h5"), **RUN)
    monkeypatch.undo()
    with pytest.raises(RunFileError, match="model="):
        pde.resume(copies["p"], quiet=True)
    pde.resume(copies["p"], quiet=True, model=WithExtra())
    got = read_run(copies["p"])
    assert got["status"] == "finished" and got["step"] == read_run(tmp_path / "full.h5")["step"] == 10
    for k, v in full.model.state_dict().items():
        assert torch.equal(got["model"]["state"][k], v.cpu()), k


def test_one_run_type(tmp_path):
    """solve, load and resume return the same class, with the same attributes and predict."""
    import operators.training
    import pde.run
    import pde.store
    from pde.solve import Run as SolveRun  # (pde.solve is also the function's name)

    assert SolveRun is pde.store.Run is pde.Run is pde.run.Run is operators.training.TrainResult
    run = solve(TinyHeat(), model=MLP(width=8, depth=1), out=str(tmp_path / "r.h5"), **RUN)
    loaded = pde.load(tmp_path / "r.h5")
    assert type(run) is type(loaded) and run.kind == loaded.kind == "pinn"
    assert run.coordinates == loaded.coordinates == ["x", "t"] and run.fields == loaded.fields == ["u"]
    assert loaded.config["problem"]["domain"] == {"type": "SpaceTime", "names": ["x", "t"], "lower": [0.0, 0.0],
                                                  "upper": [1.0, 1.0]}
    pts = torch.rand(5, 2)
    torch.testing.assert_close(run.predict(pts), loaded.predict(pts))
    with pytest.raises(ValueError, match=r"\(N, 2\) with columns x, t"):
        run.predict(torch.rand(5, 3))

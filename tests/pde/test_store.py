"""The HDF5 run store: lossless pickle-free state, schema, refusals, atomic writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import torch

from pde.store import SCHEMA_VERSION, RunFileError, read_run, write_run


def _same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_nested_state_roundtrips_losslessly(h5_roundtrip):
    value = {
        0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(4, 3), "ints": torch.arange(5)},
        "0": "string key that looks like an int",
        1: [torch.randn(2, dtype=torch.float64), None, 1.5, 2, True, "x"],
        "a/b": {"c.d": (1, 2), ".": [], "": {}, "%2F": b"\x00\x01"},
        "floats": [0.1, float("nan"), float("inf")],
        "bf16": torch.randn(3).to(torch.bfloat16),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(7),
        "big": 2 ** 70, "neg": -5, "none": None, "f": 1e-300, "dt": torch.float64, "dev": torch.device("cpu"),
        "arr": np.arange(6.0).reshape(2, 3), None: 1, 2.5: "f", -7: "negative int key",
    }
    _same(value, h5_roundtrip(value))
    _same({True: 1, "true": 2}, h5_roundtrip({True: 1, "true": 2}))


@pytest.mark.parametrize("kind", ["adam", "lbfgs"])
def test_optimizer_state_roundtrip_resumes_identically(h5_roundtrip, kind):
    torch.manual_seed(0)
    x, y = torch.randn(32, 2), torch.randn(32, 1)

    def make():
        torch.manual_seed(1)
        net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
        opt = (torch.optim.Adam(net.parameters(), lr=1e-2) if kind == "adam" else
               torch.optim.LBFGS(net.parameters(), history_size=5, max_iter=3, line_search_fn="strong_wolfe"))
        return net, opt

    def step(net, opt):
        def closure():
            opt.zero_grad()
            loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            return loss
        opt.step(closure)

    net, opt = make()
    for _ in range(4):
        step(net, opt)
    saved = h5_roundtrip({"model": net.state_dict(), "opt": opt.state_dict()})
    _same(opt.state_dict(), saved["opt"])
    net2, opt2 = make()
    net2.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["opt"])
    for _ in range(3):
        step(net, opt)
        step(net2, opt2)
    for a, b in zip(net.parameters(), net2.parameters(), strict=True):
        assert torch.equal(a, b)


def fake_state(n_hist=50, n_grid=(30, 20), big=0):
    torch.manual_seed(0)
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(net.parameters())
    net(torch.randn(3, 2)).sum().backward()
    opt.step()
    axes = {"x": np.linspace(0, 1, n_grid[0]), "t": np.linspace(0, 2, n_grid[1])}
    n = n_grid[0] * n_grid[1]
    pred = np.random.default_rng(0).normal(size=(n, 1))
    return {
        "config": {"problem": {"name": "p", "params": {"nu": 0.01}}, "steps": 10, "seed": 1, "dtype": "float32"},
        "provenance": {"pdekit": "0.1.0", "torch": torch.__version__, "git_commit": None, "seed": 1},
        "history": {"step": np.arange(n_hist), "loss": np.linspace(1, 0.1, n_hist), "loss/pde": np.ones(n_hist),
                    "lr": np.full(n_hist, 1e-3)},
        "model": {"architecture": {"type": "Linear"}, "state": net.state_dict()},
        "optimizer": {"phase": "adam", "state": opt.state_dict()}, "scheduler": None,
        "sampler": {"describe": {"name": "uniform", "n": 8}, "state": {"points": torch.rand(max(8, big), 2)}},
        "rng": {"torch_generator": torch.Generator().manual_seed(5).get_state(), "device": "cpu"},
        "step": 10, "status": "finished", "message": "",
        "snapshots": [{"step": s, "points": torch.rand(8, 2), "residual": torch.rand(8)} for s in (0, 5, 10)],
        "solution": {"axes": axes, "points": None, "prediction": pred, "reference": pred + 0.1,
                     "error": -0.1 + 0 * pred, "fields": ["u"]},
        "metrics": {"rel_l2": 0.5, "max_abs": 0.1, "rmse": 0.1},
    }


def test_write_read_roundtrip(tmp_path):
    st = fake_state()
    path = write_run(tmp_path / "run.h5", st)
    r = read_run(path)
    assert r["schema_version"] == SCHEMA_VERSION and r["status"] == "finished" and r["step"] == 10
    assert r["config"] == st["config"] and r["provenance"] == st["provenance"]
    assert list(r["history"]) == list(st["history"])
    for k, v in st["history"].items():
        np.testing.assert_array_equal(r["history"][k], v)
    _same(dict(st["model"]["state"]), r["model"]["state"])
    _same(st["optimizer"]["state"], r["optimizer"]["state"])
    _same(st["sampler"]["state"], r["sampler"]["state"])
    assert torch.equal(r["rng"]["torch_generator"], st["rng"]["torch_generator"])
    assert [s["step"] for s in r["snapshots"]] == [0, 5, 10]
    sol = r["solution"]
    assert sol["shape"] == (30, 20) and sol["points"].shape == (600, 2)
    np.testing.assert_array_equal(sol["prediction"], st["solution"]["prediction"])
    assert r["metrics"] == st["metrics"]
    # readable with h5py alone, gridded with coordinates named after the domain
    with h5py.File(path) as f:
        assert f["solution/prediction"].shape == (30, 20, 1)
        assert f["solution/x"].shape == (30,) and f["history/loss%2Fpde"].attrs["key"] == "loss/pde"


def test_large_arrays_are_chunked_and_compressed(tmp_path):
    path = write_run(tmp_path / "run.h5", fake_state(n_grid=(200, 100), big=20000))
    with h5py.File(path) as f:
        for name in ("solution/prediction", "sampler/state/points"):
            assert f[name].compression == "gzip" and f[name].chunks is not None, name


def test_solution_opens_in_xarray(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    path = write_run(tmp_path / "run.h5", fake_state())
    ds = xr.open_dataset(path, engine="h5netcdf", group="solution")
    try:
        assert ds["prediction"].dims == ("x", "t", "field")
        assert ds["x"].shape == (30,) and float(ds["t"][-1]) == 2.0
        assert list(ds["field"].values) == ["u"]
        np.testing.assert_allclose(ds["prediction"].sel(field="u").values.reshape(-1),
                                   fake_state()["solution"]["prediction"][:, 0])
    finally:
        ds.close()


def test_refuses_non_runs_truncated_and_newer(tmp_path):
    with pytest.raises(RunFileError, match="does not exist"):
        read_run(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(RunFileError, match="not an HDF5 file"):
        read_run(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(RunFileError, match="not a pdekit run"):
        read_run(tmp_path / "other.h5")
    path = write_run(tmp_path / "run.h5", fake_state(n_grid=(200, 100)))
    data = path.read_bytes()
    for frac in (0.5, 0.9):
        cut = tmp_path / f"cut{frac}.h5"
        cut.write_bytes(data[: int(len(data) * frac)])
        with pytest.raises(RunFileError, match="truncated|damaged|not an HDF5"):
            read_run(cut)
    with h5py.File(path, "a") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(RunFileError, match="newer"):
        read_run(path)
    assert issubclass(RunFileError, ValueError)


def test_failed_write_keeps_previous_file(tmp_path):
    path = write_run(tmp_path / "run.h5", fake_state())
    bad = fake_state()
    bad["optimizer"]["state"]["param_groups"][0]["weird"] = object()
    with pytest.raises(TypeError, match="cannot store"):
        write_run(path, bad)
    assert read_run(path)["status"] == "finished"
    assert sorted(os.listdir(tmp_path)) == ["run.h5"]  # no temporary file left behind


WRITER = """
import sys, torch
from test_store import fake_state  # importable: subprocess_env() puts tests/pde on PYTHONPATH
from pde.store import write_run
st = fake_state(n_grid=(300, 200), big=100000)
i = 0
print("ready", flush=True)
while True:
    st["step"] = i
    write_run(sys.argv[1], st)
    i += 1
"""


def test_sigkill_mid_write_leaves_previous_file_readable(tmp_path):
    """A writer rewriting a multi-MB run is killed at random moments; the file always reads back."""
    from test_store_helpers import subprocess_env

    path = tmp_path / "run.h5"
    write_run(path, fake_state())
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = np.random.default_rng(0)
    mid_write = 0
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                                env=subprocess_env())
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.05, 0.6)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        mid_write += any(name.endswith(".tmp") for name in os.listdir(tmp_path))
        r = read_run(path)
        assert r["status"] == "finished" and r["solution"]["prediction"].shape[0] in (600, 60000)
    assert mid_write  # at least one kill interrupted a write (its temporary file was left)
    # a later write cleans up temporary files of killed writers
    write_run(path, fake_state())
    assert sorted(os.listdir(tmp_path)) == ["run.h5", "writer.py"]

"""`pde show | validate | plot | export | resume` on a real run file, through pde.cli.main."""

from __future__ import annotations

import builtins
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from pde.cli import main
from pde.store import read_run


def _load_by_path(name: str, path: Path):
    """The module at ``path`` (shared through ``sys.modules`` under ``name``), without touching ``sys.path``."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


_helpers = _load_by_path("test_store_helpers", Path(__file__).resolve().parents[1] / "pde" / "test_store_helpers.py")
cached_run, short_run = _helpers.cached_run, _helpers.short_run


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    return cached_run(tmp_path_factory)


def test_show(run_file, capsys):
    assert main(["show", str(run_file)]) == 0
    out = capsys.readouterr().out
    for word in ("tiny_heat", "kappa=0.1", "finished", "MLP", "rel_l2=", "device   cpu", "time "):
        assert word in out, word
    assert main(["show", str(run_file), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["problem"] == "tiny_heat" and s["metrics"]["rel_l2"] > 0 and s["step"] == 64


def test_validate_json_and_text(run_file, tmp_path, capsys):
    assert main(["validate", str(run_file), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["rel_l2"] == pytest.approx(read_run(run_file, weights=False)["metrics"]["rel_l2"], rel=1e-5)
    x, t = np.linspace(0, 1, 12), np.linspace(0, 1, 7)
    u = np.exp(-0.1 * np.pi ** 2 * t[None, :]) * np.sin(np.pi * x[:, None])
    np.savez(tmp_path / "r.npz", gx=x, gt=t, val=u)
    assert main(["validate", str(run_file), "--reference", str(tmp_path / "r.npz"), "--arrays", "x=gx,t=gt",
                 "--u", "val"]) == 0
    out = capsys.readouterr().out
    assert "rel_l2" in out and "max_abs" in out and "84 points" in out


def test_user_errors_exit_2_with_one_line(run_file, tmp_path, capsys):
    (tmp_path / "junk.h5").write_text("not a run")
    for argv in (["show", str(tmp_path / "junk.h5")], ["validate", str(run_file), "--arrays", "x"],
                 ["validate", str(run_file), "--reference", str(tmp_path / "nope.npz")],
                 ["resume", str(tmp_path / "junk.h5")], ["export", str(tmp_path / "junk.h5"), "--out", "a.vtu"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("pde: error:") and err.count("\n") == 1, err


def test_plot(run_file, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run.png"
    assert main(["plot", str(run_file), "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG" and out.stat().st_size > 10_000


def test_plot_without_matplotlib(run_file, tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_mpl(name, *a, **kw):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    assert main(["plot", str(run_file), "--out", str(tmp_path / "x.png")]) == 2
    assert "pip install 'pdekit[plot]'" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".vtu", ".xdmf"])
def test_export_grid(run_file, tmp_path, suffix):
    meshio = pytest.importorskip("meshio")
    out = tmp_path / f"run{suffix}"
    assert main(["export", str(run_file), "--out", str(out)]) == 0
    m = meshio.read(out)
    sol = read_run(run_file, weights=False)["solution"]
    assert m.points.shape == (21 * 21, 3) and m.cells[0].type == "quad" and len(m.cells[0].data) == 20 * 20
    np.testing.assert_allclose(m.point_data["u"], sol["prediction"][:, 0])
    np.testing.assert_allclose(m.point_data["u_error"], sol["error"][:, 0])


def test_export_on_mesh(run_file, tmp_path):
    import meshio

    xs = np.linspace(0, 1, 6)
    X, T = np.meshgrid(xs, xs, indexing="ij")
    pts = np.stack([X.ravel(), T.ravel()], 1)
    idx = np.arange(36).reshape(6, 6)
    tri = np.concatenate([np.stack([idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel()], 1),
                          np.stack([idx[:-1, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()], 1)])
    meshio.write(tmp_path / "m.vtu", meshio.Mesh(pts, [("triangle", tri)]))
    assert main(["export", str(run_file), "--mesh", str(tmp_path / "m.vtu"), "--out", str(tmp_path / "o.vtu")]) == 0
    m = meshio.read(tmp_path / "o.vtu")
    assert m.cells[0].type == "triangle" and set(m.point_data) == {"u", "u_reference", "u_error"}
    meshio.write(tmp_path / "big.vtu", meshio.Mesh(pts * 2, [("triangle", tri)]))
    assert main(["export", str(run_file), "--mesh", str(tmp_path / "big.vtu"), "--out", str(tmp_path / "p.vtu")]) == 2


def test_resume_finished_run_with_more_steps(tmp_path, capsys):
    path = tmp_path / "r.h5"
    short_run(path, steps=20, lbfgs_steps=0)
    assert read_run(path, weights=False)["step"] == 20
    assert main(["resume", str(path), "--steps", "30", "--quiet"]) == 0
    r = read_run(path, weights=False)
    assert r["status"] == "finished" and r["step"] == 30 and r["history"]["step"][-1] >= 25

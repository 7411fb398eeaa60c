"""pde.validate: the problem's own reference and external .mat / .npz / .h5 reference files."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
import scipy.io
from test_store_helpers import cached_run

from pde.store import load
from pde.validate import read_reference, validate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return load(cached_run(tmp_path_factory))


def exact(x, t, kappa=0.1):
    return np.exp(-kappa * math.pi ** 2 * t) * np.sin(math.pi * x)


def grid(nx=33, nt=17, x1=1.0):
    x, t = np.linspace(0, x1, nx), np.linspace(0, 1, nt)
    return x, t, exact(x[:, None], t[None, :])  # (nx, nt)


def expected(run, x, t, u):
    X, T = np.meshgrid(x, t, indexing="ij")
    pred = run.predict_numpy(np.stack([X.ravel(), T.ravel()], 1))[:, 0]
    ref = u.ravel()
    return np.linalg.norm(pred - ref) / np.linalg.norm(ref), np.abs(pred - ref).max()


def check(res, want):
    assert res["rel_l2"] == pytest.approx(want[0], rel=1e-9)
    assert res["max_abs"] == pytest.approx(want[1], rel=1e-9)


def test_own_reference_matches_stored_metrics(run):
    res = validate(run)
    assert res["n_points"] == 21 * 21 and res["grid"] == {"x": 21, "t": 21}
    assert res["rel_l2"] == pytest.approx(run.metrics["rel_l2"], rel=1e-5)
    assert res["max_abs"] == pytest.approx(run.metrics["max_abs"], rel=1e-5)


def test_raissi_burgers_layout(run, tmp_path):
    x, t, u = grid()
    scipy.io.savemat(tmp_path / "burgers_shock.mat", {"x": x[:, None], "t": t[:, None], "usol": u})
    res = validate(run, tmp_path / "burgers_shock.mat")
    assert res["grid"] == {"x": 33, "t": 17}
    check(res, expected(run, x, t, u))


def test_allen_cahn_layout(run, tmp_path):
    x, t, u = grid(40, 25)
    scipy.io.savemat(tmp_path / "AC.mat", {"x": x[None, :], "tt": t[None, :], "uu": u})
    check(validate(run, tmp_path / "AC.mat"), expected(run, x, t, u))


def test_matlab_v73_file(run, tmp_path):
    x, t, u = grid(30, 12)
    path = tmp_path / "ref73.mat"
    with h5py.File(path, "w", userblock_size=512) as f:  # MATLAB stores column-major: arrays appear transposed
        f["x"], f["tt"], f["uu"] = x[:, None], t[:, None], u.T  # MATLAB sizes 1 x nx, 1 x nt, nx x nt
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    with open(path, "r+b") as fh:
        fh.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    with pytest.raises(NotImplementedError):  # what scipy says about v7.3 files; validate falls back to h5py
        scipy.io.loadmat(path)
    check(validate(run, path), expected(run, x, t, u))


def test_npz_transposed_values_are_reordered(run, tmp_path):
    x, t, u = grid(31, 11)
    np.savez(tmp_path / "ref.npz", x=x, t=t, u=u.T)  # values stored (t, x)
    check(validate(run, tmp_path / "ref.npz"), expected(run, x, t, u))


def test_equal_lengths_use_dims(run, tmp_path):
    x, t, u = grid(20, 20)
    np.savez(tmp_path / "sq.npz", x=x, t=t, u=u.T)
    wrong = validate(run, tmp_path / "sq.npz")
    right = validate(run, tmp_path / "sq.npz", dims=["t", "x"])
    check(right, expected(run, x, t, u))
    assert wrong["rel_l2"] != pytest.approx(right["rel_l2"])


def test_scattered_and_meshgrid_layouts(run, tmp_path):
    x, t, u = grid(15, 9)
    X, T = np.meshgrid(x, t, indexing="ij")
    np.savez(tmp_path / "scat.npz", X_star=np.stack([X.ravel(), T.ravel()], 1), u_star=u.reshape(-1, 1))
    check(validate(run, tmp_path / "scat.npz"), expected(run, x, t, u))
    np.savez(tmp_path / "mesh.npz", X=X, T=T, Exact=u)
    check(validate(run, tmp_path / "mesh.npz"), expected(run, x, t, u))


def test_named_arrays_in_h5(run, tmp_path):
    x, t, u = grid(25, 13)
    with h5py.File(tmp_path / "ref.h5", "w") as f:
        f["grid/xs_"], f["grid/times_"], f["fields/phi"] = x, t, u
    with pytest.raises(ValueError, match="--u NAME"):
        validate(run, tmp_path / "ref.h5")
    with pytest.raises(ValueError, match="--x NAME"):
        validate(run, tmp_path / "ref.h5", names={"u": "phi"})
    res = validate(run, tmp_path / "ref.h5", names={"x": "xs_", "t": "times_", "u": "fields/phi"})
    check(res, expected(run, x, t, u))


def test_mismatches_are_clear_errors(run, tmp_path):
    x, t, u = grid(x1=2.0)
    np.savez(tmp_path / "wide.npz", x=x, t=t, u=u)
    with pytest.raises(ValueError, match="coordinate x spans .* refusing to extrapolate"):
        validate(run, tmp_path / "wide.npz")
    x, t, u = grid()
    np.savez(tmp_path / "bad.npz", x=x, t=t, u=u[:-1])
    with pytest.raises(ValueError, match="axes of lengths"):
        validate(run, tmp_path / "bad.npz")
    np.savez(tmp_path / "cplx.npz", x=x, t=t, u=u + 1j * u)
    with pytest.raises(ValueError, match="2 component.*--field"):
        validate(run, tmp_path / "cplx.npz")
    (tmp_path / "ref.csv").write_text("x,t,u\n")
    with pytest.raises(ValueError, match="unsupported reference file type"):
        validate(run, tmp_path / "ref.csv")
    with pytest.raises(ValueError, match="unknown names"):
        read_reference(tmp_path / "bad.npz", ["x", "t"], names={"q": "x"})


def test_nan_points_are_skipped(run, tmp_path):
    x, t, u = grid(21, 11)
    masked = u.copy()
    masked[15:, 5:] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, t=t, u=masked)
    res = validate(run, tmp_path / "nan.npz")
    keep = np.isfinite(masked)
    X, T = np.meshgrid(x, t, indexing="ij")
    pred = run.predict_numpy(np.stack([X[keep], T[keep]], 1))[:, 0]
    assert res["dropped_nonfinite"] == int((~keep).sum()) and res["n_points"] == int(keep.sum())
    assert res["rel_l2"] == pytest.approx(np.linalg.norm(pred - u[keep]) / np.linalg.norm(u[keep]), rel=1e-9)


def test_without_problem_uses_the_stored_reference(run, monkeypatch):
    import pde.store._load as L

    monkeypatch.setattr(L, "rebuild_problem", lambda config: None)
    bare = load(run.path)
    assert bare.problem is None and bare.coordinates == ["x", "t"]
    res = validate(bare)
    assert res["n_points"] == 21 * 21 and res["rel_l2"] == pytest.approx(run.metrics["rel_l2"], rel=1e-5)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A run file written at a checkpoint (status running) of a problem without any reference."""
    import contextlib
    import shutil

    from test_store_helpers import SHORT, NoRefHeat

    import pde.store

    tmp = tmp_path_factory.mktemp("ckpt")
    copies = {}
    real = pde.store.write_run

    def spy(path, state, **kw):
        out = real(path, state, **kw)
        if state["status"] == "running" and state["step"] >= 10 and not copies:
            copies["path"] = shutil.copy(path, tmp / "ckpt.h5")
        return out

    pde.store.write_run = spy
    try:  # a problem without a reference may fail at its final evaluation; the checkpoint is what counts
        with contextlib.suppress(NotImplementedError):
            from pde.models import MLP
            from pde.solve import solve

            solve(NoRefHeat(), model=MLP(width=16, depth=2), out=str(tmp / "noref.h5"), **{**SHORT, "steps": 20})
    finally:
        pde.store.write_run = real
    return copies["path"]


@pytest.mark.parametrize("rebuildable", [True, False])
def test_checkpoint_of_a_problem_without_reference_validates_against_a_file(checkpoint, tmp_path, monkeypatch,
                                                                            rebuildable):
    """`pde validate --reference FILE` works on a checkpoint of an unfinished run whose problem has no reference,
    also when the problem cannot be rebuilt (a user's file.py:Class): the run file records its domain."""
    import pde.store._load as L

    if not rebuildable:
        monkeypatch.setattr(L, "rebuild_problem", lambda config: None)
    run = load(checkpoint)
    assert run.status == "running" and run.solution is None and (run.problem is None) == (not rebuildable)
    assert run.coordinates == ["x", "t"]
    with pytest.raises(ValueError, match="--reference"):
        validate(run)
    x, t, u = grid(26, 14)
    np.savez(tmp_path / "mine.npz", x=x, t=t, u=u)
    check(validate(run, tmp_path / "mine.npz"), expected(run, x, t, u))
    scipy.io.savemat(tmp_path / "mine.mat", {"x": x[:, None], "tt": t[:, None], "uu": u})
    check(validate(run, tmp_path / "mine.mat"), expected(run, x, t, u))
    x2, t2, u2 = grid(x1=1.5)
    np.savez(tmp_path / "wide.npz", x=x2, t=t2, u=u2)
    with pytest.raises(ValueError, match="refusing to extrapolate"):  # the recorded domain still guards
        validate(run, tmp_path / "wide.npz")


def test_pde_validate_cli_on_a_checkpoint(checkpoint, tmp_path, capsys):
    from pde.cli import main

    x, t, u = grid(12, 7)
    np.savez(tmp_path / "mine.npz", x=x, t=t, u=u)
    assert main(["validate", str(checkpoint), "--reference", str(tmp_path / "mine.npz"), "--json"]) == 0
    res = __import__("json").loads(capsys.readouterr().out)
    check(res, expected(load(checkpoint), x, t, u))


def test_complex_field_metrics_compare_the_complex_values_and_their_moduli():
    """A complex field h = u + i v stored as two real fields: rel. L2 of h and of |h| (issue 16)."""
    from pde.metrics import check_complex_fields, field_metrics

    rng = np.random.default_rng(0)
    ref = rng.normal(size=(200, 2))
    h = ref[:, 0] + 1j * ref[:, 1]
    turned = h * np.exp(0.01j)  # a phase error only: |h| exact, h off by |e^{0.01 i} - 1|
    pred = np.stack([turned.real, turned.imag], axis=1)
    m = field_metrics(pred, ref, ("u", "v"), complex_fields={"h": ("u", "v")})
    assert m["rel_l2/h"] == pytest.approx(abs(np.exp(0.01j) - 1), rel=1e-9)
    assert m["rel_l2/|h|"] < 1e-12 and m["max_abs/|h|"] < 1e-12
    assert m["rel_l2/u"] > 1e-3  # the real parts alone disagree
    for bad, msg in [({"h": ("u",)}, "two distinct"), ({"h": ("u", "w")}, "not fields"), ({"u": ("u", "v")},
                                                                                         "name of a real field")]:
        with pytest.raises(ValueError, match=msg):
            check_complex_fields(bad, ("u", "v"))

"""Dataset generation: reproducibility from the seed, HDF5 layout, progress output."""

import h5py
import numpy as np
import pytest

from operators import generate_dataset, load_pairs


def _read(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][()] for k in f}, dict(f.attrs)


def test_darcy_reproducible_from_seed_and_chunk_independent(tmp_path):
    a = generate_dataset("darcy", 5, 9, tmp_path / "a.h5", seed=3, quiet=True, stride=2, chunk=2)
    b = generate_dataset("darcy", 5, 9, tmp_path / "b.h5", seed=3, quiet=True, stride=2, chunk=5)
    c = generate_dataset("darcy", 5, 9, tmp_path / "c.h5", seed=4, quiet=True, stride=2)
    da, db, dc = _read(a)[0], _read(b)[0], _read(c)[0]
    np.testing.assert_array_equal(da["nu"], db["nu"])
    np.testing.assert_array_equal(da["tensor"], db["tensor"])
    assert not np.array_equal(da["nu"], dc["nu"])


def test_darcy_layout(tmp_path):
    path = generate_dataset("darcy", 4, 11, tmp_path / "d.h5", seed=0, quiet=True, stride=2)
    data, attrs = _read(path)
    assert data["nu"].shape == (4, 11, 11) and data["tensor"].shape == (4, 1, 11, 11)
    assert data["nu"].dtype == np.float32
    assert set(np.unique(data["nu"])) <= {3.0, 12.0}
    np.testing.assert_allclose(data["x-coordinate"], np.linspace(0, 1, 11), atol=1e-7)
    assert np.all(data["tensor"][:, :, 0, :] == 0) and np.all(data["tensor"][:, :, :, -1] == 0)
    assert data["tensor"].max() > 0
    assert attrs["pde"] == "darcy" and attrs["seed"] == 0 and attrs["stride"] == 2
    assert attrs["input"] == "nu" and attrs["output"] == "tensor" and attrs["solver_seconds_per_sample"] > 0
    x, y, _ = load_pairs(path)
    assert x.shape == (4, 1, 11, 11) and y.shape == (4, 1, 11, 11)


def test_burgers_and_navier_stokes_layout(tmp_path):
    p = generate_dataset("burgers", 3, 32, tmp_path / "b.h5", quiet=True, stride=2, n_times=4)
    data, attrs = _read(p)
    assert data["tensor"].shape == (3, 5, 32) and data["t-coordinate"].shape == (5,)
    np.testing.assert_allclose(data["x-coordinate"], np.arange(32) / 32, atol=1e-7)
    x, y, _ = load_pairs(p)
    assert x.shape == (3, 1, 32) and y.shape == (3, 4, 32)
    p = generate_dataset("navier_stokes", 2, 16, tmp_path / "ns.h5", quiet=True, final_time=11, dt=1e-2)
    data, attrs = _read(p)
    assert data["tensor"].shape == (2, 12, 16, 16) and attrs["nu"] == pytest.approx(1e-3)
    x, y, _ = load_pairs(p)
    assert x.shape == (2, 10, 16, 16) and y.shape == (2, 2, 16, 16)


def test_progress_on_stderr_and_quiet(tmp_path, capsys):
    generate_dataset("darcy", 2, 5, tmp_path / "p.h5", quiet=False, stride=2)
    assert "dataset darcy: 2/2" in capsys.readouterr().err
    generate_dataset("darcy", 2, 5, tmp_path / "q.h5", quiet=True, stride=2)
    assert capsys.readouterr().err == ""


def test_bad_arguments_name_the_value(tmp_path):
    with pytest.raises(ValueError, match="'heat'"):
        generate_dataset("heat", 2, 8, tmp_path / "x.h5")
    with pytest.raises(ValueError, match="bogus"):
        generate_dataset("darcy", 2, 8, tmp_path / "x.h5", bogus=1)


def test_workers_write_the_same_file_as_the_serial_run(tmp_path):
    """``pde dataset ... --workers 2`` (blocks of 3 and 2 samples, one per spawned process) equals the serial file
    (one block of 5): a sample does not depend on the block it is solved in."""
    from pde.cli import main

    serial = generate_dataset("darcy", 5, 9, tmp_path / "serial.h5", seed=2, quiet=True)
    assert main(["dataset", "darcy", "--samples", "5", "--resolution", "9", "--seed", "2", "--workers", "2",
                 "--out", str(tmp_path / "par.h5"), "--quiet"]) == 0
    (ds, attrs_s), (dp, attrs_p) = _read(serial), _read(tmp_path / "par.h5")
    assert set(ds) == set(dp)
    for key in ds:
        np.testing.assert_array_equal(ds[key], dp[key], err_msg=key)
    attrs_s.pop("solver_seconds_per_sample"), attrs_p.pop("solver_seconds_per_sample")
    assert attrs_s.keys() == attrs_p.keys() and all(np.array_equal(attrs_s[k], attrs_p[k]) for k in attrs_s)

"""Shared test setup: fixed seeds, one thread per test process, CUDA parametrisation, a host-read trap."""

import contextlib

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # small PINN models run fastest single-threaded

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """Each device-parametrised test runs on the CPU, and on CUDA when there is a GPU."""
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    return torch.device(request.param)


@pytest.fixture
def h5_roundtrip(tmp_path):
    """``roundtrip(value)``: ``value`` written with ``pde.store.write_value`` to an HDF5 file and read back."""
    import h5py

    from pde.store import read_value, write_value

    def roundtrip(value):
        with h5py.File(tmp_path / "roundtrip.h5", "w") as f:
            write_value(f, "v", value)
        with h5py.File(tmp_path / "roundtrip.h5", "r") as f:
            return read_value(f["v"])

    return roundtrip


HOST_READS = ("item", "__bool__", "__float__", "__int__", "__index__", "tolist", "cpu", "numpy")


@contextlib.contextmanager
def _no_host_reads():
    """Make every tensor-to-host conversion raise (restored afterwards)."""
    saved = {name: getattr(torch.Tensor, name) for name in HOST_READS}

    def forbid(name):
        def raiser(self, *a, **k):
            raise AssertionError(f"host synchronisation: Tensor.{name}")
        return raiser

    try:
        for name in HOST_READS:
            setattr(torch.Tensor, name, forbid(name))
        yield
    finally:
        for name, fn in saved.items():
            setattr(torch.Tensor, name, fn)


@pytest.fixture
def no_host_reads():
    """Context manager factory: inside ``with no_host_reads():`` any tensor-to-host read raises AssertionError."""
    return _no_host_reads

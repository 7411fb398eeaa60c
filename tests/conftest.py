"""Shared test setup: fixed seeds, one thread per test process, CUDA parametrisation."""


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

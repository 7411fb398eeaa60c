"""Shared test setup: fixed seeds, one thread per test process, CUDA parametrisation, a host-read trap and a
hot-loop trap (host reads, host-to-device copies, boolean-mask indexing)."""

import contextlib
import os
import sys

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


# -- the hot-loop trap ------------------------------------------------------------------------------------------
#: Python-data-to-tensor constructors: on a GPU each is a host-to-device copy when it targets the device; a CPU
#: test counts every call (the CPU has no second device to copy to, so creation from host data stands for it)
H2D_CONSTRUCTORS = ("tensor", "as_tensor", "asarray", "from_numpy")
#: functions whose output size depends on the data (the host must read a count back before allocating)
MASK_FUNCTIONS = ("masked_select", "nonzero", "argwhere")
_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
#: callers inside torch whose reads/creations are of host-side state by design: Adam and the LR schedulers keep the
#: step count as a CPU scalar (reading it never waits on the device)
_EXEMPT_DIRS = (os.path.join(_TORCH_DIR, "optim") + os.sep,)


def _is_bool_index(index) -> bool:
    if isinstance(index, tuple):
        return any(_is_bool_index(i) for i in index)
    return isinstance(index, torch.Tensor) and index.dtype == torch.bool


class HotLoopTrap:
    """Counts what must not happen in a training step: host reads, host-to-device copies, boolean-mask indexing.

    While installed (``with trap:``) and ``armed``, each event is recorded in ``events`` as ``(kind, what,
    where)`` with ``kind`` in ``"host_read"`` (``Tensor.item``, ``bool``, ``float``, ``int``, ``tolist``, ``cpu``,
    ``numpy``, ...), ``"h2d"`` (``torch.tensor`` / ``as_tensor`` / ``asarray`` / ``from_numpy``; ``Tensor.to`` /
    ``copy_`` / ``cuda`` from the CPU to another device) and ``"mask"`` (indexing or assignment with a boolean
    tensor, ``masked_select``, ``nonzero``, ``argwhere``, one-argument ``torch.where``). ``where`` is the first
    caller outside torch and this file (``file:line``). Calls made from ``torch/optim`` are exempt (host-side
    step counters). With ``raise_on`` (a set of kinds) such events raise ``AssertionError`` at once instead.
    Not re-entrant: the patched functions do not count the calls they make themselves.
    """

    def __init__(self, raise_on=()):
        self.raise_on = set(raise_on)
        self.events: list[tuple[str, str, str]] = []
        self.armed = False
        self._saved: list[tuple[object, str, object]] = []
        self._busy = False

    # -- recording ------------------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {"host_read": 0, "h2d": 0, "mask": 0}
        for kind, _, _ in self.events:
            out[kind] += 1
        return out

    def _where(self) -> str | None:
        """``file:line`` of the first caller outside torch and this file; None for an exempt caller."""
        f = sys._getframe(3)
        first = True
        while f is not None:
            fn = f.f_code.co_filename
            if first and fn.startswith(_EXEMPT_DIRS):
                return None
            first = False
            if not fn.startswith(_TORCH_DIR) and fn != __file__:
                return f"{os.path.relpath(fn)}:{f.f_lineno}"
            f = f.f_back
        return "?"

    def _record(self, kind: str, what: str) -> None:
        if not self.armed or self._busy:
            return
        where = self._where()
        if where is None:
            return
        self.events.append((kind, what, where))
        if kind in self.raise_on:
            raise AssertionError(f"{'host synchronisation' if kind == 'host_read' else kind}: {what} at {where}")

    def report(self) -> str:
        lines = {}
        for e in self.events:
            lines[e] = lines.get(e, 0) + 1
        return "; ".join(f"{k}: {w} at {loc} (x{n})" for (k, w, loc), n in lines.items())

    # -- patching -------------------------------------------------------------------------------------------------
    def _patch(self, owner, name, make):
        orig = getattr(owner, name)
        self._saved.append((owner, name, orig))
        setattr(owner, name, make(orig))

    def _wrap(self, orig, kind, what, test=None):
        trap = self

        def wrapper(*a, **k):
            if not trap._busy and trap.armed and (test is None or test(*a, **k)):
                trap._record(kind, what)
            trap._busy, busy = True, trap._busy
            try:
                return orig(*a, **k)
            finally:
                trap._busy = busy
        return wrapper

    def __enter__(self):
        T = torch.Tensor
        for name in HOST_READS:
            self._patch(T, name, lambda o, n=name: self._wrap(o, "host_read", f"Tensor.{n}"))
        for name in H2D_CONSTRUCTORS:
            self._patch(torch, name, lambda o, n=name: self._wrap(o, "h2d", f"torch.{n}"))

        def cross(src, *a, **k):  # Tensor.to(...)/cuda(...) from the CPU to another device
            dev = k.get("device")
            for x in a:
                if isinstance(x, (str, torch.device)):
                    dev = x
                elif isinstance(x, torch.Tensor):
                    dev = x.device
            return src.device.type == "cpu" and dev is not None and torch.device(dev).type != "cpu"

        self._patch(T, "to", lambda o: self._wrap(o, "h2d", "Tensor.to", cross))
        self._patch(T, "cuda", lambda o: self._wrap(o, "h2d", "Tensor.cuda", lambda s, *a, **k: s.device.type ==
                                                    "cpu"))
        self._patch(T, "copy_", lambda o: self._wrap(o, "h2d", "Tensor.copy_", lambda dst, src, *a, **k:
                                                     src.device.type == "cpu" and dst.device.type != "cpu"))
        self._patch(T, "__getitem__", lambda o: self._wrap(o, "mask", "boolean-mask indexing",
                                                           lambda s, i: _is_bool_index(i)))
        self._patch(T, "__setitem__", lambda o: self._wrap(o, "mask", "boolean-mask assignment",
                                                           lambda s, i, v: _is_bool_index(i)))
        for name in MASK_FUNCTIONS:
            self._patch(torch, name, lambda o, n=name: self._wrap(o, "mask", f"torch.{n}"))
            self._patch(T, name, lambda o, n=name: self._wrap(o, "mask", f"Tensor.{n}"))
        self._patch(torch, "where", lambda o: self._wrap(o, "mask", "torch.where(condition)",
                                                         lambda *a, **k: len(a) + len(k) == 1))
        return self

    def __exit__(self, *exc):
        self.armed = False
        for owner, name, orig in reversed(self._saved):
            setattr(owner, name, orig)
        self._saved.clear()
        return False


@pytest.fixture
def hot_loop_trap():
    """Factory: ``with hot_loop_trap() as trap:`` installs a :class:`HotLoopTrap` (arm it with ``trap.armed``)."""
    return HotLoopTrap

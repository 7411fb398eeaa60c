"""Up-front checks of ``pde`` command-line arguments, run by :func:`pde.cli.main` before any command.

Every path (input exists, is a readable file of the right format; output directory exists and
is writable, the name has a known extension, an existing file is not silently replaced), every
device string, every integer with a range, for every command. A failed check raises
:class:`UsageError` with a message that names the option, the bad value and what is allowed;
``pde`` prints it in one line and exits with code 2, before anything is trained or written.

``CHECKS[command]`` lists ``(dest, flag, check)``: ``check(flag, value)`` runs when
``args.<dest>`` is set. ``EXTRA[command](args)`` runs afterwards for checks that need
several arguments (default output names, JSON options, ...).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["CHECKS", "UsageError", "check_args", "device", "hdf5_file", "input_file", "nonneg_int", "output_file",
           "positive_int", "run_file", "seed"]


class UsageError(ValueError):
    """A bad command-line value: printed in one line, exit code 2."""


# ---------------------------------------------------------------------------------------------- scalars

def nonneg_int(flag: str, value: int) -> None:
    if value < 0:
        raise UsageError(f"{flag} must be an integer >= 0, got {value}")


def positive_int(flag: str, value: int) -> None:
    if value < 1:
        raise UsageError(f"{flag} must be an integer >= 1, got {value}")


def at_least(low: int):
    def check(flag: str, value: int) -> None:
        if value < low:
            raise UsageError(f"{flag} must be an integer >= {low}, got {value}")
    return check


def seed(flag: str, value: int) -> None:
    if not 0 <= value < 2 ** 64:  # torch.manual_seed takes [0, 2**64)
        raise UsageError(f"{flag} must be an integer in [0, 2**64), got {value}")


def device(flag: str, value: str) -> None:
    """A device string the package accepts here: ``cpu``, ``cuda`` or ``cuda:N`` (an existing GPU)."""
    from ..solve import resolve_device

    try:
        resolve_device(value)
    except ValueError as e:
        raise UsageError(f"{flag}: {e}") from None


# ---------------------------------------------------------------------------------------------- paths

def _q(path) -> str:
    return repr(str(path))


def input_file(flag: str, path) -> Path:
    """An existing, readable regular file."""
    if str(path) == "":
        raise UsageError(f"{flag} '': empty file name")
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{flag} {_q(path)}: file does not exist")
    if p.is_dir():
        raise UsageError(f"{flag} {_q(path)} is a directory; give a file")
    if not os.access(p, os.R_OK):
        raise UsageError(f"{flag} {_q(path)} is not readable (permission denied)")
    return p


def hdf5_file(flag: str, path) -> Path:
    import h5py

    p = input_file(flag, path)
    if not h5py.is_hdf5(p):
        raise UsageError(f"{flag} {_q(path)} is not an HDF5 file")
    return p


def _writable_dir(flag: str, path, directory: Path, create: bool = False) -> None:
    d = directory
    if create:  # the command creates missing folders: the nearest existing one must be writable
        while not d.exists() and d != d.parent:
            d = d.parent
    if not d.exists():
        raise UsageError(f"{flag} {_q(path)}: directory {_q(d)} does not exist")
    if not d.is_dir():
        raise UsageError(f"{flag} {_q(path)}: {_q(d)} is not a directory")
    if not os.access(d, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {_q(path)}: directory {_q(d)} is not writable (permission denied)")


def _pdekit_kind(path: Path) -> str | None:
    """``"run"``, ``"dataset"`` or None for an HDF5 file pdekit did not write (or not HDF5)."""
    import h5py

    if not h5py.is_hdf5(path):
        return None
    try:
        with h5py.File(path, "r") as f:
            a = f.attrs
            fmt = a.get("format")
            fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
            if fmt == "pdekit-run" or "pdekit_run" in a:
                return "run"
            if "pdekit_layout" in a or ("pde" in a and "tensor" in f):
                return "dataset"
    except OSError:
        return None
    return None


def output_file(flag: str, path, *, suffixes=None, what: str = "", create_dirs: bool = False,
                replace: str | None = None) -> Path:
    """A file the command may write: its directory exists (or is creatable) and is writable.

    suffixes: allowed endings (``what`` names the format in the message); replace: an existing
    file is refused unless pdekit wrote it as this kind (``"run"``, ``"dataset"``), so a typo
    cannot destroy a user's data.
    """
    if str(path) == "":
        raise UsageError(f"{flag} '': empty file name")
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag} {_q(path)} is a directory; give a file name")
    _writable_dir(flag, path, p.parent, create=create_dirs)
    if p.exists() and not os.access(p, os.W_OK):
        raise UsageError(f"{flag} {_q(path)} exists and is not writable (permission denied)")
    if suffixes is not None:
        name = p.name.lower()
        if not any(name.endswith(s) for s in suffixes):
            suffix = "".join(p.suffixes[-1:]).lower()
            raise UsageError(f"{flag} {_q(path)}: unknown {what} format {suffix!r}; allowed: "
                             f"{', '.join(sorted(suffixes))}")
    if replace is not None and p.exists() and _pdekit_kind(p) != replace:
        raise UsageError(f"{flag} {_q(path)} exists and is not a pdekit {replace} file; refusing to overwrite it")
    return p


def run_file(flag: str, path, *, writable: bool = False) -> Path:
    """A complete pdekit run file (PINN or operator) of a supported schema."""
    from ..store import RunFileError, open_run

    p = hdf5_file(flag, path)
    if _pdekit_kind(p) != "run":
        try:  # the store's own message says what is wrong (not pdekit, newer schema, truncated)
            open_run(p).close()
        except RunFileError as e:
            raise UsageError(f"{flag}: {e}") from None
        raise UsageError(f"{flag} {_q(path)} is an HDF5 file but not a pdekit run")
    if writable:
        if not os.access(p, os.W_OK):
            raise UsageError(f"{flag} {_q(path)} is not writable (permission denied); it is updated in place")
        _writable_dir(flag, path, p.parent)
    return p


def _pinn_run_complete(flag: str, path) -> None:
    """A PINN run must also open through the store (schema version, truncation)."""
    import h5py

    from ..store import RunFileError, open_run

    with h5py.File(path, "r") as f:
        if "pdekit_run" in f.attrs:  # operator run: its own reader checks it
            return
    try:
        open_run(path).close()
    except RunFileError as e:
        raise UsageError(f"{flag}: {e}") from None


def pinn_or_operator_run(flag: str, path, writable: bool = False) -> None:
    run_file(flag, path, writable=writable)
    _pinn_run_complete(flag, path)


def dataset_file(flag: str, path) -> None:
    p = hdf5_file(flag, path)
    if _pdekit_kind(p) != "dataset":
        raise UsageError(f"{flag} {_q(path)} is an HDF5 file but not a pdekit operator dataset (one made by "
                         "`pde dataset`: root attribute 'pde' and a 'tensor' array)")


REFERENCE_SUFFIXES = (".mat", ".npz", ".h5", ".hdf5", ".he5", ".nc")


def reference_file(flag: str, path) -> None:
    """A reference data file of a format ``pde validate`` reads, checked by its content."""
    import zipfile

    import h5py

    p = input_file(flag, path)
    suffix = p.suffix.lower()
    if suffix not in REFERENCE_SUFFIXES:
        raise UsageError(f"{flag} {_q(path)}: unsupported reference file type {suffix!r}; allowed: "
                         f"{', '.join(REFERENCE_SUFFIXES)}")
    if suffix == ".npz" and not zipfile.is_zipfile(p):
        raise UsageError(f"{flag} {_q(path)} is not a .npz file (numpy.savez writes a zip archive)")
    if suffix == ".mat":
        with open(p, "rb") as f:
            head = f.read(6)
        if head != b"MATLAB" and not h5py.is_hdf5(p):
            raise UsageError(f"{flag} {_q(path)} is not a MATLAB file (no 'MATLAB' header, not v7.3 HDF5)")
    if suffix in (".h5", ".hdf5", ".he5") and not h5py.is_hdf5(p):
        raise UsageError(f"{flag} {_q(path)} is not an HDF5 file")


def mesh_file(flag: str, path) -> None:
    input_file(flag, path)


def _mesh_suffixes():
    try:
        import meshio
    except ImportError:
        return None
    return tuple(meshio.extension_to_filetypes)


def _image_suffixes():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        return None
    return tuple("." + s for s in FigureCanvasAgg.get_supported_filetypes())


# ---------------------------------------------------------------------------------------------- commands

def _solve(args) -> None:
    if args.out is None:  # default runs/PROBLEM-TIME.h5: runs/ is created when missing
        output_file("--out", Path("runs") / "x.h5", create_dirs=True)
    else:
        output_file("--out", args.out, replace="run")


def _plot(args) -> None:
    if args.out is None:
        output_file("--out (default: next to the run)", Path(args.run).with_suffix(".png"))
    else:
        output_file("--out", args.out, suffixes=_image_suffixes(), what="image")


def _export(args) -> None:
    output_file("--out", args.out, suffixes=_mesh_suffixes(), what="mesh")


def _validate(args) -> None:
    if getattr(args, "dims", None):
        names = [d.strip() for d in args.dims.split(",")]
        if not all(names):
            raise UsageError(f"--dims {args.dims!r}: empty axis name; give coordinate names separated by commas, "
                             "e.g. t,x")


def _json_dict(flag: str, text: str | None) -> dict | None:
    """The JSON object ``text`` of option ``flag`` (None if not given), or a ``UsageError``."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{flag} {text!r} is not valid JSON ({e.msg}); give an object such as "
                         '\'{"lr": 1e-3}\'') from None
    if not isinstance(value, dict):
        raise UsageError(f"{flag} {text!r}: expected a JSON object of NAME: VALUE, got a {type(value).__name__}")
    return value


def _dataset(args) -> None:
    if args.out is None:  # default NAME_RES_SAMPLES.h5 in the working directory
        output_file("--out (default: the working directory)", Path(f"{args.name}.h5"))
    else:
        output_file("--out", args.out, replace="dataset")


CHECKS = {
    "solve": [("steps", "--steps", nonneg_int), ("lbfgs_steps", "--lbfgs-steps", nonneg_int),
              ("directions", "--directions", positive_int), ("seed", "--seed", seed), ("device", "--device", device)],
    "show": [("run", "run", pinn_or_operator_run)],
    "validate": [("run", "run", pinn_or_operator_run), ("reference", "--reference", reference_file),
                 ("device", "--device", device)],
    "export": [("run", "run", pinn_or_operator_run), ("mesh", "--mesh", mesh_file), ("device", "--device", device)],
    "plot": [("run", "run", pinn_or_operator_run)],
    "resume": [("run", "run", lambda flag, v: pinn_or_operator_run(flag, v, writable=True)),
               ("steps", "--steps", nonneg_int), ("device", "--device", device)],
    "train": [("dataset", "dataset", dataset_file), ("epochs", "--epochs", positive_int),
              ("device", "--device", device), ("seed", "--seed", seed)],
    "dataset": [("samples", "--samples", positive_int), ("resolution", "--resolution", at_least(4)),
                ("seed", "--seed", seed), ("workers", "--workers", positive_int)],
}
EXTRA = {"solve": _solve, "plot": _plot, "export": _export, "validate": _validate, "dataset": _dataset}


def check_args(args) -> None:
    """Run the checks of ``args.command``; raises :class:`UsageError` at the first bad argument."""
    command = getattr(args, "command", None)
    for dest, flag, check in CHECKS.get(command, ()):
        value = getattr(args, dest, None)
        if value is not None:
            check(flag, value)
    if command in EXTRA:
        EXTRA[command](args)
    own = getattr(args, "check", None)  # a command registered from outside pde (operators' ``train``) checks itself
    if own is not None:
        own(args)

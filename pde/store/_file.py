"""Writing and reading pdekit run files (HDF5). The layout is documented in ``docs/run-schema.md``."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from ..run import find_in_architecture
from ._serialize import dataset_kwargs, escape, read_value, unescape, write_value

__all__ = ["RunFileError", "write_run", "read_run", "open_run", "run_kind", "SCHEMA_VERSION", "FORMAT", "KINDS"]

#: value of the root attribute ``format`` of every run file
FORMAT = "pdekit-run"
#: schema written by this version; files with a larger ``schema_version`` are refused.
#: 2: root attribute ``kind`` (``pinn`` | ``operator``) and the ``/predictions`` group; version 1 files are PINN runs.
SCHEMA_VERSION = 2
STATUSES = ("running", "finished", "diverged", "interrupted")
#: what a run file can hold (root attribute ``kind``)
KINDS = ("pinn", "operator")
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class RunFileError(ValueError):
    """A file is not a readable pdekit run (not HDF5, truncated, not pdekit, or a newer schema)."""


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_default, sort_keys=False)


def _json_default(v):
    if isinstance(v, torch.Tensor):
        return v.tolist()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (torch.dtype, torch.device, Path)):
        return str(v)
    if isinstance(v, (set, frozenset)):
        return sorted(v)
    raise TypeError(f"value {v!r} of type {type(v).__name__} is not JSON-serialisable")


def _attr(v):
    """An attribute value h5py and netCDF readers both take: numbers, bools, strings; else JSON."""
    if isinstance(v, (bool, np.bool_)):
        return np.bool_(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        return str(v)  # plain str: h5py rejects subclasses such as torch's TorchVersion
    return _json(v)


def _json_group(parent: h5py.Group, name: str, data: dict) -> None:
    """Group whose attribute ``json`` holds ``data``; top-level keys also as readable attributes."""
    g = parent.create_group(name, track_order=True)
    g.attrs["json"] = _json(data)
    for k, v in data.items():
        if k != "json":
            g.attrs[str(k)] = "null" if v is None else _attr(v)


def _np(v) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        v = v.detach()
        if v.dtype == torch.bfloat16:
            v = v.float()
        return v.cpu().numpy()
    return np.asarray(v)


def _array(group: h5py.Group, name: str, arr) -> h5py.Dataset:
    arr = _np(arr)
    return group.create_dataset(name, data=arr, **dataset_kwargs(arr))


def _points_array(group: h5py.Group, points) -> h5py.Dataset:
    """Evaluation points ``(N, d)``; a :class:`~pde.evaluation.SampledPoints` is written one block at a time
    (its recipe in the attributes), so the file holds them all but memory never does."""
    from ..evaluation import SampledPoints, rows_per_chunk

    if not isinstance(points, SampledPoints):
        return _array(group, "points", points)
    n, d = points.shape
    rows = rows_per_chunk(d)
    ds = group.create_dataset("points", shape=(n, d), dtype=np.float64, chunks=(min(n, rows), d))
    for i in range(0, n, rows):
        ds[i:i + rows] = points[i:i + rows].numpy()
    ds.attrs["sampled"] = _json(points.describe())
    return ds


def _write_history(f: h5py.File, history: dict) -> None:
    g = f.create_group("history", track_order=True)
    n = None
    for key, values in (history or {}).items():
        arr = _np(values).reshape(-1)
        if n is not None and arr.shape[0] != n:
            raise ValueError(f"history arrays must have equal lengths; {key!r} has {arr.shape[0]}, expected {n}")
        n = arr.shape[0]
        ds = _array(g, escape(key), arr)
        ds.attrs["key"] = key
    g.attrs["length"] = 0 if n is None else n


def _write_solution(f: h5py.File, sol: dict, fields: list[str]) -> None:
    """netCDF-4 compatible group: coordinates as 1-D dimension scales, fields on the grid."""
    g = f.create_group("solution")
    axes = sol.get("axes")
    pred = _np(sol["prediction"])
    m = pred.shape[-1] if pred.ndim >= 2 else 1
    if len(fields) != m:
        fields = [f"u{i}" for i in range(m)] if m > 1 else ["u"]
    g.attrs["fields"] = _json(fields)
    g.attrs["source"] = str(sol.get("source") or "")
    fdim = g.create_dataset("field", data=np.array(fields, dtype=object), dtype=h5py.string_dtype())
    fdim.make_scale("field")
    if axes:
        names = list(axes)
        shape = tuple(len(_np(a)) for a in axes.values())
        g.attrs["gridded"] = np.bool_(True)
        g.attrs["coordinates"] = _json(names)
        scales = []
        for nm, a in axes.items():
            ds = _array(g, nm, _np(a).reshape(-1).astype(np.float64))
            ds.make_scale(nm)
            scales.append(ds)
        dims = scales
        lead = shape
    else:
        n, d = sol["points"].shape
        names = list(sol.get("coordinates") or [f"x{i}" for i in range(d)])
        g.attrs["gridded"] = np.bool_(False)
        g.attrs["coordinates"] = _json(names)
        idx = g.create_dataset("point", data=np.arange(n, dtype=np.int64))
        idx.make_scale("point")
        cdim = g.create_dataset("coordinate", data=np.array(names, dtype=object), dtype=h5py.string_dtype())
        cdim.make_scale("coordinate")
        ds = _points_array(g, sol["points"])
        ds.dims[0].attach_scale(idx)
        ds.dims[1].attach_scale(cdim)
        dims = [idx]
        lead = (n,)
    for key in ("prediction", "reference", "error"):
        if sol.get(key) is None:
            continue
        arr = _np(sol[key]).reshape(*lead, m)
        ds = _array(g, key, arr)
        for i, sc in enumerate(dims):
            ds.dims[i].attach_scale(sc)
        ds.dims[len(lead)].attach_scale(fdim)
    if sol.get("mask") is not None:
        ds = _array(g, "mask", _np(sol["mask"]).reshape(lead).astype(np.int8))
        for i, sc in enumerate(dims):
            ds.dims[i].attach_scale(sc)


def _find_names(arch) -> list[str] | None:
    """Coordinate names recorded in a (possibly nested) model architecture."""
    names = find_in_architecture(arch, "names")
    return [str(n) for n in names] if names else None


def _config_names(config: dict) -> list[str] | None:
    """Coordinate names of the domain recorded in the config (``config["problem"]["domain"]["names"]``)."""
    prob = config.get("problem")
    dom = prob.get("domain") if isinstance(prob, dict) else config.get("domain")
    return [str(n) for n in dom["names"]] if isinstance(dom, dict) and isinstance(dom.get("names"), list) else None


def _write(f: h5py.File, state: dict) -> None:
    f.attrs["format"] = FORMAT
    f.attrs["schema_version"] = SCHEMA_VERSION
    from .. import __version__

    f.attrs["pdekit_version"] = __version__
    kind = state.get("kind", "pinn")
    if kind not in KINDS:
        raise ValueError(f"run kind must be one of {', '.join(KINDS)}, got {kind!r}")
    f.attrs["kind"] = kind
    status = state.get("status", "running")
    if status not in STATUSES:
        raise ValueError(f"run status must be one of {', '.join(STATUSES)}, got {status!r}")
    f.attrs["status"] = status
    f.attrs["step"] = int(state.get("step", 0))
    f.attrs["message"] = str(state.get("message", ""))
    if state.get("warnings") is not None:  # the training loop's warnings (e.g. loss imbalance), a JSON list
        f.attrs["warnings"] = _json([str(w) for w in state["warnings"]])
    if state.get("wall_time") is not None:
        f.attrs["wall_time"] = float(state["wall_time"])
    config = state.get("config") or {}
    _json_group(f, "config", config)
    _json_group(f, "provenance", state.get("provenance") or {})
    _write_history(f, state.get("history") or {})
    if state.get("model") is not None:
        g = f.create_group("model")
        g.attrs["architecture"] = _json(state["model"].get("architecture") or {})
        write_value(g, "state", dict(state["model"]["state"]))
    if state.get("optimizer") is not None:
        g = f.create_group("optimizer")
        g.attrs["phase"] = str(state["optimizer"].get("phase", ""))
        write_value(g, "state", state["optimizer"]["state"])
        write_value(g, "scheduler", state.get("scheduler"))
    if state.get("sampler") is not None:
        g = f.create_group("sampler")
        g.attrs["describe"] = _json(state["sampler"].get("describe") or {})
        write_value(g, "state", dict(state["sampler"].get("state") or {}))
    if state.get("rng") is not None:
        g = f.create_group("rng")
        g.attrs["device"] = str(state["rng"].get("device", "cpu"))
        gen = state["rng"].get("torch_generator")
        if gen is not None:
            g.create_dataset("torch_generator", data=_np(gen).astype(np.uint8))
    snaps = f.create_group("snapshots", track_order=True)
    steps = []
    for s in state.get("snapshots") or []:
        step = int(s["step"])
        sg = snaps.create_group(f"step_{step:09d}")
        sg.attrs["step"] = step
        _array(sg, "points", s["points"])
        _array(sg, "residual", _np(s["residual"]).reshape(-1))
        steps.append(step)
    snaps.attrs["steps"] = np.asarray(steps, dtype=np.int64)
    if state.get("solution") is not None:
        fields = list((config.get("problem") or {}).get("fields") or []) if isinstance(config.get("problem"), dict) \
            else []
        sol = dict(state["solution"])
        if not sol.get("axes") and not sol.get("coordinates"):
            arch = (state.get("model") or {}).get("architecture") or {}
            names = _config_names(config) or _find_names(arch)
            if names and len(names) == sol["points"].shape[1]:
                sol["coordinates"] = names
        _write_solution(f, sol, list(sol.get("fields") or fields))
    if state.get("predictions") is not None:
        g = f.create_group("predictions", track_order=True)
        for k, v in state["predictions"].items():
            _array(g, escape(str(k)), v).attrs["key"] = str(k)
    if state.get("unknowns"):  # a problem's unknown parameters: raw tensors, values, declarations
        write_value(f, "unknowns", dict(state["unknowns"]))
    if state.get("metrics") is not None:
        g = f.create_group("metrics", track_order=True)
        for k, v in state["metrics"].items():
            g.attrs[str(k)] = _attr(v)
    f.attrs["complete"] = np.bool_(True)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _clean_stale(path: Path) -> None:
    """Remove temporary files left by writers that were killed (their process is gone)."""
    for tmp in glob.glob(str(path.parent / f".{glob.escape(path.name)}.*.tmp")):
        try:
            pid = int(Path(tmp).name[len(path.name) + 2:].split(".", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                os.remove(tmp)
            except OSError:
                pass
        except (ValueError, PermissionError, OSError):
            continue


def write_run(path: str | os.PathLike, state: dict, *, fsync: bool = True) -> Path:
    """Write the run ``state`` (see ``docs/run-schema.md``) to ``path`` atomically.

    The file is written to a temporary file in the same directory, flushed and fsynced,
    then renamed over ``path`` with :func:`os.replace`: readers see either the previous
    file or the new one, never a partial file, even if the process is killed.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    _clean_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:  # mkstemp creates 0600; give the run file the usual permissions (0666 minus the umask)
        os.chmod(tmp, 0o666 & ~_UMASK)
    except OSError:  # pragma: no cover
        pass
    try:
        with h5py.File(tmp, "w", libver=("earliest", "latest"), track_order=True) as f:
            _write(f, state)
        if fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
        if fsync:
            _fsync_dir(directory)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return path


# ----------------------------------------------------------------------------------------------- reading
def open_run(path: str | os.PathLike) -> h5py.File:
    """Open ``path`` read-only after checking it is a complete pdekit run of a supported schema."""
    path = Path(path)
    if not path.exists():
        raise RunFileError(f"run file {str(path)!r} does not exist")
    if not h5py.is_hdf5(path):
        raise RunFileError(f"{str(path)!r} is not an HDF5 file, so not a pdekit run")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise RunFileError(f"{str(path)!r} cannot be opened; it is truncated or damaged ({e})") from None
    try:
        fmt = f.attrs.get("format")
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        if fmt is None and _s(f.attrs.get("pdekit_run")) == "operator":
            raise RunFileError(f"{str(path)!r} is an operator run in the layout before run schema 2; convert it "
                               "with `python -m operators.runfile upgrade FILE`")
        if fmt != FORMAT:
            raise RunFileError(f"{str(path)!r} is an HDF5 file but not a pdekit run (root attribute "
                               f"format={fmt!r}, expected {FORMAT!r})")
        version = int(f.attrs.get("schema_version", -1))
        if version > SCHEMA_VERSION:
            from .. import __version__
            raise RunFileError(f"{str(path)!r} uses run schema version {version}, newer than the version "
                               f"{SCHEMA_VERSION} this pdekit {__version__} reads; upgrade pdekit")
        if version < 1:
            raise RunFileError(f"{str(path)!r} has an invalid schema_version {version}")
        if not bool(f.attrs.get("complete", False)):
            raise RunFileError(f"{str(path)!r} is incomplete (its writer did not finish)")
        kind = _s(f.attrs.get("kind", "pinn"))
        if kind not in KINDS:
            raise RunFileError(f"{str(path)!r} holds a run of kind {kind!r}; this pdekit reads {', '.join(KINDS)}")
    except RunFileError:
        f.close()
        raise
    except Exception as e:  # damaged metadata
        f.close()
        raise RunFileError(f"{str(path)!r} is truncated or damaged ({e})") from None
    return f


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def run_kind(path: str | os.PathLike) -> str:
    """The ``kind`` of the run file at ``path`` (``pinn`` or ``operator``); refuses non-runs like :func:`open_run`."""
    with open_run(path) as f:
        return _s(f.attrs.get("kind", "pinn"))


def _read_json_group(g: h5py.Group) -> dict:
    return json.loads(_s(g.attrs["json"]))


def _read_solution(g: h5py.Group) -> dict:
    fields = json.loads(_s(g.attrs["fields"]))
    names = json.loads(_s(g.attrs["coordinates"]))
    out: dict[str, Any] = {"fields": fields, "coordinates": names, "source": _s(g.attrs.get("source", ""))}
    m = len(fields)
    if bool(g.attrs["gridded"]):
        axes = {nm: np.array(g[nm][()]) for nm in names}
        mesh = np.meshgrid(*axes.values(), indexing="ij")
        out["axes"] = axes
        out["shape"] = tuple(len(a) for a in axes.values())
        out["points"] = np.stack([x.reshape(-1) for x in mesh], axis=1)
    else:
        out["axes"] = None
        out["shape"] = None
        out["points"] = np.array(g["points"][()])
    n = out["points"].shape[0]
    for key in ("prediction", "reference", "error"):
        out[key] = np.array(g[key][()]).reshape(n, m) if key in g else None
    out["mask"] = np.array(g["mask"][()]).reshape(-1).astype(bool) if "mask" in g else None
    return out


def read_run(path: str | os.PathLike, *, map_location=None, weights: bool = True) -> dict:
    """Read a run file back into the structure :func:`write_run` takes.

    Tensors come back as torch tensors (on ``map_location``, default CPU); history, snapshots'
    companions and the solution as numpy arrays; the solution's ``prediction``, ``reference``
    and ``error`` as ``(N, m)`` with ``points`` ``(N, d)`` and, if gridded, ``axes`` and ``shape``.
    ``weights=False`` skips model, optimizer, sampler and RNG state. Raises :class:`RunFileError`
    for files that are not complete pdekit runs of a supported schema.
    """
    with open_run(path) as f:
        try:
            return _read(f, map_location, weights)
        except RunFileError:
            raise
        except (KeyError, OSError, ValueError, json.JSONDecodeError) as e:
            raise RunFileError(f"{str(path)!r} is damaged or does not follow the run schema ({e})") from None


def _read(f: h5py.File, map_location, weights: bool) -> dict:
    out: dict[str, Any] = {
        "schema_version": int(f.attrs["schema_version"]), "kind": _s(f.attrs.get("kind", "pinn")),
        "pdekit_version": _s(f.attrs.get("pdekit_version", "")),
        "status": _s(f.attrs["status"]), "step": int(f.attrs["step"]), "message": _s(f.attrs.get("message", "")),
        "warnings": [str(w) for w in json.loads(_s(f.attrs["warnings"]))] if "warnings" in f.attrs else [],
        "wall_time": float(f.attrs["wall_time"]) if "wall_time" in f.attrs else None,
        "config": _read_json_group(f["config"]), "provenance": _read_json_group(f["provenance"]),
    }
    out["history"] = {_s(ds.attrs.get("key", unescape(nm))): np.array(ds[()]) for nm, ds in f["history"].items()}
    out["model"] = out["optimizer"] = out["sampler"] = out["rng"] = out["scheduler"] = None
    if "model" in f:
        g = f["model"]
        out["model"] = {"architecture": json.loads(_s(g.attrs["architecture"])),
                        "state": read_value(g["state"], map_location=map_location) if weights else None}
    if weights and "optimizer" in f:
        g = f["optimizer"]
        out["optimizer"] = {"phase": _s(g.attrs["phase"]), "state": read_value(g["state"], map_location=map_location)}
        out["scheduler"] = read_value(g["scheduler"], map_location=map_location) if "scheduler" in g else None
    if "sampler" in f:
        g = f["sampler"]
        out["sampler"] = {"describe": json.loads(_s(g.attrs["describe"])),
                          "state": read_value(g["state"], map_location=map_location) if weights else None}
    if weights and "rng" in f:
        g = f["rng"]
        gen = torch.from_numpy(np.array(g["torch_generator"][()])) if "torch_generator" in g else None
        out["rng"] = {"device": _s(g.attrs["device"]), "torch_generator": gen}
    out["snapshots"] = [{"step": int(sg.attrs["step"]), "points": torch.from_numpy(np.array(sg["points"][()])),
                         "residual": torch.from_numpy(np.array(sg["residual"][()]))}
                        for sg in f["snapshots"].values()] if "snapshots" in f else []
    out["solution"] = _read_solution(f["solution"]) if "solution" in f else None
    out["predictions"] = ({_s(ds.attrs.get("key", unescape(nm))): np.array(ds[()])
                           for nm, ds in f["predictions"].items()} if "predictions" in f else None)
    out["unknowns"] = read_value(f["unknowns"], map_location=map_location) if "unknowns" in f else None
    out["metrics"] = ({k: (v.item() if hasattr(v, "item") else _s(v)) for k, v in f["metrics"].attrs.items()}
                      if "metrics" in f else None)
    return out

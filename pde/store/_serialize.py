"""Lossless, pickle-free conversion of nested state (torch ``state_dict`` s) to HDF5 and back.

Supported values: ``dict`` (any str/int/float/bool/None keys), ``list``, ``tuple``,
``torch.Tensor``, ``numpy.ndarray``, ``int``, ``float``, ``bool``, ``str``, ``bytes``,
``None``, ``torch.dtype`` and ``torch.device``. Every HDF5 object written here carries a
``pdekit_type`` attribute naming the Python type it came from, so a reader without pdekit
can still make sense of it:

========  =======================================================================
dict      group; members are the values. A member's name is its key (``/`` and ``%``
          percent-escaped); a non-string key (``0``) is named ``str(key)`` and stored as
          JSON in the member's ``pdekit_key`` attribute (so ``0`` and ``"0"`` stay distinct).
list      group with members ``"0"``, ``"1"``, ...; a list of plain ints or floats is
          one 1-D dataset (``intlist`` / ``floatlist``).
tuple     like list, ``pdekit_type = "tuple"``.
tensor    dataset; ``torch_dtype`` attribute (bfloat16 stored as float32).
ndarray   dataset.
int ...   scalar dataset (``int``, ``float``, ``bool``, ``str``); ``None``: empty dataset.
========  =======================================================================

Datasets of at least :data:`COMPRESS_BYTES` bytes are chunked and gzip-compressed.
"""

from __future__ import annotations

import json
from typing import Any

import h5py
import numpy as np
import torch

__all__ = ["write_value", "read_value", "dataset_kwargs", "escape", "unescape", "COMPRESS_BYTES"]

#: arrays at least this large are chunked and compressed (gzip level 4 with shuffle)
COMPRESS_BYTES = 64 * 1024
TYPE = "pdekit_type"
KEY = "pdekit_key"

_TORCH_DTYPES = {str(d): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)}


def escape(key: str) -> str:
    """HDF5 member name for a string key (``%`` and ``/`` escaped; ``.`` alone escaped)."""
    name = key.replace("%", "%25").replace("/", "%2F")
    return "%2E" if name == "." else ("%00" if name == "" else name)


def unescape(name: str) -> str:
    if name == "%00":
        return ""
    return name.replace("%2F", "/").replace("%2E", ".").replace("%25", "%")


def dataset_kwargs(arr: np.ndarray) -> dict:
    """Chunking and compression options for ``arr``."""
    if arr.ndim >= 1 and arr.nbytes >= COMPRESS_BYTES and arr.dtype.kind in "biufc":
        return {"chunks": True, "compression": "gzip", "compression_opts": 4, "shuffle": True}
    return {}


def _dataset(group: h5py.Group, name: str, arr: np.ndarray, kind: str) -> h5py.Dataset:
    ds = group.create_dataset(name, data=arr, **dataset_kwargs(arr))
    ds.attrs[TYPE] = kind
    return ds


def _tensor_to_numpy(t: torch.Tensor) -> tuple[np.ndarray, str]:
    t = t.detach()
    dtype = str(t.dtype)
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.cpu().numpy(), dtype


def write_value(group: h5py.Group, name: str, value: Any) -> None:
    """Write ``value`` as member ``name`` of ``group``."""
    if isinstance(value, torch.Tensor):
        arr, dtype = _tensor_to_numpy(value)
        _dataset(group, name, arr, "tensor").attrs["torch_dtype"] = dtype
    elif isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise TypeError(f"cannot store numpy array {name!r} of dtype {value.dtype} (numbers and bools only)")
        _dataset(group, name, value, "ndarray")
    elif isinstance(value, dict):
        sub = group.create_group(name, track_order=True)
        sub.attrs[TYPE] = "dict"
        taken = {escape(k) for k in value if isinstance(k, str)}
        for k, v in value.items():
            if isinstance(k, str):
                write_value(sub, escape(k), v)
            elif k is None or isinstance(k, (bool, int, float)):
                member = escape(str(k)) if escape(str(k)) not in taken else f"%k{len(sub)}"
                taken.add(member)
                write_value(sub, member, v)
                sub[member].attrs[KEY] = json.dumps(k)
            else:
                raise TypeError(f"cannot store dict key {k!r} of type {type(k).__name__} in {group.name}/{name}")
    elif isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        if value and all(type(v) is int for v in value) and all(-2**63 <= v < 2**63 for v in value):
            _dataset(group, name, np.asarray(value, dtype=np.int64), "int" + kind)
        elif value and all(type(v) is float for v in value):
            _dataset(group, name, np.asarray(value, dtype=np.float64), "float" + kind)
        else:
            sub = group.create_group(name, track_order=True)
            sub.attrs[TYPE] = kind
            for i, v in enumerate(value):
                write_value(sub, str(i), v)
    elif value is None:
        ds = group.create_dataset(name, data=h5py.Empty("f"))
        ds.attrs[TYPE] = "none"
    elif isinstance(value, (bool, np.bool_)):
        group.create_dataset(name, data=np.bool_(value)).attrs[TYPE] = "bool"
    elif isinstance(value, (int, np.integer)):
        if -2**63 <= int(value) < 2**63:
            group.create_dataset(name, data=np.int64(value)).attrs[TYPE] = "int"
        else:
            group.create_dataset(name, data=str(int(value))).attrs[TYPE] = "bigint"
    elif isinstance(value, (float, np.floating)):
        group.create_dataset(name, data=np.float64(value)).attrs[TYPE] = "float"
    elif isinstance(value, str):
        group.create_dataset(name, data=value, dtype=h5py.string_dtype()).attrs[TYPE] = "str"
    elif isinstance(value, (bytes, bytearray)):
        group.create_dataset(name, data=np.frombuffer(bytes(value), dtype=np.uint8)).attrs[TYPE] = "bytes"
    elif isinstance(value, torch.dtype):
        group.create_dataset(name, data=str(value), dtype=h5py.string_dtype()).attrs[TYPE] = "torch.dtype"
    elif isinstance(value, torch.device):
        group.create_dataset(name, data=str(value), dtype=h5py.string_dtype()).attrs[TYPE] = "torch.device"
    else:
        raise TypeError(f"cannot store value of type {type(value).__name__} at {group.name}/{name}; "
                        "allowed: dict, list, tuple, tensor, ndarray, int, float, bool, str, bytes, None")


def _str(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def read_value(obj: h5py.Group | h5py.Dataset, *, map_location=None) -> Any:
    """Inverse of :func:`write_value` for one group or dataset."""
    kind = _str(obj.attrs.get(TYPE, "ndarray" if isinstance(obj, h5py.Dataset) else "dict"))
    if isinstance(obj, h5py.Group):
        if kind == "dict":
            out = {}
            for name, member in obj.items():
                key = json.loads(_str(member.attrs[KEY])) if KEY in member.attrs else unescape(name)
                out[key] = read_value(member, map_location=map_location)
            return out
        if kind in ("list", "tuple"):
            items = [read_value(obj[str(i)], map_location=map_location) for i in range(len(obj))]
            return tuple(items) if kind == "tuple" else items
        raise ValueError(f"unknown group type {kind!r} at {obj.name}")
    if kind == "none":
        return None
    data = obj[()]
    if kind == "tensor":
        dtype = _TORCH_DTYPES.get(_str(obj.attrs.get("torch_dtype", "")))
        t = torch.from_numpy(np.array(data))
        if dtype is not None and t.dtype != dtype:
            t = t.to(dtype)
        return t.to(map_location) if map_location is not None else t
    if kind == "ndarray":
        return np.array(data)
    if kind in ("intlist", "floatlist"):
        return [int(v) for v in data] if kind == "intlist" else [float(v) for v in data]
    if kind in ("inttuple", "floattuple"):
        return tuple(int(v) for v in data) if kind == "inttuple" else tuple(float(v) for v in data)
    if kind == "bool":
        return bool(data)
    if kind == "int":
        return int(data)
    if kind == "bigint":
        return int(_str(data))
    if kind == "float":
        return float(data)
    if kind == "str":
        return _str(data)
    if kind == "bytes":
        return bytes(np.asarray(data, dtype=np.uint8))
    if kind == "torch.dtype":
        return _TORCH_DTYPES[_str(data)]
    if kind == "torch.device":
        return torch.device(_str(data))
    raise ValueError(f"unknown dataset type {kind!r} at {obj.name}")

"""Validate a stored run against its problem's reference or against external gridded data.

External reference files (``.mat``, v7.3 ``.mat``, ``.npz``, ``.h5``/``.hdf5``) are read
with :func:`read_reference`. Common layouts of published PINN data are recognised:

* Raissi et al.: ``x`` ``(nx, 1)``, ``t`` ``(nt, 1)``, ``usol`` ``(nx, nt)`` (burgers_shock.mat);
* ``x``, ``tt``, ``uu`` (AC.mat, KdV.mat; complex ``uu`` as in NLS.mat gives two fields);
* generic names per coordinate (``x``/``xx``/``X``, ``t``/``tt``/``ts``/``time``, ...) with a
  value array (``u``, ``usol``, ``uu``, ``u_exact``, ``exact``, ``sol``, ``solution``, ``U``, ...)
  whose axes are the coordinate vectors in any order, or coordinate arrays of the same
  shape as the values (meshgrid layout), or scattered points ``X_star``/``points`` ``(N, d)``.

Arrays can be named explicitly: ``names={"x": "xgrid", "t": "tgrid", "u": "U"}``.
The model is evaluated only inside the run's domain: reference coordinates outside it
are an error, never silently extrapolated.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .metrics import field_metrics, per_field
from .problem import Reference
from .run import Run
from .store import RunFileError, load

__all__ = ["read_reference", "validate", "coordinate_bounds", "COORD_ALIASES", "VALUE_NAMES"]

COORD_ALIASES = {
    "x": ("x", "xx", "X", "x_grid", "xgrid", "x_star", "xs"),
    "y": ("y", "yy", "Y", "y_grid", "ygrid", "y_star", "ys"),
    "z": ("z", "zz", "Z", "z_grid", "zgrid", "zs"),
    "t": ("t", "tt", "T", "ts", "time", "times", "t_grid", "tgrid", "t_star"),
}
VALUE_NAMES = ("usol", "uu", "u", "u_exact", "u_ref", "uref", "exact", "Exact", "sol", "solution", "U", "u_star",
               "U_star", "data", "values")
POINT_NAMES = ("X_star", "points", "X", "coords", "xyz")


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    suffix = path.suffix.lower()
    if not path.exists():
        raise ValueError(f"reference file {str(path)!r} does not exist")
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    if suffix == ".mat":
        import scipy.io

        try:
            data = scipy.io.loadmat(path)
            return {k: np.asarray(v) for k, v in data.items() if not k.startswith("__") and isinstance(v, np.ndarray)
                    and v.dtype.kind in "biufc"}
        except NotImplementedError:  # MATLAB v7.3 files are HDF5; arrays come back transposed
            return {k: v.T for k, v in _h5_arrays(path).items()}
        except ValueError as e:
            raise ValueError(f"cannot read MATLAB file {str(path)!r}: {e}") from None
    if suffix in (".h5", ".hdf5", ".he5", ".nc"):
        return _h5_arrays(path)
    raise ValueError(f"unsupported reference file type {suffix!r} for {str(path)!r}; allowed: .mat, .npz, .h5, .hdf5")


def _h5_arrays(path: Path) -> dict[str, np.ndarray]:
    import h5py

    out: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "biufcV" and obj.shape is not None:
                    arr = np.asarray(obj[()])
                    if arr.dtype.names and set(arr.dtype.names) >= {"real", "imag"}:  # MATLAB complex
                        arr = arr["real"] + 1j * arr["imag"]
                    if arr.dtype.kind in "biufc":
                        out.setdefault(name.rsplit("/", 1)[-1], arr)
                        out[name] = arr
            f.visititems(visit)
    except OSError as e:
        raise ValueError(f"cannot read HDF5 reference file {str(path)!r}: {e}") from None
    return out


def _pick(arrays: dict, candidates, what: str, explicit: str | None):
    if explicit is not None:
        if explicit not in arrays:
            raise ValueError(f"reference has no array {explicit!r} for {what}; arrays: {', '.join(sorted(arrays))}")
        return explicit
    for c in candidates:
        if c in arrays:
            return c
    return None


def read_reference(path: str | os.PathLike, coordinates: list[str], *, names: dict[str, str] | None = None,
                   dims: list[str] | None = None) -> Reference:
    """Reference values from an external file, as a :class:`~pde.problem.Reference` over ``coordinates``.

    coordinates: the run's coordinate names in model-input order (``["x", "t"]``).
    names: explicit array names: coordinate name -> array, ``"u"`` -> value array,
    ``"points"`` -> scattered ``(N, d)`` points. dims: order of the value array's axes
    (coordinate names) when its axis lengths do not decide it (default: ``coordinates``).
    Values come back ``(N, m)``; complex values become two fields (real, imaginary).
    """
    path = Path(path)
    arrays = _load_arrays(path)
    names = dict(names or {})
    unknown = set(names) - set(coordinates) - {"u", "points"}
    if unknown:
        raise ValueError(f"unknown names {sorted(unknown)} in the array mapping; use the run's coordinates "
                         f"({', '.join(coordinates)}), 'u' or 'points'")
    vname = _pick(arrays, VALUE_NAMES, "the values (u)", names.get("u"))
    if vname is None:
        raise ValueError(f"cannot tell which array of {str(path)!r} holds the solution (arrays: "
                         f"{', '.join(f'{k}{arrays[k].shape}' for k in sorted(arrays))}); name it with --u NAME")
    values = np.asarray(arrays[vname])
    if np.iscomplexobj(values):
        values = np.stack([values.real, values.imag], axis=-1)
    values = values.astype(np.float64)
    coord_names = {}
    for c in coordinates:
        coord_names[c] = _pick(arrays, COORD_ALIASES.get(c, (c,)), f"coordinate {c!r}", names.get(c))
    pname = _pick(arrays, POINT_NAMES, "points", names.get("points")) if names.get("points") or \
        any(v is None for v in coord_names.values()) else None
    if pname is not None and (names.get("points") or np.asarray(arrays[pname]).ndim == 2
                              and np.asarray(arrays[pname]).shape[-1] == len(coordinates)):
        pts = np.asarray(arrays[pname], dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != len(coordinates):
            raise ValueError(f"reference points {pname!r} have shape {pts.shape}; expected (N, {len(coordinates)}) "
                             f"with columns {', '.join(coordinates)}")
        vals = values.reshape(pts.shape[0], -1) if values.size % pts.shape[0] == 0 else None
        if vals is None:
            raise ValueError(f"reference values {vname!r} {values.shape} do not match {pts.shape[0]} points")
        return Reference(pts, vals, None, f"{path.name}:{pname},{vname}")
    missing = [c for c, v in coord_names.items() if v is None]
    if missing:
        raise ValueError(f"cannot find the coordinate array(s) {', '.join(missing)} in {str(path)!r} (arrays: "
                         f"{', '.join(f'{k}{arrays[k].shape}' for k in sorted(arrays))}); name them with "
                         f"{' '.join(f'--{c} NAME' for c in missing)} or --arrays {missing[0]}=NAME,...")
    coords = {c: np.asarray(arrays[n], dtype=np.float64) for c, n in coord_names.items()}
    src = f"{path.name}:{','.join(coord_names.values())},{vname}"
    # meshgrid layout: every coordinate array has the value array's shape
    if all(a.ndim >= 2 and a.shape == values.shape[:a.ndim] and a.size > max(a.shape) for a in coords.values()):
        shp = next(iter(coords.values())).shape
        pts = np.stack([a.reshape(-1) for a in coords.values()], axis=1)
        return Reference(pts, values.reshape(int(np.prod(shp)), -1), None, src)
    axes = {}
    for c, a in coords.items():
        if a.ndim > 1 and sum(s > 1 for s in a.shape) > 1:
            raise ValueError(f"reference coordinate {coord_names[c]!r} has shape {a.shape}; expected a vector or a "
                             "meshgrid array shaped like the values")
        axes[c] = a.reshape(-1)
    lengths = {c: len(a) for c, a in axes.items()}
    vshape = [s for s in values.shape]
    while len(vshape) > len(axes) and vshape[0] == 1:  # leading singleton dimensions
        vshape = vshape[1:]
    values = values.reshape(vshape)
    nd = len(axes)
    if len(vshape) < nd or len(vshape) > nd + 1:
        raise ValueError(f"reference values {vname!r} have shape {tuple(values.shape)}, which does not fit the grid "
                         f"{', '.join(f'{c}: {n}' for c, n in lengths.items())}")
    order = _axis_order(vshape[:nd], lengths, dims or list(coordinates), vname)
    # bring value axes into coordinate order, the field axis last
    perm = [order.index(c) for c in coordinates] + ([nd] if len(vshape) == nd + 1 else [])
    values = np.transpose(values, perm)
    return Reference.on_grid(axes, values, src)


def _axis_order(shape, lengths: dict[str, int], prefer: list[str], vname: str) -> list[str]:
    """Coordinate name for each axis of the value array."""
    if sorted(shape) != sorted(lengths.values()):
        raise ValueError(f"reference values {vname!r} have axes of lengths {tuple(shape)}, but the coordinates have "
                         f"{', '.join(f'{c}: {n}' for c, n in lengths.items())}")
    if len(set(lengths.values())) == len(lengths):
        by_len = {n: c for c, n in lengths.items()}
        return [by_len[n] for n in shape]
    if [lengths[c] for c in prefer] != list(shape):
        raise ValueError(f"cannot match the axes {tuple(shape)} of {vname!r} to coordinates {lengths}; give the "
                         "order with --dims")
    return list(prefer)


def coordinate_bounds(run: Run) -> tuple[list[str], list[float], list[float]]:
    """Names and bounding box of the run's domain: the problem's, else the domain recorded in the run's
    config (written from the start, so also in checkpoints), else the box the model was built for."""
    box = run.bounds()
    if box is None:
        raise RunFileError(f"{run.path}: cannot tell the run's domain (problem not rebuildable, no domain in the "
                           "config, no bounds in the model)")
    return box


def _check_inside(run: Run, ref: Reference, tol: float = 1e-6) -> None:
    names, lo, hi = coordinate_bounds(run)
    for i, c in enumerate(names):
        col = ref.points[:, i]
        span = hi[i] - lo[i]
        if col.min() < lo[i] - tol * span or col.max() > hi[i] + tol * span:
            raise ValueError(f"reference coordinate {c} spans [{col.min():.6g}, {col.max():.6g}] but the run's domain "
                             f"is [{lo[i]:.6g}, {hi[i]:.6g}]; refusing to extrapolate")
    if run.problem is not None:
        import torch

        inside = run.problem.domain.inside(torch.as_tensor(ref.points))
        bad = int((~inside).sum())
        if bad:
            raise ValueError(f"{bad} of {len(ref.points)} reference points lie outside the run's domain")


def validate(run: Run | str | os.PathLike, reference: str | os.PathLike | None = None, *,
             names: dict[str, str] | None = None, dims: list[str] | None = None, field: str | None = None,
             device=None) -> dict:
    """Errors of the stored model against a reference.

    Reference points whose values are NaN (common outside non-box domains) are skipped.
    Without ``reference``: the problem's own reference (``problem.reference()``), or, when the
    problem cannot be rebuilt, the reference stored in the run file's solution group.
    field: compare only this model field with a single-component reference.
    Returns ``{"run", "reference", "n_points", "fields", "rel_l2", "max_abs", "rmse"}``.
    """
    if not isinstance(run, Run):
        run = load(run, device=device)
    dropped = 0
    if run.model is None:
        raise RunFileError(f"{run.path}: the run stores no model to validate")
    coords = run.coordinates
    if reference is not None:
        ref = read_reference(reference, coords, names=names, dims=dims)
        finite = np.isfinite(ref.values).all(axis=1)
        dropped = int((~finite).sum())
        if dropped == len(finite):
            raise ValueError(f"every value in the reference {str(reference)!r} is NaN or infinite")
        if dropped:  # gridded data often marks points outside a non-box domain with NaN
            ref = Reference(ref.points[finite], ref.values[finite], None, ref.source)
        _check_inside(run, ref)
    elif run.problem is not None:
        try:
            ref = run.problem.reference()
        except NotImplementedError as e:
            raise ValueError(f"{e}; pass --reference FILE") from None
    elif run.solution is not None and run.solution.get("reference") is not None:
        sol = run.solution
        ref = Reference(sol["points"], sol["reference"], sol["axes"], sol.get("source") or "stored")
    else:
        raise ValueError(f"{run.path}: the problem cannot be rebuilt and the file stores no reference; "
                         "pass --reference FILE")
    pred = run.predict_numpy(ref.points)
    fields = run.fields
    vals = ref.values
    if field is not None:
        if field not in fields:
            raise ValueError(f"unknown field {field!r}; the run's fields are {', '.join(fields)}")
        pred, fields = pred[:, [fields.index(field)]], [field]
    if pred.shape[1] != vals.shape[1]:
        raise ValueError(f"the reference has {vals.shape[1]} component(s) but the model has {pred.shape[1]} "
                         f"({', '.join(fields)}); choose one with --field NAME")
    out = {"run": str(run.path), "reference": ref.source if reference is None else str(reference),
           "layout": ref.source, "n_points": int(ref.points.shape[0]), "fields": fields,
           "grid": None if ref.axes is None else {k: len(v) for k, v in ref.axes.items()}}
    if dropped:
        out["dropped_nonfinite"] = dropped
    gauge = getattr(run.problem, "up_to_constant", ()) if run.problem is not None else ()
    pairs = getattr(run.problem, "complex_fields", None) if run.problem is not None else None
    pairs = {k: v for k, v in (pairs or {}).items() if all(f in fields for f in v)}  # pairs among the compared fields
    metrics = field_metrics(pred, vals, fields, gauge, pairs)
    out.update({k: v for k, v in metrics.items() if "/" not in k})
    if len(fields) > 1:
        out["per_field"] = per_field(metrics)
    return out

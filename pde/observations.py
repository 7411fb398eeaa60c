"""Observations: measured values of fields (or of a derivative of one) at given points, as a loss term.

``Observation(points, values, fields=("u",))`` is a condition (:mod:`pde.conditions`) whose points are the
given ones: its residual is ``model fields - values`` at them (``derivative=("u", "x")``: ``u_x - values``,
e.g. a measured flux), added to the loss as ``weight * mean(residual**2)``. It is also the way to impose any
condition at user-given points (a value where a sensor sits, a Dirichlet value on a few points).

Options for identifiability studies: ``subset=N`` keeps N points drawn at random with the run's generator
(the run's seed decides which), ``noise=rel`` adds Gaussian noise ``rel * std(values) * z`` per field
(Raissi et al. 2019), also drawn with the run's generator. Both are drawn once per run.

Data files (:func:`read_data`, :meth:`Observation.from_file`): ``.mat``, ``.npz``, ``.h5`` with the readers and
layout detection of ``pde validate`` (:func:`pde.validate.read_reference`: gridded ``x``, ``t``, ``usol``,
meshgrid arrays or scattered points), and ``.csv`` with a header naming the columns. Explicit array or
column names: ``names={"x": "xx", "t": "tt", "u": "usol"}``.

Bad input raises ``ValueError`` with one line naming it: NaN/Inf, shape mismatches, points outside the
domain, a column or field that does not exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .conditions import AbstractCondition

__all__ = ["Observation", "read_data", "data_misfit", "make_observations", "restore_observations"]


def _array(name: str, a) -> np.ndarray:
    arr = a.detach().cpu().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=np.float64)
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ValueError(f"observation {name} contain {bad} NaN/Inf value(s); remove or fill them")
    return arr


class Observation(AbstractCondition):
    """Observed values at given points: residual ``fields(points) - values`` (or ``d field / d coords``).

    points: ``(N, d)``, columns in the domain's coordinate order. values: ``(N, m)`` (or ``(N,)`` for one
    field), one column per name in ``fields``. derivative: ``(field, coord, ...)``: the values are that
    derivative (one column). weight: loss weight. subset: keep N of the points, drawn with the run's generator.
    noise: relative Gaussian noise level (``rel * std`` of each column). name: the loss term's name.
    """

    region = "data"

    def __init__(self, points, values, fields=("u",), *, derivative=None, weight: float = 1.0,
                 subset: int | None = None, noise: float = 0.0, name: str = "data"):
        super().__init__(name, weight=weight)
        pts = _array("points", points)
        vals = _array("values", values)
        if pts.ndim != 2:
            raise ValueError(f"observation points must have shape (N, d), got {pts.shape}")
        if vals.ndim == 1:
            vals = vals[:, None]
        if isinstance(fields, str):
            fields = tuple(f.strip() for f in fields.split(",") if f.strip())
        if derivative is not None:
            derivative = tuple(derivative)
            if len(derivative) < 2:
                raise ValueError(f"observation derivative must be (field, coordinate, ...), got {derivative!r}")
            fields = (derivative[0],)
        self.fields, self.derivative = tuple(fields), derivative
        if not self.fields:
            raise ValueError("an observation needs at least one field name")
        if vals.ndim != 2 or vals.shape[0] != pts.shape[0] or vals.shape[1] != len(self.fields):
            raise ValueError(f"observation values have shape {vals.shape} but {pts.shape[0]} points and the fields "
                             f"{list(self.fields)} need ({pts.shape[0]}, {len(self.fields)})")
        if pts.shape[0] == 0:
            raise ValueError("an observation needs at least one point")
        if subset is not None and (int(subset) != subset or not 1 <= subset <= pts.shape[0]):
            raise ValueError(f"observation subset must be an integer in [1, {pts.shape[0]}] (the number of points), "
                             f"got {subset}")
        if not (np.isfinite(noise) and noise >= 0):
            raise ValueError(f"observation noise (relative level) must be >= 0 and finite, got {noise}")
        self.points_all, self.values_all = pts, vals
        self.subset, self.noise = (None if subset is None else int(subset)), float(noise)
        self._drawn = None  # (generator, points, values) of the latest draw
        self._checked = None

    @classmethod
    def from_file(cls, path, coordinates, fields=("u",), *, names: dict | None = None, **kw) -> Observation:
        """Observations read from ``path`` (``.mat``, ``.npz``, ``.h5``, ``.csv``; see :func:`read_data`)."""
        if isinstance(fields, str):
            fields = tuple(f.strip() for f in fields.split(",") if f.strip())
        derivative = kw.get("derivative")
        read_fields = fields if derivative is None else (kw.get("column") or "_".join(derivative),)
        kw.pop("column", None)
        pts, vals = read_data(path, coordinates, read_fields, names=names)
        return cls(pts, vals, fields, **kw)

    def _check_domain(self, domain) -> None:
        key = repr(domain.describe())
        if self._checked == key:
            return
        pts = self.points_all
        if pts.shape[1] != domain.dim:
            raise ValueError(f"observation {self.name!r} points have {pts.shape[1]} columns but the domain has "
                             f"{domain.dim} coordinates ({', '.join(domain.names)})")
        lo, hi = (np.asarray(b, dtype=np.float64) for b in domain.bounds)
        tol = 1e-6 * np.maximum(hi - lo, 1e-12)  # round-off (float32 data) on the faces is not "outside"
        p = np.clip(pts, lo - tol, hi + tol)
        p = np.where(np.abs(p - lo) <= tol, lo, np.where(np.abs(p - hi) <= tol, hi, p))  # round-off on the faces
        inside = domain.inside(torch.from_numpy(p)).numpy() & (np.abs(p - pts) <= tol).all(1)
        bad = int((~inside).sum())
        if bad:
            i = int(np.flatnonzero(~inside)[0])
            raise ValueError(f"{bad} of {len(pts)} observation points of {self.name!r} lie outside the domain "
                             f"(first: {pts[i].tolist()}, coordinates {', '.join(domain.names)})")
        self.points_all = p
        self._checked = key

    def sample(self, domain, n, *, generator=None, device=None, dtype=torch.float32, **kw):
        """The observation points ``(N, d)`` (or the subset), drawn once per generator; ``n`` is ignored."""
        self._check_domain(domain)
        dev = torch.device(device or (generator.device if generator is not None else "cpu"))
        if self._drawn is not None and self._drawn[0] is generator and self._drawn[3] == (dev, dtype):
            return self._drawn[1], None
        pts = torch.as_tensor(self.points_all, device=dev, dtype=dtype)
        vals = torch.as_tensor(self.values_all, device=dev, dtype=dtype)
        if self.subset is not None and self.subset < pts.shape[0]:
            idx = torch.randperm(pts.shape[0], generator=generator, device=dev)[:self.subset]
            pts, vals = pts[idx], vals[idx]
        if self.noise > 0:
            scale = torch.as_tensor(self.values_all.std(axis=0), device=dev, dtype=dtype)
            z = torch.randn(vals.shape, generator=generator, device=dev, dtype=dtype)
            vals = vals + self.noise * scale * z
        self._drawn = (generator, pts, vals, (dev, dtype))
        return pts, None

    @property
    def points(self) -> torch.Tensor:
        """The latest drawn points ``(n, d)`` (subset applied)."""
        if self._drawn is None:
            raise ValueError(f"observation {self.name!r} has not been drawn yet (sample() first)")
        return self._drawn[1]

    @property
    def values(self) -> torch.Tensor:
        """The values ``(n, m)`` at the latest drawn points (subset and noise applied)."""
        if self._drawn is None:
            raise ValueError(f"observation {self.name!r} has not been drawn yet (sample() first)")
        return self._drawn[2]

    def predicted(self, d) -> torch.Tensor:
        """The model's observed quantity ``(n, m)`` at the points of ``d``."""
        if self.derivative is not None:
            return d(*self.derivative)[:, None]
        return torch.stack([d[f] for f in self.fields], dim=1)

    def residual(self, d):
        vals = self.values
        if d.n != vals.shape[0]:  # the planning pass asks at other points: only the requests matter there
            vals = torch.zeros(d.n, vals.shape[1], device=d.points.device, dtype=d.points.dtype)
        r = self.predicted(d) - vals
        return r[:, 0] if r.shape[1] == 1 else r

    def labels(self) -> list[str]:
        """One label per column: the field, or ``u_x`` for a derivative."""
        if self.derivative is not None:
            return [f"{self.derivative[0]}_{''.join(self.derivative[1:])}"]
        return list(self.fields)

    def describe(self) -> dict:
        return {**super().describe(), "fields": list(self.fields),
                "derivative": list(self.derivative) if self.derivative else None, "n_points": len(self.points_all),
                "subset": self.subset, "noise": self.noise}


# ------------------------------------------------------------------------------------------- files

def _read_csv(path: Path, columns: list[str]) -> np.ndarray:
    with open(path) as fh:
        header = [h.strip() for h in fh.readline().strip().split(",")]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"{str(path)!r} has no column(s) {', '.join(missing)}; its columns are {', '.join(header)}")
    try:
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as e:
        raise ValueError(f"cannot read {str(path)!r} as numbers: {e}") from None
    if data.shape[1] != len(header):
        raise ValueError(f"{str(path)!r}: rows have {data.shape[1]} values but the header names {len(header)} columns")
    return data[:, [header.index(c) for c in columns]]


def read_data(path: str | os.PathLike, coordinates, fields=("u",), *, names: dict | None = None):
    """Observation points ``(N, d)`` and values ``(N, m)`` (float64) from a file.

    coordinates: the domain's coordinate names, in order. fields: the observed fields (one value column or
    array each). names: explicit column (``.csv``) or array names: coordinate or field -> name in the file.
    ``.csv``: a header row; columns named as the coordinates and fields unless ``names`` says otherwise.
    ``.mat`` / ``.npz`` / ``.h5``: the layouts ``pde validate`` recognises (gridded values over coordinate
    vectors, meshgrid arrays, scattered points), one value array per field (``u`` found by the usual names,
    another field by its own name or ``names``).
    """
    from .validate import _load_arrays, read_reference

    path = Path(path)
    coordinates, fields = list(coordinates), list(fields)
    names = dict(names or {})
    unknown = set(names) - set(coordinates) - set(fields) - {"points"}
    if unknown:
        raise ValueError(f"unknown name(s) {sorted(unknown)} in the data mapping; use the coordinates "
                         f"({', '.join(coordinates)}), the observed fields ({', '.join(fields)}) or 'points'")
    if not path.exists():
        raise ValueError(f"data file {str(path)!r} does not exist")
    if path.suffix.lower() == ".csv":
        data = _read_csv(path, [names.get(c, c) for c in coordinates + fields])
        return data[:, :len(coordinates)], data[:, len(coordinates):]
    arrays = _load_arrays(path)
    points, cols = None, []
    for f in fields:
        mapping = {k: v for k, v in names.items() if k in coordinates or k == "points"}
        vname = names.get(f) or (f if f in arrays and f != "u" else None)
        if vname is None and len(fields) > 1 and f != "u":
            raise ValueError(f"cannot tell which array of {str(path)!r} holds field {f!r} (arrays: "
                             f"{', '.join(sorted(arrays))}); name it, e.g. names={{'{f}': 'ARRAY'}}")
        if vname is not None:
            mapping["u"] = vname
        ref = read_reference(path, coordinates, names=mapping)
        if ref.values.shape[1] != 1:
            raise ValueError(f"the array for field {f!r} in {str(path)!r} has {ref.values.shape[1]} components; "
                             "expected one")
        if points is not None and (ref.points.shape != points.shape or not np.allclose(ref.points, points)):
            raise ValueError(f"the arrays of fields {fields} in {str(path)!r} lie on different points")
        points = ref.points
        cols.append(ref.values[:, 0])
    return points, np.stack(cols, axis=1)


# ------------------------------------------------------------------------------------------- misfit

def data_misfit(trainer) -> dict[str, float]:
    """Per observation and field: ``data/NAME/FIELD/rel_l2`` (``||pred - obs|| / ||obs||``) and ``.../rmse``
    of the trained model at the observation points (the values as used in training: subset and noise)."""
    out: dict[str, float] = {}
    losses = trainer.losses
    for c, (p, nrm) in zip(trainer.conditions, trainer.cond_points):
        if not isinstance(c, Observation):
            continue
        with torch.enable_grad():
            d = losses.engine.derivatives(trainer.model, p, losses.names, losses.fields, normals=nrm)
            pred = c.predicted(d).detach()
        obs = c.values
        err = (pred - obs).double()
        rmse = err.square().mean(0).sqrt().cpu().tolist()
        norm = obs.double().square().sum(0).sqrt().clamp_min(1e-300)
        rel = (err.square().sum(0).sqrt() / norm).cpu().tolist()
        for lab, r, e in zip(c.labels(), rel, rmse):
            out[f"data/{c.name}/{lab}/rel_l2"] = float(r)
            out[f"data/{c.name}/{lab}/rmse"] = float(e)
    return out


def make_observations(data, problem) -> list[Observation]:
    """``solve(data=...)`` as a list of :class:`Observation` s with distinct names.

    data: None, an :class:`Observation`, a file path (read for the problem's coordinates and first field), a
    dict (``{"points", "values", ...}`` :class:`Observation` arguments, or ``{"path", "fields", "names",
    "subset", "noise", "weight", ...}`` for a file), or a list of those.
    """
    if data is None:
        return []
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    coords, fields = list(problem.domain.names), (problem.fields[0],)
    out = []
    for item in items:
        if isinstance(item, Observation):
            out.append(item)
        elif isinstance(item, (str, os.PathLike)):
            out.append(Observation.from_file(item, coords, fields))
        elif isinstance(item, dict) and "path" in item:
            kw = dict(item)
            path = kw.pop("path")
            out.append(Observation.from_file(path, coords, kw.pop("fields", fields), **kw))
        elif isinstance(item, dict):
            out.append(Observation(**item))
        else:
            raise ValueError(f"data must be an Observation, a file path, a dict or a list of those, got "
                             f"{type(item).__name__}")
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        for i, c in enumerate(out):
            if names.count(c.name) > 1:
                c.name = f"{c.name}_{i}"
    taken = {c.name for c in problem.conditions()}
    clash = sorted(taken & {c.name for c in out})
    if clash:
        raise ValueError(f"observation name(s) {clash} are already condition names of the problem; name them "
                         "with Observation(..., name=...)")
    for c in out:
        c._check_domain(problem.domain)
        unknown = [f for f in c.fields if f not in problem.fields]
        if unknown:
            raise ValueError(f"observation {c.name!r} names unknown field(s) {unknown}; the problem's fields are "
                             f"{', '.join(problem.fields)}")
    return out


def restore_observations(sampler_state: dict) -> list[Observation]:
    """The observations stored with a checkpoint (``trainer:data:NAME`` entries; subset and noise applied)."""
    out = []
    for key, rec in sampler_state.items():
        if key.startswith("trainer:data:"):
            out.append(Observation(rec["points"], rec["values"], tuple(rec["fields"]),
                                   derivative=tuple(rec["derivative"]) or None, weight=float(rec["weight"]),
                                   name=key[len("trainer:data:"):]))
    return out

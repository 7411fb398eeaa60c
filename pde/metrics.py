"""Error metrics between a prediction and a reference (arrays of equal shape), for PINN and operator runs."""

from __future__ import annotations

import numpy as np


def rel_l2(pred, ref) -> float:
    """Relative L2 error ``||pred - ref||_2 / ||ref||_2`` over all entries."""
    pred, ref = np.asarray(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if pred.shape != ref.shape:
        raise ValueError(f"prediction shape {pred.shape} does not match reference shape {ref.shape}")
    den = np.linalg.norm(ref)
    return float(np.linalg.norm(pred - ref) / (den if den > 0 else 1.0))


def rel_l2_per_sample(pred, ref) -> np.ndarray:
    """Relative L2 error of each sample: ``(B, ...)`` arrays -> ``(B,)``, ``||pred_b - ref_b|| / ||ref_b||``.

    The operator-learning convention (errors averaged over test functions). A sample whose reference is
    all zeros has an infinite relative error (never silently 0).
    """
    pred, ref = np.asarray(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if pred.shape != ref.shape or pred.ndim < 1:
        raise ValueError(f"prediction shape {pred.shape} does not match reference shape {ref.shape} (need (B, ...))")
    num = np.linalg.norm((pred - ref).reshape(len(pred), -1), axis=1)
    den = np.linalg.norm(ref.reshape(len(ref), -1), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 0.0))


def max_abs(pred, ref) -> float:
    """Maximum absolute error."""
    return float(np.max(np.abs(np.asarray(pred, dtype=np.float64) - np.asarray(ref, dtype=np.float64))))


def rmse(pred, ref) -> float:
    """Root mean square error."""
    return float(np.sqrt(np.mean((np.asarray(pred, dtype=np.float64) - np.asarray(ref, dtype=np.float64)) ** 2)))


def all_metrics(pred, ref) -> dict[str, float]:
    """``{"rel_l2", "max_abs", "rmse"}``."""
    return {"rel_l2": rel_l2(pred, ref), "max_abs": max_abs(pred, ref), "rmse": rmse(pred, ref)}


def field_metrics(pred, ref, fields, up_to_constant=(), complex_fields=None) -> dict[str, float]:
    """Pooled :func:`all_metrics` of ``(N, m)`` arrays, and for ``m > 1`` fields each field's own.

    Returns ``{"rel_l2", "max_abs", "rmse"}`` over all entries, plus ``"rel_l2/F"`` and ``"max_abs/F"``
    for each field ``F`` of ``fields`` (``m`` names, in column order) when there is more than one, so a
    large field cannot hide a wrong small one. The flat keys are what the run file's ``metrics`` group
    stores. ``up_to_constant``: names of fields defined only up to an additive constant (a pressure);
    their prediction is shifted by the mean of ``ref - pred`` before any metric is computed.
    ``complex_fields``: ``{name: (real field, imaginary field)}`` (a complex field stored as two real ones);
    for each, ``"rel_l2/NAME"`` (``||h_pred - h_ref|| / ||h_ref||`` of the complex values), ``"rel_l2/|NAME|"`` and
    ``"max_abs/|NAME|"`` (of the moduli ``|h| = sqrt(re^2 + im^2)``).
    """
    pred, ref = np.array(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    fields = list(fields)
    for f in up_to_constant:
        if f in fields and pred.ndim == 2 and len(fields) == pred.shape[1]:
            i = fields.index(f)
            pred[:, i] += np.mean(ref[:, i] - pred[:, i])
    out = all_metrics(pred, ref)
    if pred.ndim == 2 and pred.shape[1] > 1:
        if len(fields) != pred.shape[1]:
            raise ValueError(f"{len(fields)} field names {fields} for {pred.shape[1]} columns")
        for i, f in enumerate(fields):
            out[f"rel_l2/{f}"] = rel_l2(pred[:, i], ref[:, i])
            out[f"max_abs/{f}"] = max_abs(pred[:, i], ref[:, i])
    for name, (re_, im_) in check_complex_fields(complex_fields, fields).items():
        i, j = fields.index(re_), fields.index(im_)
        hp, hr = pred[:, i] + 1j * pred[:, j], ref[:, i] + 1j * ref[:, j]
        den = np.linalg.norm(hr)
        out[f"rel_l2/{name}"] = float(np.linalg.norm(hp - hr) / (den if den > 0 else 1.0))
        out[f"rel_l2/|{name}|"] = rel_l2(np.abs(hp), np.abs(hr))
        out[f"max_abs/|{name}|"] = max_abs(np.abs(hp), np.abs(hr))
    return out


def check_complex_fields(complex_fields, fields) -> dict[str, tuple[str, str]]:
    """``complex_fields`` (``{name: (real, imaginary)}``) checked against the problem's ``fields``."""
    out = {}
    for name, pair in dict(complex_fields or {}).items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and pair[0] != pair[1]):
            raise ValueError(f"complex field {name!r} must name two distinct real fields (real, imaginary), "
                             f"got {pair!r}")
        missing = [f for f in pair if f not in fields]
        if missing:
            raise ValueError(f"complex field {name!r} names {missing}, which are not fields of the problem "
                             f"({', '.join(fields)})")
        if name in fields:
            raise ValueError(f"complex field {name!r} has the name of a real field")
        out[str(name)] = (str(pair[0]), str(pair[1]))
    return out


def per_field(metrics: dict) -> dict[str, dict[str, float]]:
    """``{field: {"rel_l2", "max_abs"}}`` from the flat ``"rel_l2/F"``, ``"max_abs/F"`` keys of ``metrics``."""
    out: dict[str, dict[str, float]] = {}
    for k, v in (metrics or {}).items():
        name, sep, field = str(k).partition("/")
        if sep and name in ("rel_l2", "max_abs"):
            out.setdefault(field, {})[name] = v
    return out

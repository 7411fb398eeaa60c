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


def field_metrics(pred, ref, fields, up_to_constant=()) -> dict[str, float]:
    """Pooled :func:`all_metrics` of ``(N, m)`` arrays, and for ``m > 1`` fields each field's own.

    Returns ``{"rel_l2", "max_abs", "rmse"}`` over all entries, plus ``"rel_l2/F"`` and ``"max_abs/F"``
    for each field ``F`` of ``fields`` (``m`` names, in column order) when there is more than one, so a
    large field cannot hide a wrong small one. The flat keys are what the run file's ``metrics`` group
    stores. ``up_to_constant``: names of fields defined only up to an additive constant (a pressure);
    their prediction is shifted by the mean of ``ref - pred`` before any metric is computed.
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
    return out


def per_field(metrics: dict) -> dict[str, dict[str, float]]:
    """``{field: {"rel_l2", "max_abs"}}`` from the flat ``"rel_l2/F"``, ``"max_abs/F"`` keys of ``metrics``."""
    out: dict[str, dict[str, float]] = {}
    for k, v in (metrics or {}).items():
        name, sep, field = str(k).partition("/")
        if sep and name in ("rel_l2", "max_abs"):
            out.setdefault(field, {})[name] = v
    return out

"""Error metrics between a prediction and a reference (arrays of equal shape)."""

from __future__ import annotations

import numpy as np


def rel_l2(pred, ref) -> float:
    """Relative L2 error ``||pred - ref||_2 / ||ref||_2`` over all entries."""
    pred, ref = np.asarray(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if pred.shape != ref.shape:
        raise ValueError(f"prediction shape {pred.shape} does not match reference shape {ref.shape}")
    den = np.linalg.norm(ref)
    return float(np.linalg.norm(pred - ref) / (den if den > 0 else 1.0))


def max_abs(pred, ref) -> float:
    """Maximum absolute error."""
    return float(np.max(np.abs(np.asarray(pred, dtype=np.float64) - np.asarray(ref, dtype=np.float64))))


def rmse(pred, ref) -> float:
    """Root mean square error."""
    return float(np.sqrt(np.mean((np.asarray(pred, dtype=np.float64) - np.asarray(ref, dtype=np.float64)) ** 2)))


def all_metrics(pred, ref) -> dict[str, float]:
    """``{"rel_l2", "max_abs", "rmse"}``."""
    return {"rel_l2": rel_l2(pred, ref), "max_abs": max_abs(pred, ref), "rmse": rmse(pred, ref)}

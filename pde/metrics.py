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

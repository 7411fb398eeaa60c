"""Diagnostics of a trained run: per-term losses over the history and the PDE residual over the domain.

* :func:`term_summary`: each loss term's loss at the start, middle and end of a run's history, its smallest
  value and, when the weighting varied the weights (``weight/TERM`` columns), its final weight;
  ``pde show`` prints it, one line per term.
* :func:`pointwise_residual`: ``|r(x)|`` of a model at points ``(N, d)``, evaluated with the autograd engine in
  row blocks (the residual of :class:`~pde.training.losses.LossTerms`, the one the trainer and the samplers use).
* :func:`residual_image`: ``log10 |r|`` on the run's evaluation grid, for problems in two coordinates
  (``(x, t)`` or ``(x, y)``) as an image and in one as a line; ``pde plot`` draws it.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["term_summary", "pointwise_residual", "residual_image"]

#: rows of one residual block (the autograd graph of a block is kept until its residual is read)
RESIDUAL_ROWS = 8192


def term_summary(history: dict) -> dict[str, dict]:
    """Per loss term: ``{"start", "middle", "end", "min", "weight"}`` from a run's history.

    history: column name -> 1-D array (``loss/TERM`` columns, optionally ``weight/TERM``). ``start``, ``middle``
    and ``end`` are the first, middle (row ``n // 2``) and last rows; ``min`` the smallest finite value (NaN
    if none); ``weight`` the last ``weight/TERM`` value, or None when the weights were not recorded (fixed).
    Terms without rows are left out.
    """
    out = {}
    for key, values in history.items():
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if not key.startswith("loss/") or v.size == 0:
            continue
        name = key[5:]
        finite = v[np.isfinite(v)]
        w = np.asarray(history.get(f"weight/{name}", []), dtype=np.float64).reshape(-1)
        out[name] = {"start": float(v[0]), "middle": float(v[v.size // 2]), "end": float(v[-1]),
                     "min": float(finite.min()) if finite.size else float("nan"),
                     "weight": float(w[-1]) if w.size else None}
    return out


def pointwise_residual(problem, model: torch.nn.Module, points, *, rows: int = RESIDUAL_ROWS) -> np.ndarray:
    """``|r|`` ``(N,)`` float64 of ``model`` at ``points`` ``(N, d)`` (numpy or tensor, model-input column order).

    ``|r| = sqrt(sum_k r_k^2)`` over the problem's residuals and their components, with derivatives from the
    autograd engine (exact), evaluated in blocks of ``rows`` points on the model's device and dtype.
    """
    from .derivatives import Autograd
    from .evaluation import evaluate_in_chunks
    from .training.losses import LossTerms

    losses = LossTerms(problem, Autograd(), [])
    p = next(model.parameters())
    if getattr(points, "ndim", None) != 2 or points.shape[1] != len(problem.domain.names):
        raise ValueError(f"points must have shape (N, {len(problem.domain.names)}) with columns "
                         f"{', '.join(problem.domain.names)}, got {tuple(getattr(points, 'shape', ()))}")
    r2 = evaluate_in_chunks(lambda x: losses.squared_residual(model, x), points, rows, device=p.device,
                            dtype=p.dtype)
    return np.sqrt(r2.reshape(-1))


def residual_image(problem, model: torch.nn.Module, solution: dict | None = None, *, n: int | None = None) -> dict:
    """``log10 |r|`` of ``model`` on an evaluation grid of ``problem``'s domain (two coordinates, or one).

    The grid is the stored solution's (``solution`` of a gridded run file: ``axes``, ``shape``, ``points``,
    ``mask``) when it has the domain's coordinates, else the domain's bounding-box grid with ``n`` points per
    coordinate (default ``problem.eval_points``); points outside a non-box domain are NaN.
    Returns ``{"names": [a, b], "axes": [a values (n_a,), b values (n_b,)], "log10_abs": (n_a, n_b)}`` in two
    coordinates and ``{"names": [a], "axes": [(n_a,)], "log10_abs": (n_a,)}`` in one.
    Raises ``ValueError`` for other dimensions (naming the coordinates).
    """
    names = list(problem.domain.names)
    if len(names) not in (1, 2):
        raise ValueError(f"the residual picture needs one or two coordinates; this problem has {len(names)} "
                         f"({', '.join(names)})")
    if solution is not None and solution.get("axes") and list(solution["axes"]) == names:
        axes = [np.asarray(a, dtype=np.float64) for a in solution["axes"].values()]
        points = np.asarray(solution["points"], dtype=np.float64)
        mask = solution.get("mask")
    else:
        ax, pts, inside = problem.domain.grid(n or problem.eval_points, dtype=torch.float64)
        axes = [a.numpy() for a in ax.values()]
        points, mask = pts.numpy(), inside.numpy()
    shape = tuple(len(a) for a in axes)
    r = pointwise_residual(problem, model, points)
    with np.errstate(divide="ignore"):
        img = np.log10(np.maximum(r, 1e-300))
    if mask is not None:
        img = np.where(np.asarray(mask).reshape(-1).astype(bool), img, np.nan)
    return {"names": names, "axes": axes, "log10_abs": img.reshape(shape)}

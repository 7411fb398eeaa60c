"""Export a run's fields to mesh formats ParaView reads (``.vtu``, ``.xdmf``, ...) through meshio.

On a gridded solution the grid becomes lines (1-D), quads (2-D) or hexahedra (3-D),
keeping only cells whose corners lie in the domain when the grid carries a mask;
scattered solutions become vertex cells. With ``mesh=`` the model is evaluated at
that mesh's points and the mesh's cells are kept.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .store import RunFileError, load, read_run

__all__ = ["export_run", "grid_cells"]


def grid_cells(shape: tuple[int, ...], mask: np.ndarray | None = None) -> tuple[str, np.ndarray]:
    """meshio cell type and connectivity of a C-ordered tensor grid of ``shape``."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    if len(shape) == 1:
        kind, cells = "line", np.stack([idx[:-1], idx[1:]], axis=1)
    elif len(shape) == 2:
        kind = "quad"
        cells = np.stack([idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]], axis=-1).reshape(-1, 4)
    elif len(shape) == 3:
        kind = "hexahedron"
        c = [idx[:-1, :-1, :-1], idx[1:, :-1, :-1], idx[1:, 1:, :-1], idx[:-1, 1:, :-1],
             idx[:-1, :-1, 1:], idx[1:, :-1, 1:], idx[1:, 1:, 1:], idx[:-1, 1:, 1:]]
        cells = np.stack(c, axis=-1).reshape(-1, 8)
    else:
        raise ValueError(f"cannot export a {len(shape)}-D grid as a mesh; at most 3 coordinates are supported")
    if mask is not None:
        cells = cells[mask.reshape(-1)[cells].all(axis=1)]
    return kind, cells


def _pad3(points: np.ndarray) -> np.ndarray:
    if points.shape[1] > 3:
        raise ValueError(f"cannot export {points.shape[1]}-D points; at most 3 coordinates are supported")
    return np.hstack([points, np.zeros((points.shape[0], 3 - points.shape[1]))]) if points.shape[1] < 3 else points


def export_run(run_path: str | os.PathLike, out: str | os.PathLike, *, mesh: str | os.PathLike | None = None,
               device=None) -> Path:
    """Write the run's fields to ``out`` (format from its extension). Returns ``out``."""
    import meshio

    out = Path(out)
    if mesh is not None:
        run = load(run_path, device=device)
        try:
            m = meshio.read(mesh)
        except Exception as e:  # meshio raises several types for unreadable files
            raise ValueError(f"cannot read mesh {str(mesh)!r}: {e}") from None
        d = len(run.coordinates)
        pts = np.asarray(m.points, dtype=np.float64)
        if pts.shape[1] < d:
            raise ValueError(f"mesh {str(mesh)!r} has {pts.shape[1]}-D points but the run has coordinates "
                             f"{', '.join(run.coordinates)}")
        if pts.shape[1] > d and np.any(pts[:, d:] != 0):
            raise ValueError(f"mesh {str(mesh)!r} is {pts.shape[1]}-D but the run has {d} coordinates")
        from .validate import coordinate_bounds

        names, lo, hi = coordinate_bounds(run)
        inner = pts[:, :d]
        tol = 1e-6 * (np.asarray(hi) - np.asarray(lo))
        if np.any(inner < np.asarray(lo) - tol) or np.any(inner > np.asarray(hi) + tol):
            raise ValueError(f"mesh {str(mesh)!r} extends outside the run's domain; refusing to extrapolate")
        pred = run.predict_numpy(inner)
        data = {f: pred[:, i] for i, f in enumerate(run.fields)}
        if run.problem is not None:
            import torch

            ex = run.problem.exact(torch.as_tensor(inner))
            if ex is not None:
                ex = ex.reshape(len(inner), -1).numpy()
                for i, f in enumerate(run.fields):
                    data[f"{f}_reference"] = ex[:, i]
                    data[f"{f}_error"] = pred[:, i] - ex[:, i]
        meshio.Mesh(m.points, m.cells, point_data=data).write(out)
        return out
    sol = read_run(run_path, weights=False)["solution"]
    if sol is None:
        raise RunFileError(f"{run_path}: the run has no solution group (unfinished run?); use --mesh FILE to evaluate "
                           "the model on a mesh")
    data = {}
    for key, suffix in (("prediction", ""), ("reference", "_reference"), ("error", "_error")):
        if sol[key] is not None:
            for i, f in enumerate(sol["fields"]):
                data[f + suffix] = np.ascontiguousarray(sol[key][:, i])
    pts = _pad3(sol["points"])
    if sol["axes"]:
        kind, cells = grid_cells(sol["shape"], sol.get("mask"))
    else:
        kind, cells = "vertex", np.arange(len(pts))[:, None]
    meshio.Mesh(pts, [(kind, cells)], point_data=data).write(out)
    return out

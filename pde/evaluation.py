"""Evaluation in chunks: bounded memory for references and predictions at any dimension.

A high-dimensional problem evaluates on ``N = eval_random_points`` points of dimension ``d``;
the temporaries of an exact solution or of a model's first layer are ``(N, d)`` each, which at
``d = 1e4`` and ``N = 1e4`` is 0.8 GB per float64 temporary, more than training itself needs.
:func:`evaluate_in_chunks` applies a function to row blocks of ``points`` and concatenates the
results, so the peak is set by the block, not by ``N``; :func:`rows_per_chunk` picks the block
from a budget of elements (rows times ``d``).

    vals = evaluate_in_chunks(problem.exact, points, rows_per_chunk(points.shape[1]))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = ["CHUNK_ELEMENTS", "rows_per_chunk", "evaluate_in_chunks"]

#: default element budget of one chunk: rows x d (2**22 elements: 32 MB per float64 temporary)
CHUNK_ELEMENTS = 2 ** 22


def rows_per_chunk(dim: int, elements: int = CHUNK_ELEMENTS, max_rows: int | None = None) -> int:
    """Rows per chunk so that ``rows * dim <= elements`` (at least 1, at most ``max_rows``)."""
    if int(dim) != dim or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    if int(elements) != elements or elements < 1:
        raise ValueError(f"elements must be a positive integer, got {elements!r}")
    rows = max(1, int(elements) // int(dim))
    if max_rows is not None:
        if int(max_rows) != max_rows or max_rows < 1:
            raise ValueError(f"max_rows must be a positive integer or None, got {max_rows!r}")
        rows = min(rows, int(max_rows))
    return rows


def evaluate_in_chunks(fn: Callable[[torch.Tensor], torch.Tensor | None], points, chunk: int, *,
                       device=None, dtype: torch.dtype | None = None) -> np.ndarray | None:
    """``fn`` applied to row blocks of ``points``; returns float64 numpy ``(N, m)`` (or None).

    fn: maps a tensor ``(n, d)`` to ``(n, m)`` or ``(n,)`` (``(n,)`` becomes ``(n, 1)``), or returns
    None (no value known: then this returns None). points: ``(N, d)`` numpy array or tensor.
    chunk: rows per call (see :func:`rows_per_chunk`). device / dtype: where and in which dtype
    each block is handed to ``fn`` (default: those of ``points``; numpy gives float64 on the CPU).
    Only one block is converted at a time, so the input copy is ``chunk x d``, never ``N x d``.
    Runs without gradients. Every block must return the same number of columns.
    """
    if isinstance(chunk, bool) or int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be a positive integer (rows per block), got {chunk!r}")
    if getattr(points, "ndim", None) != 2:
        raise ValueError(f"points must be 2-D (N, d), got shape {tuple(getattr(points, 'shape', ()))}")
    n, chunk = int(points.shape[0]), int(chunk)
    out: np.ndarray | None = None
    width = None
    with torch.no_grad():
        for i in range(0, n, chunk):
            block = torch.as_tensor(points[i:i + chunk], device=device, dtype=dtype)
            v = fn(block)
            if v is None:
                if i == 0:
                    return None
                raise ValueError(f"fn returned None for rows {i}:{i + chunk} after returning values before")
            v = v.reshape(block.shape[0], -1)
            if width is None:
                width = v.shape[1]
                out = np.empty((n, width), dtype=np.float64)
            elif v.shape[1] != width:
                raise ValueError(f"fn returned {v.shape[1]} columns for rows {i}:{i + chunk}, {width} before")
            out[i:i + block.shape[0]] = v.detach().to("cpu", torch.float64).numpy()
    if out is None:  # no rows
        out = np.empty((0, 0), dtype=np.float64)
    return out

"""Evaluation in chunks: bounded memory for references and predictions at any dimension.

A high-dimensional problem evaluates on ``N = eval_random_points`` points of dimension ``d``;
the temporaries of an exact solution or of a model's first layer are ``(N, d)`` each, which at
``d = 1e4`` and ``N = 1e4`` is 0.8 GB per float64 temporary, more than training itself needs.
:func:`evaluate_in_chunks` applies a function to row blocks of ``points`` and concatenates the
results, so the peak is set by the block, not by ``N``; :func:`rows_per_chunk` picks the block
from a budget of elements (rows times ``d``).

    vals = evaluate_in_chunks(problem.exact, points, rows_per_chunk(points.shape[1]))

The points themselves are ``N x d`` too (0.8 GB in float64 at ``d = 1e4``): :class:`SampledPoints` stands
for random points by their recipe (domain, count, seed) and draws any row block on demand, so a reference
on it never holds all of them; a run file stores its rows block by block.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = ["CHUNK_ELEMENTS", "rows_per_chunk", "evaluate_in_chunks", "SampledPoints"]

#: default element budget of one chunk: rows x d (2**22 elements: 32 MB per float64 temporary)
CHUNK_ELEMENTS = 2 ** 22


class SampledPoints:
    """``n`` random interior points of ``domain``, ``(n, d)`` float64, drawn block by block on demand.

    Row ``r`` lies in block ``r // block`` (default ``rows_per_chunk(d)``, the row block of
    :func:`evaluate_in_chunks`, so its blocks are drawn one at a time); block ``b`` is
    ``domain.sample_interior(block)`` with a CPU generator seeded ``seed * 1_000_003 + b``, so any slice is the
    same whenever it is drawn, and never more than the blocks it touches exist at once. Behaves like a
    read-only 2-D array for slicing by rows (``points[i:j]`` gives a float64 CPU tensor ``(j - i, d)``),
    ``shape``, ``ndim`` and ``len``; ``np.asarray(points)`` draws all rows (``n x d`` memory: only for small
    ``n * d``).
    """

    ndim = 2

    def __init__(self, domain, n: int, seed: int = 12345, block: int | None = None):
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        block = rows_per_chunk(int(domain.dim)) if block is None else block
        if int(block) != block or block < 1:
            raise ValueError(f"block must be a positive integer, got {block!r}")
        self.domain, self.n, self.seed, self.block = domain, int(n), int(seed), int(block)
        self.shape = (self.n, int(domain.dim))

    def __len__(self) -> int:
        return self.n

    def _block(self, b: int) -> torch.Tensor:
        rows = min(self.block, self.n - b * self.block)
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + b)
        return self.domain.sample_interior(rows, generator=g, dtype=torch.float64)

    def __getitem__(self, key) -> torch.Tensor:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("SampledPoints supports row slices points[i:j] only")
        start, stop, _ = key.indices(self.n)
        if stop <= start:
            return torch.empty(0, self.shape[1], dtype=torch.float64)
        b0, b1 = start // self.block, (stop - 1) // self.block
        rows = torch.cat([self._block(b) for b in range(b0, b1 + 1)]) if b1 > b0 else self._block(b0)
        return rows[start - b0 * self.block:stop - b0 * self.block]

    def __array__(self, dtype=None, copy=None):
        out = self[0:self.n].numpy()
        return out if dtype is None else out.astype(dtype)

    def describe(self) -> dict:
        return {"n": self.n, "seed": self.seed, "block": self.block}


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

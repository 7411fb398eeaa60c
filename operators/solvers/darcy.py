"""Darcy flow ``-div(a grad u) = f`` on the unit square with ``u = 0`` on the boundary.

Discretisation: cell-centred-flux finite volumes on the node grid ``x_i = i h``, ``h = 1/(n-1)``
(equivalently the variable-coefficient 5-point stencil)::

    -[a_{i+1/2,j}(u_{i+1,j}-u_{i,j}) - a_{i-1/2,j}(u_{i,j}-u_{i-1,j})
      + a_{i,j+1/2}(u_{i,j+1}-u_{i,j}) - a_{i,j-1/2}(u_{i,j}-u_{i,j-1})] / h^2 = f_{i,j}

with face coefficients the arithmetic mean of the two nodes. Second order for smooth ``a``.
The sparse system over the ``(n-2)^2`` interior nodes is solved with a direct solver
(``scipy.sparse.linalg.spsolve``, SuperLU).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def darcy_matrix(a: np.ndarray) -> sp.csr_matrix:
    """Sparse matrix of ``-div(a grad .)`` on the interior nodes; ``a`` has shape ``(n, n)``."""
    n = a.shape[0]
    if a.shape != (n, n) or n < 3:
        raise ValueError(f"a must be a square grid with n >= 3, got shape {a.shape}")
    h2 = (1.0 / (n - 1)) ** 2
    m = n - 2
    ae = 0.5 * (a[1:-1, 1:-1] + a[2:, 1:-1])   # face (i+1/2, j)
    aw = 0.5 * (a[1:-1, 1:-1] + a[:-2, 1:-1])  # face (i-1/2, j)
    an = 0.5 * (a[1:-1, 1:-1] + a[1:-1, 2:])   # face (i, j+1/2)
    as_ = 0.5 * (a[1:-1, 1:-1] + a[1:-1, :-2])  # face (i, j-1/2)
    idx = np.arange(m * m).reshape(m, m)
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [((ae + aw + an + as_) / h2).ravel()]
    for coef, sl_from, sl_to in (
        (ae, (slice(0, m - 1), slice(None)), (slice(1, m), slice(None))),
        (aw, (slice(1, m), slice(None)), (slice(0, m - 1), slice(None))),
        (an, (slice(None), slice(0, m - 1)), (slice(None), slice(1, m))),
        (as_, (slice(None), slice(1, m)), (slice(None), slice(0, m - 1))),
    ):
        rows.append(idx[sl_from].ravel())
        cols.append(idx[sl_to].ravel())
        vals.append((-coef[sl_from] / h2).ravel())
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m * m, m * m))


def solve_darcy(a: np.ndarray, f: float | np.ndarray = 1.0) -> np.ndarray:
    """Solve ``-div(a grad u) = f``, ``u|boundary = 0`` on the ``n x n`` node grid of ``[0, 1]^2``.

    ``a``: ``(n, n)`` positive coefficient at the nodes; ``f``: scalar or ``(n, n)`` source.
    Returns ``u`` of shape ``(n, n)`` (float64) with zero boundary rows/columns.
    """
    a = np.asarray(a, dtype=np.float64)
    n = a.shape[0]
    rhs = np.broadcast_to(np.asarray(f, dtype=np.float64), (n, n))[1:-1, 1:-1].ravel()
    u = np.zeros((n, n))
    u[1:-1, 1:-1] = spla.spsolve(darcy_matrix(a).tocsc(), rhs).reshape(n - 2, n - 2)
    return u

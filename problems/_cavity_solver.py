"""Steady lid-driven cavity flow by streamfunction-vorticity finite differences and Newton's method.

On the unit square with nodes ``x_i = i h``, ``y_j = j h`` (``h = 1 / n``), unknowns ``psi`` and ``omega``
at every node solve::

    lap psi + omega = 0,                                   (interior)
    (u omega_x + v omega_y) - lap omega / Re = 0,          u = psi_y, v = -psi_x   (interior)
    psi = 0,  omega = -2 psi_adj / h^2 - 2 U_wall / h      (walls; Thom's formula, U_wall = lid(x) on top)

with second-order central differences. The system is solved by Newton's method with the exact sparse
Jacobian (scipy's sparse LU), from rest, to a residual below ``1e-10``; a 129 x 129 grid (Ghia, Ghia &
Shin's) takes a few seconds. Velocities come from central differences of ``psi`` (the wall values are the
boundary conditions). The pressure solves ``grad p = -(u . grad) u + (-omega_y, omega_x) / Re`` in the
least-squares sense on the grid's edges (a Neumann Poisson problem), with mean zero.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["solve_cavity", "LIDS"]

#: lid velocity profiles u(x, 1): constant 1, or the smooth 16 x^2 (1 - x)^2 (no corner singularities)
LIDS = {"constant": lambda x: np.ones_like(x), "smooth": lambda x: 16.0 * x ** 2 * (1.0 - x) ** 2}


def _operators(n: int):
    h = 1.0 / n
    m = n + 1
    e = np.ones(m)
    d1 = sp.diags([-e[:-1], e[:-1]], [-1, 1], shape=(m, m)) / (2 * h)
    d2 = sp.diags([e[:-1], -2 * e, e[:-1]], [-1, 0, 1], shape=(m, m)) / h ** 2
    eye = sp.identity(m)
    dx, dy = sp.kron(d1, eye).tocsr(), sp.kron(eye, d1).tocsr()  # node k = i (n + 1) + j, x index slowest
    lap = (sp.kron(d2, eye) + sp.kron(eye, d2)).tocsr()
    return h, dx, dy, lap


def solve_cavity(re: float = 100.0, n: int = 128, lid: str = "constant", tol: float = 1e-10,
                 max_newton: int = 30) -> dict[str, np.ndarray]:
    """Steady cavity flow at Reynolds number ``re`` on an ``(n + 1) x (n + 1)`` node grid.

    Returns ``{"x" (n+1,), "y" (n+1,), "u", "v", "p", "psi", "omega"}`` with fields ``(n+1, n+1)`` indexed
    ``[i, j]`` = ``(x_i, y_j)``. ``lid``: a key of :data:`LIDS`. Raises ``RuntimeError`` if Newton's method
    does not converge.
    """
    if lid not in LIDS:
        raise ValueError(f"unknown lid profile {lid!r}; allowed: {', '.join(LIDS)}")
    h, dx, dy, lap = _operators(n)
    m = n + 1
    x = np.linspace(0.0, 1.0, m)
    ii, jj = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    wall = (ii == 0) | (ii == n) | (jj == 0) | (jj == n)
    interior = ~wall
    nn = m * m
    # Thom's formula: omega_wall + 2 psi_adj / h^2 = -2 U_wall / h, with adj the neighbour inside
    adj = np.where(ii == 0, jj + m, np.where(ii == n, (n - 1) * m + jj,
                   np.where(jj == 0, ii * m + 1, ii * m + n - 1)))
    corner = ((ii == 0) | (ii == n)) & ((jj == 0) | (jj == n))
    k = np.arange(nn)
    rows_w = k[wall & ~corner]
    thom = sp.csr_matrix((np.full(rows_w.size, 2.0 / h ** 2), (rows_w, adj[wall & ~corner])), shape=(nn, nn))
    lid_u = np.where((jj == n) & ~corner, LIDS[lid](x[ii]), 0.0)
    rhs_w = -2.0 * lid_u / h
    p_int, p_wall = sp.diags(interior.astype(float)), sp.diags(wall.astype(float))
    eye = sp.identity(nn, format="csr")
    # linear parts of the two equations (rows: interior equations or wall conditions)
    a11 = p_int @ lap + p_wall @ eye        # d(eq1)/d(psi)
    a12 = p_int @ eye                        # d(eq1)/d(omega)
    a21 = p_wall @ thom                      # d(eq2)/d(psi)
    a22 = -p_int @ lap / re + p_wall @ eye   # d(eq2)/d(omega)
    z = np.zeros(2 * nn)
    for _ in range(max_newton):
        psi, om = z[:nn], z[nn:]
        u, v = dy @ psi, -(dx @ psi)
        wx, wy = dx @ om, dy @ om
        f1 = a11 @ psi + a12 @ om
        f2 = a21 @ psi + a22 @ om + interior * (u * wx + v * wy) - wall * rhs_w
        f = np.concatenate([f1, f2])
        if np.max(np.abs(f)) < tol:
            break
        pi_ = sp.diags(interior.astype(float))
        j21 = a21 + pi_ @ (sp.diags(wx) @ dy - sp.diags(wy) @ dx)
        j22 = a22 + pi_ @ (sp.diags(u) @ dx + sp.diags(v) @ dy)
        jac = sp.bmat([[a11, a12], [j21, j22]], format="csc")
        z = z - spla.spsolve(jac, f)
    else:
        raise RuntimeError(f"cavity Newton iteration did not converge in {max_newton} steps "
                           f"(residual {np.max(np.abs(f)):.3e})")
    psi, om = z[:nn], z[nn:]
    u = np.where(wall, lid_u, dy @ psi).reshape(m, m)
    v = np.where(wall, 0.0, -(dx @ psi)).reshape(m, m)
    om2 = om.reshape(m, m)
    p = _pressure(u, v, om2, re, h)
    return {"x": x, "y": x.copy(), "u": u, "v": v, "p": p, "psi": psi.reshape(m, m), "omega": om2}


def _pressure(u, v, om, re, h):
    """Mean-zero ``p`` ``(m, m)`` with ``grad p`` closest (least squares on grid edges) to the momentum balance."""
    ux, uy = np.gradient(u, h, edge_order=2)
    vx, vy = np.gradient(v, h, edge_order=2)
    wx, wy = np.gradient(om, h, edge_order=2)
    fx = -(u * ux + v * uy) - wy / re
    fy = -(u * vx + v * vy) + wx / re
    m = u.shape[0]
    e = np.ones(m)
    diff = sp.diags([-e[:-1], e[:-1]], [0, 1], shape=(m - 1, m)) / h   # (m-1, m) edge differences
    eye = sp.identity(m)
    gx, gy = sp.kron(diff, eye), sp.kron(eye, diff)
    bx = (0.5 * (fx[1:, :] + fx[:-1, :])).ravel()
    by = (0.5 * (fy[:, 1:] + fy[:, :-1])).ravel()
    a = (gx.T @ gx + gy.T @ gy).tolil()
    b = gx.T @ bx + gy.T @ by
    a[0, :] = 0.0
    a[0, 0] = 1.0
    b[0] = 0.0
    p = spla.spsolve(a.tocsc(), b).reshape(m, m)
    return p - p.mean()

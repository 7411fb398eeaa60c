"""The steady incompressible Navier-Stokes residual, shared by the flow problems (Kovasznay, the cavity)."""

from __future__ import annotations


def steady_navier_stokes(d, nu: float) -> dict:
    """Residuals of ``(u . grad) u + grad p - nu Laplace u = 0`` and ``div u = 0`` for fields ``u, v, p`` in 2-D.

    ``d``: the derivatives object of a residual; ``nu``: kinematic viscosity (1 / Re). Returns the dict
    ``{"momentum_x", "momentum_y", "continuity"}`` of ``(N,)`` tensors.
    """
    u, v = d["u"], d["v"]
    return {
        "momentum_x": u * d("u", "x") + v * d("u", "y") + d("p", "x") - nu * d.laplacian("u"),
        "momentum_y": u * d("v", "x") + v * d("v", "y") + d("p", "y") - nu * d.laplacian("v"),
        "continuity": d("u", "x") + d("v", "y"),
    }

"""Classical reference solvers that generate the operator datasets (numpy/scipy, float64)."""

from .burgers import solve_burgers
from .darcy import solve_darcy
from .navier_stokes import solve_navier_stokes
from .poisson import solve_poisson_periodic

__all__ = ["solve_darcy", "solve_burgers", "solve_navier_stokes", "solve_poisson_periodic"]

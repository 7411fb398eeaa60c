"""The problem library: PDEs written with :mod:`pde`'s vocabulary, each with a reference.

========================  =====================  ========================================================
class                     registry name          reference
========================  =====================  ========================================================
:class:`Burgers`          ``burgers``            exact (Cole-Hopf by Gauss-Hermite quadrature, 1e-8)
:class:`AllenCahn`        ``allen_cahn``         Fourier pseudo-spectral ETDRK4 solver (1e-6)
:class:`Convection`       ``convection``         exact
:class:`Poisson2D`        ``poisson2d``          exact
:class:`Helmholtz2D`      ``helmholtz2d``        exact
:class:`Heat`             ``heat``               exact (any dimension ``d``)
:class:`Wave`             ``wave``               exact
:class:`PoissonND`        ``poisson_nd``         exact (any dimension ``d``, O(N d) cost)
:class:`PoissonHoles`     ``poisson_holes``      P2 finite elements (extra ``fem``), square minus 4 disks
:class:`HelmholtzHoles`   ``helmholtz_holes``    P2 finite elements (extra ``fem``), same domain, k = 4
:class:`Kovasznay`        ``kovasznay``          exact (steady Navier-Stokes, fields u, v, p)
:class:`LidDrivenCavity`  ``lid_driven_cavity``  streamfunction-vorticity FD + Newton (Ghia et al. 1%)
:class:`GrayScott`        ``gray_scott``         Fourier pseudo-spectral ETDRK4 (fields u, v)
========================  =====================  ========================================================

Every problem is a dataclass whose fields are its parameters (validated on construction),
with ``domain``, ``residual(d)``, ``conditions()``, ``exact(points)`` (or None) and
``reference()``. Problems with a natural hard constraint also have
``output_transform(points, raw) -> (N, m)`` and name the conditions it satisfies in the
class attribute ``hard_satisfies`` (empty where there is none).

A problem of your own works everywhere a built-in one does::

    import math
    from dataclasses import dataclass

    import torch
    from pde import AbstractProblem, Dirichlet, Initial, Interval, SpaceTime, TimeInterval

    @dataclass
    class ReactionDiffusion(AbstractProblem):
        \"\"\"u_t = D u_xx - k u on [0, 1] x [0, 1], u(x, 0) = sin(pi x), u = 0 at x = 0, 1.\"\"\"

        name = "reaction_diffusion"
        D: float = 0.1
        k: float = 1.0

        def __post_init__(self):
            if self.D <= 0:
                raise ValueError(f"D must be > 0, got {self.D}")

        @property
        def domain(self):
            return SpaceTime(Interval(0, 1), TimeInterval(0, 1))

        def residual(self, d):
            return d("u", "t") - self.D * d("u", "x", "x") + self.k * d["u"]

        def conditions(self):
            return [Initial(lambda p: torch.sin(math.pi * p[:, 0])), Dirichlet(0.0)]

        def exact(self, p):
            x, t = p[:, 0], p[:, 1]
            rate = self.D * math.pi ** 2 + self.k
            return (torch.exp(-rate * t) * torch.sin(math.pi * x))[:, None]

    REGISTRY[ReactionDiffusion.name] = ReactionDiffusion   # optional: makes it known by name
"""

from ._allen_cahn import AllenCahn, solve_allen_cahn
from ._burgers import Burgers, cole_hopf
from ._cavity import LidDrivenCavity
from ._cavity_solver import solve_cavity
from ._elliptic import Helmholtz2D, Poisson2D, PoissonND
from ._etdrk4 import etdrk4
from ._evolution import Convection, Heat, Wave
from ._gray_scott import GrayScott, solve_gray_scott
from ._holes import HelmholtzHoles, PoissonHoles
from ._kovasznay import Kovasznay
from .highdim import BiharmonicBall, InseparableAllenCahn, InseparablePoisson, InseparableSineGordon

#: problem classes by registry name
REGISTRY = {cls.name: cls for cls in (Burgers, AllenCahn, Convection, Poisson2D, Helmholtz2D, Heat, Wave,
                                      PoissonND, InseparablePoisson, InseparableAllenCahn, InseparableSineGordon,
                                      BiharmonicBall, PoissonHoles, HelmholtzHoles, Kovasznay, LidDrivenCavity,
                                      GrayScott)}

__all__ = ["REGISTRY", "AllenCahn", "BiharmonicBall", "Burgers", "Convection", "GrayScott", "Heat", "Helmholtz2D",
           "HelmholtzHoles", "InseparableAllenCahn", "InseparablePoisson", "InseparableSineGordon", "Kovasznay",
           "LidDrivenCavity",
           "Poisson2D", "PoissonHoles", "PoissonND", "Wave", "cole_hopf", "etdrk4", "solve_allen_cahn",
           "solve_cavity", "solve_gray_scott"]

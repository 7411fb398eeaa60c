"""Collocation samplers for pdekit: non-adaptive (uniform, Sobol, Halton, Latin hypercube, grid) and
adaptive (RAD, RAR-D, R3, causal R3, AAS), all implementing :class:`pde.collocation.AbstractSampler`.

``REGISTRY`` maps the CLI names to classes; every class is constructible from keyword options
(``--set sampler.NAME=VALUE``), numbers given as numbers or strings, with a ``ValueError`` naming a bad one.
"""

from .aas import AAS
from .basic import Grid, Halton, LatinHypercube, Sobol, Uniform
from .flow import CouplingFlow
from .r3 import R3, CausalR3
from .rad import RAD, RARD, rad_weights

REGISTRY = {
    "uniform": Uniform,
    "sobol": Sobol,
    "halton": Halton,
    "lhs": LatinHypercube,
    "grid": Grid,
    "rad": RAD,
    "rard": RARD,
    "r3": R3,
    "causal_r3": CausalR3,
    "aas": AAS,
}


def make(name: str, **options):
    """Build the sampler registered as ``name`` from keyword ``options``."""
    if name not in REGISTRY:
        raise ValueError(f"unknown sampler {name!r}; available: {', '.join(sorted(REGISTRY))}")
    try:
        return REGISTRY[name](**options)
    except TypeError as err:  # unknown keyword
        raise ValueError(f"bad option for sampler {name!r}: {err}") from None


__all__ = ["AAS", "CausalR3", "CouplingFlow", "Grid", "Halton", "LatinHypercube", "R3", "RAD", "RARD", "REGISTRY",
           "Sobol", "Uniform", "make", "rad_weights"]

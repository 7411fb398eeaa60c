"""Derivative engines behind one API (see :mod:`pde.derivatives.base`).

``ENGINES`` maps the names accepted by ``--derivatives NAME`` to engine classes:
``autograd`` (nested reverse mode), ``taylor`` (exact forward Taylor mode, jets) and
``stde`` (stochastic Taylor derivative estimators for high-dimensional operators).
"""

from .autograd import Autograd
from .base import AbstractDerivativeEngine, AbstractDerivatives, RecordingDerivatives, Request, UnsupportedDerivative
from .jet import Jet
from .stde import STDE, biased_loss, independent_derivatives, unbiased_loss
from .taylor import Taylor

ENGINES: dict[str, type[AbstractDerivativeEngine]] = {"autograd": Autograd, "taylor": Taylor, "stde": STDE}

__all__ = ["AbstractDerivativeEngine", "AbstractDerivatives", "Autograd", "ENGINES", "Jet", "RecordingDerivatives",
           "Request", "STDE", "Taylor", "UnsupportedDerivative", "biased_loss", "independent_derivatives",
           "unbiased_loss"]

"""Derivative engines behind one API (see :mod:`pde.derivatives.base`).

``ENGINES`` maps the names accepted by ``--derivatives NAME`` to engine classes:
``autograd`` (nested reverse mode), ``taylor`` (exact forward Taylor mode, jets) and
``stde`` (stochastic Taylor derivative estimators for high-dimensional operators).

Every engine has ``stochastic`` (bool), ``state_dict()`` / ``load_state_dict(state)`` (``{}`` for
the deterministic ones; STDE's generators otherwise), ``reseed(seed)`` and the context manager
``frozen()`` (same random draws on every evaluation inside it; a no-op when deterministic).
"""

from .autograd import Autograd
from .base import (
                   AbstractDerivativeEngine,
                   AbstractDerivatives,
                   RecordingDerivatives,
                   Request,
                   UnsupportedDerivative,
                   UnsupportedOperation,
)
from .jet import Jet
from .jetpass import JetDerivatives
from .stde import STDE, biased_loss, independent_derivatives, unbiased_loss
from .taylor import Taylor

ENGINES: dict[str, type[AbstractDerivativeEngine]] = {"autograd": Autograd, "taylor": Taylor, "stde": STDE}

__all__ = ["AbstractDerivativeEngine", "AbstractDerivatives", "Autograd", "ENGINES", "Jet", "JetDerivatives",
           "RecordingDerivatives", "Request", "STDE", "Taylor", "UnsupportedDerivative", "UnsupportedOperation",
           "biased_loss", "independent_derivatives", "unbiased_loss"]

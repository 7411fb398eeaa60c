"""Derivative engines behind one API (see :mod:`pde.derivatives.base`)."""

from .autograd import Autograd
from .base import (AbstractDerivativeEngine, AbstractDerivatives, RecordingDerivatives, Request,
                   UnsupportedDerivative)

__all__ = ["AbstractDerivativeEngine", "AbstractDerivatives", "Autograd", "RecordingDerivatives", "Request",
           "UnsupportedDerivative"]

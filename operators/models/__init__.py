"""Operator models: FNO (1-3-D), MgNO (2-D), NSM (Neural Spectral Methods, 2-D periodic)."""

from .fno import FNO, SpectralConv
from .mgno import MgConv, MgNO
from .nsm import NSM

__all__ = ["FNO", "SpectralConv", "MgConv", "MgNO", "NSM"]

"""Name -> builder registry of operator models used by :func:`operators.train` and the CLI.

A builder is called as ``builder(in_channels, out_channels, dim, **options)`` and returns an ``nn.Module``
mapping ``(B, in_channels, *S) -> (B, out_channels, *S)``. ``register_model`` adds a user's own.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .models.fno import FNO
from .models.mgno import MgNO

MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str, builder: Callable[..., nn.Module]) -> None:
    MODELS[name] = builder


def build_model(name: str, in_channels: int, out_channels: int, dim: int, **options) -> nn.Module:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(sorted(MODELS))}")
    return MODELS[name](in_channels, out_channels, dim, **options)


def _fno(cin, cout, dim, n_modes=None, **kw):
    modes = n_modes if n_modes is not None else {1: 16, 2: 12, 3: 8}[dim]
    modes = tuple(modes) if isinstance(modes, (list, tuple)) else (int(modes),) * dim
    return FNO(cin, cout, modes, **kw)


def _mgno(cin, cout, dim, **kw):
    if dim != 2:
        raise ValueError(f"mgno is implemented for 2-D grids only, got a {dim}-D dataset")
    return MgNO(cin, cout, **kw)


# the classes whose constructors take the builders' **kw (``pde train`` checks model options against them)
_fno.model_class, _mgno.model_class = FNO, MgNO
register_model("fno", _fno)
register_model("mgno", _mgno)

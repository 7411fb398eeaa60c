"""The PINN model base class, the model registry and rebuilding a model from its architecture.

A PINN model maps coordinates ``(N, d)`` (columns named as the domain's coordinates)
to fields ``(N, m)``. Models are constructed without knowing ``d`` or ``m``::

    model = MLP(width=64, depth=4).build(problem.domain, n_fields=len(problem.fields))

:meth:`AbstractPINN.build` creates the parameters (in the default dtype, on the CPU;
the caller moves the built model with ``.to(device, dtype)``). :meth:`AbstractPINN.architecture`
returns a JSON-able dict from which :func:`from_architecture` rebuilds an identical,
built module; ``load_state_dict`` then restores the weights. Nothing is pickled.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

from ..domain import AbstractDomain, Box

__all__ = ["AbstractPINN", "MODELS", "register_model", "from_architecture"]

#: Registry of model classes by name (``pde list`` shows it); see :func:`register_model`.
MODELS: dict[str, type[AbstractPINN]] = {}
#: Wrappers (constructed around another model, e.g. OutputTransform): known to
#: :func:`from_architecture` but not offered as stand-alone models.
WRAPPERS: dict[str, type[AbstractPINN]] = {}


def register_model(name: str, *, wrapper: bool = False):
    """Class decorator adding a model class to :data:`MODELS` (or :data:`WRAPPERS`) under ``name``."""
    table = WRAPPERS if wrapper else MODELS

    def deco(cls):
        if name in table and table[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered to {table[name].__name__}")
        table[name] = cls
        return cls

    return deco


class AbstractPINN(nn.Module, ABC):
    """A coordinates-to-fields network, built for a domain.

    Subclasses implement :meth:`_build` (create parameters), :meth:`options` (the
    constructor arguments as a JSON-able dict) and ``forward`` (``(N, d) -> (N, m)``,
    raising through :meth:`_check_built` when called before :meth:`build`).

    ``satisfies`` names the conditions (by their ``name``) that the model satisfies
    exactly, so the training loop may drop their loss terms.
    """

    satisfies: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._dims: tuple | None = None

    # -- building -------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self._dims is not None

    @property
    def names(self) -> tuple[str, ...]:
        """Coordinate names the model was built for."""
        self._check_built()
        return self._dims[0]

    @property
    def n_fields(self) -> int:
        self._check_built()
        return self._dims[3]

    def build(self, domain: AbstractDomain, n_fields: int) -> AbstractPINN:
        """Create the parameters for ``domain`` (names and bounding box) and ``n_fields`` outputs.

        Building again for the same coordinates, bounds and ``n_fields`` does nothing;
        building for different ones raises ``ValueError``. Returns ``self``.
        """
        names = tuple(domain.names)
        lo, hi = domain.bounds
        lo, hi = [float(v) for v in lo], [float(v) for v in hi]
        if int(n_fields) != n_fields or n_fields < 1:
            raise ValueError(f"n_fields must be a positive integer, got {n_fields}")
        dims = (names, tuple(lo), tuple(hi), int(n_fields))
        if self._dims is not None:
            if dims == self._dims:
                return self
            raise ValueError(
                f"{type(self).__name__} is already built for coordinates {self._dims[0]} with bounds "
                f"{list(self._dims[1])}..{list(self._dims[2])} and {self._dims[3]} field(s); cannot rebuild it for "
                f"{names} with bounds {lo}..{hi} and {int(n_fields)} field(s) (construct a new model instead)")
        if len(lo) != len(names) or len(hi) != len(names):
            raise ValueError(f"domain bounds must have one entry per coordinate {names}, got {lo} and {hi}")
        for nm, a, b in zip(names, lo, hi, strict=True):
            if not (math.isfinite(a) and math.isfinite(b) and a < b):
                raise ValueError(f"coordinate {nm!r} needs finite bounds with lower < upper, got [{a}, {b}]")
        self._build(names, lo, hi, int(n_fields))
        self._dims = dims
        return self

    @abstractmethod
    def _build(self, names: tuple[str, ...], lower: list[float], upper: list[float], n_fields: int) -> None:
        """Create parameters and buffers (default dtype) for these coordinates and outputs."""

    def _check_built(self) -> None:
        if self._dims is None:
            raise RuntimeError(f"{type(self).__name__} is not built yet: call model.build(domain, n_fields) "
                               "before using it")

    # -- serialisation --------------------------------------------------------------------
    @abstractmethod
    def options(self) -> dict[str, Any]:
        """Constructor arguments as a JSON-able dict (``type(self)(**options)`` recreates the model)."""

    def architecture(self) -> dict[str, Any]:
        """JSON-able description: ``{"type", "options", "names", "lower", "upper", "n_fields"}``.

        :func:`from_architecture` turns it back into an identical built module.
        """
        self._check_built()
        names, lo, hi, m = self._dims
        return {"type": type(self).__name__, "options": self.options(), "names": list(names),
                "lower": list(lo), "upper": list(hi), "n_fields": m}

    @classmethod
    def _from_architecture(cls, arch: dict, problem=None) -> AbstractPINN:
        return cls(**arch.get("options", {})).build(_box(arch), arch["n_fields"])

    def extra_repr(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items() if not isinstance(v, (dict, list)))
        return opts + ("" if self.built else ", unbuilt")


def _box(arch: dict) -> Box:
    """The bounding box an architecture was built for (all a model's build looks at)."""
    try:
        return Box(arch["lower"], arch["upper"], arch["names"])
    except KeyError as e:
        raise ValueError(f"architecture dict lacks {e.args[0]!r}; it needs names, lower, upper and n_fields") from None


def model_class(name: str) -> type[AbstractPINN]:
    """Model class by registry name (``"mlp"``) or class name (``"MLP"``)."""
    known = {**MODELS, **WRAPPERS}
    if name in known:
        return known[name]
    for cls in known.values():
        if cls.__name__ == name:
            return cls
    raise ValueError(f"unknown model type {name!r}; registered: "
                     f"{', '.join(f'{k} ({c.__name__})' for k, c in MODELS.items())}")


def from_architecture(arch: dict, problem=None) -> AbstractPINN:
    """Rebuild a built model from :meth:`AbstractPINN.architecture` output.

    ``problem`` is needed only when the architecture contains an
    :class:`~pde.models.OutputTransform` whose transform came from that problem.
    Restore the weights afterwards with ``model.load_state_dict(state)``.
    """
    if not isinstance(arch, dict) or "type" not in arch:
        raise ValueError(f"an architecture must be a dict with a 'type' entry, got {arch!r}")
    return model_class(arch["type"])._from_architecture(arch, problem)


class ExactBuffers(nn.Module):
    """Mixin for constant buffers derived from the architecture (frequencies, bounds, selections).

    :meth:`exact_buffer` keeps a float64 master copy, and every ``.to()``/``.double()``/``.cuda()``
    recasts the buffer from the master, so a model built in float32 and moved to float64 uses
    the float64 constants (periodicity then holds to float64 round-off, not float32's).
    Such buffers are not in the state dict: they follow from the architecture.
    """

    def exact_buffer(self, name: str, values) -> None:
        master = torch.as_tensor(values, dtype=torch.float64).detach().clone()
        if not hasattr(self, "_exact_masters"):
            self._exact_masters = {}
        self._exact_masters[name] = master
        self.register_buffer(name, master.to(torch.get_default_dtype()), persistent=False)

    def _apply(self, fn, *args, **kwargs):
        out = super()._apply(fn, *args, **kwargs)
        for name, master in getattr(self, "_exact_masters", {}).items():
            cur = self._buffers[name]
            self._buffers[name] = master.to(device=cur.device, dtype=cur.dtype)
        return out

"""PDE problems: domain, residual, conditions, parameters and a reference solution.

A problem is a small class (usually a dataclass holding its parameters)::

    @dataclass
    class Heat1D(AbstractProblem):
        name = "heat1d"
        kappa: float = 0.1

        @property
        def domain(self):
            return SpaceTime(Interval(0, 1), TimeInterval(0, 1))

        def residual(self, d):                      # u_t - kappa u_xx = 0
            return d("u", "t") - self.kappa * d("u", "x", "x")

        def conditions(self):
            return [Initial(lambda p: torch.sin(math.pi * p[:, 0])), Dirichlet(0.0)]

        def exact(self, p):
            x, t = p[:, 0], p[:, 1]
            return (torch.exp(-self.kappa * math.pi**2 * t) * torch.sin(math.pi * x))[:, None]

or built from functions with :func:`define`. The residual never says how
derivatives are computed (see :mod:`pde.derivatives`).
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from .conditions import AbstractCondition
from .derivatives.base import AbstractDerivatives
from .domain import AbstractDomain
from .evaluation import CHUNK_ELEMENTS
from .unknowns import Unknown, true_values_method, unknown_parameters

__all__ = ["AbstractProblem", "Reference", "define", "check_positive", "check_range"]

#: methods that describe the true solution: unknown parameters read as their true values inside them
_TRUTH = ("exact", "reference")


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is positive (or zero if allowed)."""
    if isinstance(value, torch.Tensor):  # an unknown parameter's value (pde.unknowns)
        value = float(value.detach())
    ok = value >= 0 if allow_zero else value > 0
    if not (ok and math.isfinite(value)):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {value}")


def check_range(name: str, value, lo, hi) -> None:
    """Raise ``ValueError`` unless ``lo <= value <= hi``."""
    if isinstance(value, torch.Tensor):
        value = float(value.detach())
    if not (lo <= value <= hi):
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {value}")


@dataclass
class Reference:
    """Reference solution values at points.

    ``points`` ``(N, d)`` and ``values`` ``(N, m)`` are numpy arrays (float64). For gridded
    references ``axes`` maps each coordinate name to its 1-D grid and ``shape`` is the grid
    shape, with ``points`` in C order (first coordinate slowest).
    """

    points: np.ndarray
    values: np.ndarray
    axes: dict[str, np.ndarray] | None = None
    source: str = "exact"

    @property
    def shape(self) -> tuple[int, ...] | None:
        return None if self.axes is None else tuple(len(a) for a in self.axes.values())

    @classmethod
    def on_grid(cls, axes: dict[str, np.ndarray], values: np.ndarray, source: str) -> Reference:
        """From grid axes and values shaped ``(*shape, m)`` or ``(*shape,)``."""
        mesh = np.meshgrid(*axes.values(), indexing="ij")
        pts = np.stack([m.reshape(-1) for m in mesh], axis=1)
        vals = np.asarray(values, dtype=np.float64).reshape(pts.shape[0], -1)
        return cls(pts, vals, {k: np.asarray(v, dtype=np.float64) for k, v in axes.items()}, source)


class AbstractProblem(ABC):
    """A PDE problem. Subclasses set ``name`` and ``fields`` and implement ``domain`` and ``residual``.

    Parameters are dataclass fields of the subclass; ``__post_init__`` validates them
    (raise ``ValueError`` naming the value and what is allowed).
    """

    name: ClassVar[str] = "problem"
    fields: ClassVar[tuple[str, ...]] = ("u",)
    #: evaluation grid points per coordinate for low-dimensional problems
    eval_points: ClassVar[int] = 101
    #: number of random evaluation points for problems in more than 3 dimensions
    eval_random_points: ClassVar[int] = 10_000
    #: names of the conditions that ``output_transform(points, raw)`` (if defined) satisfies exactly
    hard_satisfies: ClassVar[tuple[str, ...]] = ()
    #: fields defined only up to an additive constant (a pressure): compared after removing the mean difference
    up_to_constant: ClassVar[tuple[str, ...]] = ()
    #: complex fields stored as two real ones, ``{"h": ("u", "v")}``: metrics also for ``h`` and ``|h|``
    complex_fields: ClassVar[dict[str, tuple[str, str]]] = {}

    @property
    @abstractmethod
    def domain(self) -> AbstractDomain:
        """The domain (coordinates named)."""

    @abstractmethod
    def residual(self, d: AbstractDerivatives) -> torch.Tensor | dict[str, torch.Tensor]:
        """PDE residual(s) at interior points: ``(N,)``, ``(N, k)`` or a dict of those by name."""

    def conditions(self) -> list[AbstractCondition]:
        """Initial and boundary conditions (soft constraints)."""
        return []

    def exact(self, points: torch.Tensor) -> torch.Tensor | None:
        """Exact solution ``(N, m)`` at ``points`` ``(N, d)``, or None where none is known."""
        return None

    def source(self, points: torch.Tensor) -> torch.Tensor:  # pragma: no cover - optional helper
        raise NotImplementedError

    def reference(self) -> Reference:
        """Reference solution for validation (default: the exact solution on an evaluation grid)."""
        return self._exact_reference()

    def _exact_reference(self) -> Reference:
        dom = self.domain
        if dom.dim <= 3:
            axes, pts, mask = dom.grid(self.eval_points, dtype=torch.float64)
            if not bool(mask.all()):
                pts = pts[mask]
                axes = None
        elif self.eval_random_points * dom.dim > CHUNK_ELEMENTS:
            # high dimension: the points by their recipe, the exact values in row blocks (memory: one block)
            from .evaluation import SampledPoints, evaluate_in_chunks, rows_per_chunk

            pts = SampledPoints(dom, self.eval_random_points)
            vals = evaluate_in_chunks(self.exact, pts, rows_per_chunk(dom.dim))
            if vals is None:
                raise NotImplementedError(f"problem {self.name!r} has neither an exact solution nor a reference "
                                          "solver")
            return Reference(pts, vals, None, "exact")
        else:
            g = torch.Generator().manual_seed(12345)
            pts = dom.sample_interior(self.eval_random_points, generator=g, dtype=torch.float64)
            axes = None
        vals = self.exact(pts)
        if vals is None:
            raise NotImplementedError(f"problem {self.name!r} has neither an exact solution nor a reference solver")
        vals = vals.reshape(pts.shape[0], -1).numpy()
        if axes is not None:
            return Reference.on_grid({k: v.numpy() for k, v in axes.items()}, vals, "exact")
        return Reference(pts.numpy(), vals, None, "exact")

    def default_model(self):
        """The model ``pde solve`` uses for this problem unless told otherwise (None: a plain MLP)."""
        return None

    def default_settings(self) -> dict:
        """Solve settings (steps, points, learning rate, ...) that suit this problem; see ``pde.solve``."""
        return {}

    def __getattribute__(self, name):
        # an unknown parameter (pde.unknowns.Unknown) reads as its current value: a 0-d tensor with gradient;
        # inside ``exact`` and ``reference`` (the truth) as its declared true value (see pde.unknowns.true_values)
        value = object.__getattribute__(self, name)
        if type(value) is Unknown:
            return unknown_parameters(self).read(name)
        if name in _TRUTH and unknown_parameters(self).names:
            return true_values_method(self, value)
        return value

    def params(self) -> dict:
        """Parameters as a plain dict (an unknown one as its stored declaration, see :mod:`pde.unknowns`)."""
        if dataclasses.is_dataclass(self):
            raw = {f.name: self.__dict__.get(f.name) for f in dataclasses.fields(self)}
        else:
            raw = dict(self.__dict__.get("_params", {}))
        return {k: v.stored() if isinstance(v, Unknown) else v for k, v in raw.items()}

    def describe(self) -> dict:
        return {"name": self.name, "class": f"{type(self).__module__}.{type(self).__qualname__}",
                "fields": list(self.fields), "params": self.params(), "domain": self.domain.describe(),
                "conditions": [c.describe() for c in self.conditions()]}


class _FunctionProblem(AbstractProblem):
    def __init__(self, name, domain, residual, conditions, exact, fields, params, reference):
        self.name = name
        self.fields = tuple(fields)
        self._domain, self._residual, self._conditions = domain, residual, list(conditions)
        self._exact, self._params, self._reference = exact, dict(params), reference

    @property
    def domain(self):
        return self._domain

    def residual(self, d):
        return self._residual(d, **self._values())

    def _values(self) -> dict:
        """The parameters, an unknown one as its current value (a 0-d tensor with gradient)."""
        return {k: unknown_parameters(self).value(k) if isinstance(v, Unknown) else v for k, v in self._params.items()}

    def conditions(self):
        return list(self._conditions)

    def exact(self, points):
        if self._exact is None:
            return None
        # an unknown parameter enters the exact solution with its true value (its current one if none is given)
        vals = {k: v.true if isinstance(v, Unknown) and v.true is not None else self._values()[k]
                for k, v in self._params.items()}
        out = self._exact(points, **vals)
        return out if out.ndim == 2 else out[:, None]

    def reference(self):
        return self._reference() if self._reference is not None else self._exact_reference()


def define(name: str, domain: AbstractDomain, residual: Callable, *, conditions: Sequence[AbstractCondition] = (),
           exact: Callable | None = None, fields: Sequence[str] = ("u",), params: dict | None = None,
           reference: Callable[[], Reference] | None = None) -> AbstractProblem:
    """Build a problem from functions.

    ``residual(d, **params)`` returns the PDE residual; ``exact(points, **params)``
    returns ``(N,)`` or ``(N, m)``; ``reference()`` (optional) returns a :class:`Reference`.
    """
    if not callable(residual):
        raise TypeError("residual must be callable as residual(d, **params)")
    return _FunctionProblem(name, domain, residual, conditions, exact, fields, params or {}, reference)

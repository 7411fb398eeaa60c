"""Hard constraints as model wrappers: ``output = transform(points, model(points))``.

A transform is a callable ``transform(points, raw) -> (N, m)`` with ``points`` ``(N, d)``
and ``raw`` ``(N, m)`` the wrapped model's output, e.g. for ``u(x, 0) = u0(x)``::

    lambda p, raw: u0(p[:, :1]) + p[:, 1:2] * raw

Callables cannot be serialised, so an :class:`OutputTransform` records where its transform
came from and :func:`~pde.models.from_architecture` gets it back:

``source="problem"``  the problem's ``output_transform(points, raw)`` method, satisfying the conditions named
                      in its ``hard_satisfies`` (see :meth:`OutputTransform.from_problem`);
                      rebuilding needs ``from_architecture(arch, problem=...)``.
``source="builtin"``  a named transform of :data:`TRANSFORMS` with JSON-able options.
``source="callable"`` any other callable; such a model cannot be described by ``architecture()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .base import AbstractPINN, ExactBuffers, _box, from_architecture, register_model

__all__ = ["OutputTransform", "ZeroOnBoxBoundary", "TRANSFORMS"]


class ZeroOnBoxBoundary(ExactBuffers):
    """``out = raw * prod_c (x_c - a_c)(b_c - x_c) * 4 / (b_c - a_c)^2`` over coordinates ``coords``
    (default: all but ``t``), where ``[a_c, b_c]`` are the domain bounds: exactly zero on those faces
    of the bounding box (a homogeneous Dirichlet condition on a box), of order one inside.
    """

    def __init__(self, coords: Sequence[str] | None = None):
        super().__init__()
        self.coords = None if coords is None else tuple(coords)

    def options(self) -> dict[str, Any]:
        return {"coords": None if self.coords is None else list(self.coords)}

    def build(self, names, lower, upper) -> None:
        coords = self.coords if self.coords is not None else tuple(c for c in names if c != "t")
        for c in coords:
            if c not in names:
                raise ValueError(f"ZeroOnBoxBoundary coordinate {c!r} is not one of {', '.join(names)}")
        d = len(names)
        for j, c in enumerate(coords):
            i = names.index(c)
            row = torch.zeros(1, d, dtype=torch.float64)
            row[0, i] = 1.0
            self.exact_buffer(f"select{j}", row)
        # python floats keep the constants exact in every dtype; the forward only adds and multiplies
        self.factors = [(-lower[names.index(c)], -upper[names.index(c)],
                         -4.0 / (upper[names.index(c)] - lower[names.index(c)]) ** 2) for c in coords]

    def forward(self, points: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        out = raw
        for j, (minus_a, minus_b, c) in enumerate(self.factors):
            s = F.linear(points, getattr(self, f"select{j}"))
            out = out * ((s + minus_a) * (s + minus_b) * c)
        return out


#: Built-in transforms usable without a problem: name -> class taking JSON-able options.
TRANSFORMS: dict[str, type[nn.Module]] = {"zero_on_box_boundary": ZeroOnBoxBoundary}


@register_model("output_transform", wrapper=True)
class OutputTransform(AbstractPINN):
    """``output(points) = transform(points, model(points))``, shapes ``(N, d) -> (N, m)``.

    ``transform``: a callable ``(points, raw) -> (N, m)`` or the name of a built-in transform
    (:data:`TRANSFORMS`, configured by ``options``). ``satisfies``: names of the conditions the
    transform enforces exactly (added to the wrapped model's own). ``name``: a label for it.
    Building builds the wrapped model for the same domain.
    """

    def __init__(self, model: AbstractPINN, transform: Callable | str, satisfies: Sequence[str] = (),
                 name: str | None = None, options: dict | None = None):
        super().__init__()
        if not isinstance(model, AbstractPINN):
            raise TypeError(f"OutputTransform wraps a pde model (AbstractPINN), got {type(model).__name__}")
        self.model = model
        if isinstance(transform, str):
            if transform not in TRANSFORMS:
                raise ValueError(f"unknown built-in transform {transform!r}; allowed: {', '.join(TRANSFORMS)}")
            self.source, self.transform_name = "builtin", transform
            self.transform = TRANSFORMS[transform](**(options or {}))
        elif callable(transform):
            if options:
                raise ValueError("options are only for built-in transforms given by name")
            self.source, self.transform_name = "callable", None
            self.transform = transform
        else:
            raise TypeError(f"transform must be a callable (points, raw) -> output or a built-in name, "
                            f"got {transform!r}")
        self.own_satisfies = tuple(satisfies)
        self.name = name or self.transform_name or getattr(transform, "__name__", "transform")
        self.problem_name: str | None = None

    @classmethod
    def from_problem(cls, model: AbstractPINN, problem, satisfies: Sequence[str] | None = None,
                     name: str | None = None) -> OutputTransform:
        """Wrap ``model`` with the problem's hard constraint.

        The problem defines ``output_transform(points, raw) -> (N, m)`` and names the conditions
        it satisfies in ``hard_satisfies``. An explicit ``satisfies`` argument wins.
        """
        fn = getattr(problem, "output_transform", None)
        if fn is None:
            raise ValueError(f"problem {getattr(problem, 'name', type(problem).__name__)!r} has no "
                             "output_transform(points, raw) method")
        sat = tuple(getattr(problem, "hard_satisfies", ()))
        out = cls(model, fn, satisfies=sat if satisfies is None else satisfies,
                  name=name or f"{getattr(problem, 'name', 'problem')}.output_transform")
        out.source = "problem"
        out.problem_name = getattr(problem, "name", None)
        return out

    @property
    def satisfies(self) -> tuple[str, ...]:
        inner = tuple(self.model.satisfies)
        return inner + tuple(s for s in self.own_satisfies if s not in inner)

    def _build(self, names, lower, upper, n_fields):
        self.model.build(_box({"names": names, "lower": lower, "upper": upper}), n_fields)
        if self.source == "builtin":
            self.transform.build(names, lower, upper)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, d) -> (N, n_fields)``."""
        if self._dims is None:
            self._check_built()
        return self.transform(x, self.model(x))

    def options(self):
        return {"source": self.source, "name": self.name, "satisfies": list(self.own_satisfies)}

    def architecture(self) -> dict[str, Any]:
        """As :meth:`AbstractPINN.architecture` plus ``source``, ``name``, ``satisfies`` and ``inner``."""
        if self.source == "callable":
            raise ValueError(f"OutputTransform {self.name!r} wraps a plain callable, which cannot be serialised; "
                             "use OutputTransform.from_problem(model, problem) or a built-in transform "
                             f"({', '.join(TRANSFORMS)})")
        arch = super().architecture()
        arch.pop("options")
        arch.update(source=self.source, name=self.name, satisfies=list(self.own_satisfies),
                    inner=self.model.architecture())
        if self.source == "builtin":
            arch.update(transform=self.transform_name, transform_options=self.transform.options())
        else:
            arch["problem"] = self.problem_name
        return arch

    @classmethod
    def _from_architecture(cls, arch, problem=None):
        inner = from_architecture(arch["inner"], problem)
        source = arch.get("source")
        if source == "problem":
            if problem is None:
                raise ValueError(f"this model's output transform came from problem {arch.get('problem')!r}; "
                                 "pass problem=... to from_architecture to rebuild it")
            out = cls.from_problem(inner, problem, satisfies=arch.get("satisfies"), name=arch.get("name"))
        elif source == "builtin":
            out = cls(inner, arch["transform"], satisfies=arch.get("satisfies", ()), name=arch.get("name"),
                      options=arch.get("transform_options"))
        else:
            raise ValueError(f"unknown OutputTransform source {source!r}; allowed: problem, builtin")
        return out.build(_box(arch), arch["n_fields"])

    def extra_repr(self) -> str:
        return f"source={self.source!r}, name={self.name!r}, satisfies={self.satisfies}"

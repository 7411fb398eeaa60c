"""Exact initial and Dirichlet conditions built from a problem's own condition objects.

:class:`HardConditions` wraps a model so that chosen :class:`~pde.conditions.Initial` and
:class:`~pde.conditions.Dirichlet` conditions hold exactly, whatever the network outputs. It is what the
generic recipe (:mod:`pde.recipe`) uses for a user's problem that defines no ``output_transform`` of its own.
For a field ``f`` (output column ``j``), with ``raw`` the wrapped model's output, ``s = (t - t0) / (t1 - t0)``
on a :class:`~pde.domain.SpaceTime` and the box bubble over the space coordinates
``D(x) = prod_c 4 (x_c - a_c)(b_c - x_c) / (b_c - a_c)^2`` (zero on every face of the bounding box, one at its
centre)::

    initial value u0 ("ic") only             f = u0(x) + s raw
    u0 and initial rate g1 ("ic_t")          f = u0(x) + (t - t0) g1(x) + s^2 raw
    u0 and Dirichlet g on all faces          f = u0(x) + g(x, t) - g(x, t0) + s D(x) raw
    u0 (and g1) and g = 0 on all faces       f = u0(x) [+ (t - t0) g1(x)] + s^k D(x) raw     (k = 1 or 2)
    steady: Dirichlet g on all faces         f = g(x) + D(x) raw

``u0(x)`` and ``g1(x)`` are the conditions' values at the points moved to ``t = t0``; a Dirichlet value ``g`` is
evaluated inside the domain too (its formula extends the boundary values inward). The third line satisfies the
boundary condition only when the data are compatible (``u0 = g(., t0)`` on the boundary), the fourth only when
``u0`` (and ``g1``) vanish there: :mod:`pde.recipe` checks that before it asks for them. Forward passes use only
indexing, ``cat``, ``linear``, ``+`` and ``*`` besides the conditions' own value functions, so every derivative
engine differentiates through the constraint.

The architecture records the conditions by name; :func:`~pde.models.from_architecture` needs the problem
(``problem=...``) to get their values back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..conditions import Dirichlet, Initial
from ..domain import SpaceTime
from .base import AbstractPINN, _box, from_architecture, register_model
from .transforms import ZeroOnBoxBoundary

__all__ = ["HardConditions"]


def _field_value(value, points: torch.Tensor) -> torch.Tensor | float:
    """A condition value at ``points`` ``(N, d)`` as ``(N, 1)``, or a plain float for a constant."""
    if not callable(value):
        return float(value)
    out = value(points)
    return out[:, None] if out.ndim == 1 else out


@register_model("hard_conditions", wrapper=True)
class HardConditions(AbstractPINN):
    """``output = lift(points) + factor(points) * model(points)``, ``(N, d) -> (N, m)`` (see module doc).

    ``problem``: the problem whose conditions are enforced. ``initial``: field -> names of its
    :class:`~pde.conditions.Initial` conditions (order 0, optionally order 1). ``dirichlet``: field -> name of a
    :class:`~pde.conditions.Dirichlet` condition covering the whole boundary of a box (or the box's space part);
    ``zero_dirichlet``: field -> name of such a condition whose value is zero, enforced by the bubble factor alone
    (the form used with an initial rate). ``periodic``: names of :class:`~pde.conditions.Periodic` conditions the
    wrapped model satisfies through its periodic embedding (added to ``satisfies``).
    """

    def __init__(self, model: AbstractPINN, problem, initial: Mapping[str, Sequence[str]] | None = None,
                 dirichlet: Mapping[str, str] | None = None, zero_dirichlet: Mapping[str, str] | None = None,
                 periodic: Sequence[str] = ()):
        super().__init__()
        if not isinstance(model, AbstractPINN):
            raise TypeError(f"HardConditions wraps a pde model (AbstractPINN), got {type(model).__name__}")
        self.model = model
        self.initial = {str(f): tuple(v) for f, v in (initial or {}).items()}
        self.dirichlet = {str(f): str(v) for f, v in (dirichlet or {}).items()}
        self.zero_dirichlet = {str(f): str(v) for f, v in (zero_dirichlet or {}).items()}
        self.periodic = tuple(periodic)
        self.problem_name = getattr(problem, "name", None)
        self._resolve(problem)

    def _resolve(self, problem) -> None:
        """Look the conditions up by name and check each is of the kind its role needs."""
        fields = list(problem.fields)
        by_name = {c.name: c for c in problem.conditions()}
        domain = problem.domain
        self._time = isinstance(domain, SpaceTime)
        if self.initial and not self._time:
            raise ValueError("hard initial conditions need a space-time domain")
        self._rate: dict[str, Initial] = {}
        self._ic: dict[str, Initial] = {}
        self._bc: dict[str, Dirichlet] = {}
        self._zero: dict[str, Dirichlet] = {}
        for f in set(self.initial) | set(self.dirichlet) | set(self.zero_dirichlet):
            if f not in fields:
                raise ValueError(f"HardConditions: {f!r} is not a field of problem {self.problem_name!r} "
                                 f"(fields: {', '.join(fields)})")
        for f, names in self.initial.items():
            for nm in names:
                c = by_name.get(nm)
                if not isinstance(c, Initial) or c.field != f or c.order not in (0, 1):
                    raise ValueError(f"HardConditions: {nm!r} is not an order-0 or order-1 Initial condition on "
                                     f"field {f!r} of problem {self.problem_name!r}")
                (self._ic if c.order == 0 else self._rate)[f] = c
            if f not in self._ic:
                raise ValueError(f"HardConditions: field {f!r} has an initial rate but no initial value")
        for f, nm in [*self.dirichlet.items(), *self.zero_dirichlet.items()]:
            c = by_name.get(nm)
            if not isinstance(c, Dirichlet) or c.field != f:
                raise ValueError(f"HardConditions: {nm!r} is not a Dirichlet condition on field {f!r} of problem "
                                 f"{self.problem_name!r}")
            if f in self.zero_dirichlet:
                if f in self.dirichlet:
                    raise ValueError(f"HardConditions: field {f!r} is in both dirichlet and zero_dirichlet")
                self._zero[f] = c
                continue
            if f in self._rate:
                raise ValueError(f"HardConditions: field {f!r} has an initial rate; its Dirichlet value can only be "
                                 "enforced as zero (zero_dirichlet)")
            self._bc[f] = c
        self._fields = fields
        self._space = list(domain.space.names) if self._time else list(domain.names)

    @property
    def satisfies(self) -> tuple[str, ...]:
        own = [c.name for c in (*self._ic.values(), *self._rate.values(), *self._bc.values(), *self._zero.values())]
        inner = tuple(self.model.satisfies)
        return inner + tuple(s for s in [*own, *self.periodic] if s not in inner)

    def _build(self, names, lower, upper, n_fields):
        self.model.build(_box({"names": names, "lower": lower, "upper": upper}), n_fields)
        self.t0, self.t1 = (lower[-1], upper[-1]) if self._time else (0.0, 1.0)
        self.bubble = ZeroOnBoxBoundary(self._space)
        self.bubble.build(names, lower, upper)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, d) -> (N, n_fields)``."""
        if self._dims is None:
            self._check_built()
        raw = self.model(x)
        one = x[:, :1] * 0.0 + 1.0
        if self._time:
            tau = x[:, -1:] - self.t0
            s = tau * (1.0 / (self.t1 - self.t0))
            x0 = torch.cat([x[:, :-1], x[:, -1:] * 0.0 + self.t0], dim=1)
        bubble = self.bubble(x, one) if (self._bc or self._zero) else None
        cols = []
        for j, f in enumerate(self._fields):
            r = raw[:, j:j + 1]
            ic, rate, bc = self._ic.get(f), self._rate.get(f), self._bc.get(f)
            zero = f in self._zero
            if ic is None and bc is None and not zero:
                cols.append(r)
                continue
            lift: Any = 0.0
            factor = bubble if (bc is not None or zero) else one
            if ic is not None:
                lift = _field_value(ic.value, x0)
                factor = factor * s
                if rate is not None:
                    lift = lift + tau * _field_value(rate.value, x0)
                    factor = factor * s
                if bc is not None:
                    lift = lift + (_field_value(bc.value, x) - _field_value(bc.value, x0))
            elif bc is not None:
                lift = _field_value(bc.value, x)
            cols.append(lift + factor * r)
        return cols[0] if len(cols) == 1 else torch.cat(cols, dim=1)

    def options(self):
        return {"initial": {f: list(v) for f, v in self.initial.items()}, "dirichlet": dict(self.dirichlet),
                "zero_dirichlet": dict(self.zero_dirichlet), "periodic": list(self.periodic)}

    def architecture(self) -> dict[str, Any]:
        """As :meth:`AbstractPINN.architecture` plus ``problem`` (its name) and ``inner``."""
        arch = super().architecture()
        arch.update(problem=self.problem_name, inner=self.model.architecture())
        return arch

    @classmethod
    def _from_architecture(cls, arch, problem=None):
        if problem is None:
            raise ValueError(f"this model enforces conditions of problem {arch.get('problem')!r}; pass problem=... "
                             "to from_architecture to rebuild it")
        inner = from_architecture(arch["inner"], problem)
        return cls(inner, problem, **arch.get("options", {})).build(_box(arch), arch["n_fields"])

    def extra_repr(self) -> str:
        return f"satisfies={self.satisfies}"

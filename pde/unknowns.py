"""Unknown scalar parameters of a problem, learned jointly with the network (inverse problems).

A problem declares an unknown by giving a parameter an :class:`Unknown` value::

    @dataclass
    class Diffusion(AbstractProblem):
        kappa: float | Unknown = Unknown(init=0.5, positive=True, true=0.1)

        def residual(self, d):                 # u_t - kappa u_xx = 0, kappa learned
            return d("u", "t") - self.kappa * d("u", "x", "x")

Inside the problem, ``self.kappa`` is then a 0-d tensor with gradient (the transformed value of a raw
parameter), so the residual is written as for a known parameter and works with every derivative engine.
The raw parameters live in one :class:`UnknownParameters` module per problem instance
(:func:`unknown_parameters`); the trainer optimises them with the network and the run file stores them
as plain arrays (``/unknowns``, see ``docs/run-schema.md``).

Transforms (value from the raw parameter ``r``):

* none: ``value = r``;
* ``positive=True``: ``value = softplus(r)`` (``transform="exp"``: ``value = exp(r)``, learning in log space);
* ``bounds=(lo, hi)``: ``value = lo + (hi - lo) sigmoid(r)``, strictly inside the bounds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from dataclasses import dataclass

import torch

__all__ = ["Unknown", "UnknownParameters", "declared_unknowns", "unknown_parameters", "restore_params",
           "unknown_summary", "positive", "bounded", "true_values", "MARK"]

#: key marking a stored declaration in a problem's JSON parameters
MARK = "__unknown__"
TRANSFORMS = ("softplus", "exp")


@dataclass(frozen=True)
class Unknown:
    """An unknown scalar parameter.

    init: initial value. positive: learn it through a positivity transform (``transform``: ``softplus`` or
    ``exp``). bounds: ``(lo, hi)``, learned through a scaled sigmoid (strictly inside). lr: its own Adam
    learning rate (None: the network's). true: the true value, when known (reported with the relative error).
    """

    init: float
    positive: bool = False
    bounds: tuple[float, float] | None = None
    lr: float | None = None
    true: float | None = None
    transform: str = "softplus"

    def __post_init__(self):
        try:
            init = float(self.init)
        except (TypeError, ValueError):
            raise ValueError(f"unknown parameter init must be a number, got {self.init!r}") from None
        if not math.isfinite(init):
            raise ValueError(f"unknown parameter init must be finite, got {self.init}")
        object.__setattr__(self, "init", init)
        if self.transform not in TRANSFORMS:
            raise ValueError(f"unknown parameter transform must be one of {', '.join(TRANSFORMS)}, "
                             f"got {self.transform!r}")
        if self.bounds is not None:
            try:
                lo, hi = (float(v) for v in self.bounds)
            except (TypeError, ValueError):
                raise ValueError(f"unknown parameter bounds must be a pair (lo, hi), got {self.bounds!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"unknown parameter bounds must be finite with lo < hi, got {self.bounds!r}")
            if not lo < init < hi:
                raise ValueError(f"unknown parameter bounds ({lo:g}, {hi:g}) exclude its initial value {init:g}; "
                                 "the initial value must lie strictly inside")
            if self.positive:
                raise ValueError("an unknown parameter takes positive=True or bounds=(lo, hi), not both "
                                 "(bounds with lo >= 0 keep it positive)")
            object.__setattr__(self, "bounds", (lo, hi))
        if self.positive and init <= 0:
            raise ValueError(f"a positive unknown parameter needs init > 0, got {init:g}")
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"unknown parameter lr must be > 0, got {self.lr}")
        if self.true is not None:
            object.__setattr__(self, "true", float(self.true))

    # -- the transform ------------------------------------------------------------------------
    def raw_init(self) -> float:
        """The raw parameter whose transformed value is ``init``."""
        if self.bounds is not None:
            lo, hi = self.bounds
            s = (self.init - lo) / (hi - lo)
            return math.log(s / (1.0 - s))
        if self.positive:
            return math.log(self.init) if self.transform == "exp" else self.init + math.log(-math.expm1(-self.init))
        return self.init

    def value(self, raw: torch.Tensor) -> torch.Tensor:
        """The parameter's value from its raw tensor (same shape)."""
        if self.bounds is not None:
            lo, hi = self.bounds
            return lo + (hi - lo) * torch.sigmoid(raw)
        if self.positive:
            return torch.exp(raw) if self.transform == "exp" else torch.nn.functional.softplus(raw)
        return raw

    def describe(self) -> dict:
        return {"init": self.init, "positive": self.positive,
                "bounds": list(self.bounds) if self.bounds is not None else None, "lr": self.lr, "true": self.true,
                "transform": self.transform}

    def stored(self) -> dict:
        """The declaration as a JSON-able problem parameter (:func:`restore_params` turns it back)."""
        return {MARK: self.describe()}


def positive(raw: torch.Tensor) -> torch.Tensor:
    """Positivity transform for an unknown *field* (an extra model output): ``softplus(raw)``."""
    return torch.nn.functional.softplus(raw)


def bounded(raw: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Bounds transform for an unknown field: ``lo + (hi - lo) sigmoid(raw)``."""
    return lo + (hi - lo) * torch.sigmoid(raw)


class UnknownParameters(torch.nn.Module):
    """The raw parameters of a problem's unknowns (0-d tensors), by name; values through their transforms."""

    def __init__(self, declared: dict[str, Unknown]):
        super().__init__()
        self.declared = dict(declared)
        self._truth = 0  # > 0 inside true_values()
        self.raw = torch.nn.ParameterDict({n: torch.nn.Parameter(torch.tensor(u.raw_init()))
                                           for n, u in self.declared.items()})

    @property
    def names(self) -> list[str]:
        return list(self.declared)

    def value(self, name: str) -> torch.Tensor:
        """Value of unknown ``name``: a 0-d tensor with gradient."""
        return self.declared[name].value(self.raw[name])

    def read(self, name: str):
        """What the problem's attribute ``name`` reads: :meth:`value`, or inside :func:`true_values` the
        declared true value (a float; ``NotImplementedError`` when none is declared)."""
        if self._truth:
            true = self.declared[name].true
            if true is None:
                raise NotImplementedError(f"the reference needs the true value of the unknown parameter {name!r}; "
                                          f"declare it (Unknown(..., true=VALUE) or --set {name}.true=VALUE) or "
                                          "validate the run later with `pde validate RUN --reference FILE`")
            return true
        return self.value(name)

    def values(self) -> torch.Tensor:
        """All values ``(k,)`` in declaration order (no gradient)."""
        if not self.declared:
            return torch.zeros(0)
        return torch.stack([self.value(n).detach() for n in self.declared])

    def as_floats(self) -> dict[str, float]:
        """Values as floats (one host read)."""
        return dict(zip(self.names, self.values().double().cpu().tolist()))

    def param_groups(self, lr: float) -> list[dict]:
        """Adam parameter groups: one per own learning rate (the others at ``lr``)."""
        by_lr: dict[float, list] = {}
        for n, u in self.declared.items():
            by_lr.setdefault(float(u.lr if u.lr is not None else lr), []).append(self.raw[n])
        return [{"params": ps, "lr": r} for r, ps in by_lr.items()]

    def state(self) -> dict:
        """What the run file stores: raw tensors, values and declarations (plain arrays and JSON)."""
        return {"raw": {n: p.detach().cpu() for n, p in self.raw.items()}, "value": self.as_floats(),
                "declared": {n: u.describe() for n, u in self.declared.items()}}

    def load(self, state: dict) -> None:
        """Set the raw parameters from :meth:`state`'s dict (names must match)."""
        raw = state.get("raw") or {}
        if set(raw) != set(self.declared):
            raise ValueError(f"stored unknowns {sorted(raw)} do not match the problem's {sorted(self.declared)}")
        with torch.no_grad():
            for n, v in raw.items():
                self.raw[n].copy_(torch.as_tensor(v))


def _fields(problem) -> dict:
    if dataclasses.is_dataclass(problem):
        return {f.name: problem.__dict__.get(f.name) for f in dataclasses.fields(problem)}
    return dict(problem.__dict__.get("_params", {}))


def declared_unknowns(problem) -> dict[str, Unknown]:
    """The problem's unknowns, by name: parameters whose value is an :class:`Unknown`, and the entries of
    an optional ``unknowns()`` method (name -> Unknown). A name declared in both, or one that is also a field
    name, raises ``ValueError``."""
    out = {k: v for k, v in _fields(problem).items() if isinstance(v, Unknown)}
    extra = getattr(type(problem), "unknowns", None)
    if callable(extra):
        more = extra(problem) or {}
        for k, v in more.items():
            if not isinstance(v, Unknown):
                raise ValueError(f"unknowns() entry {k!r} must be an Unknown, got {type(v).__name__}")
            if k in out:
                raise ValueError(f"unknown parameter {k!r} is declared twice (as a parameter and in unknowns())")
            out[k] = v
    fields = set(getattr(problem, "fields", ()))
    clash = sorted(set(out) & fields)
    if clash:
        raise ValueError(f"unknown parameter name(s) {clash} are also field names of the problem; rename them")
    return out


def unknown_parameters(problem) -> UnknownParameters:
    """The problem instance's :class:`UnknownParameters` (made on first use; empty when nothing is unknown)."""
    mod = problem.__dict__.get("_unknown_parameters")
    if mod is None:
        mod = UnknownParameters(declared_unknowns(problem))
        problem.__dict__["_unknown_parameters"] = mod
    return mod


@contextlib.contextmanager
def true_values(problem):
    """Within the block the problem's unknown parameters read as their declared true values (floats)."""
    mod = unknown_parameters(problem)
    mod._truth += 1
    try:
        yield problem
    finally:
        mod._truth -= 1


def true_values_method(problem, method):
    """``method`` (a bound ``exact`` or ``reference``) run inside :func:`true_values` of ``problem``."""
    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        with true_values(problem):
            return method(*args, **kwargs)

    return wrapped


def restore_params(params: dict) -> dict:
    """Problem parameters as stored in a run's config, with stored declarations turned back into Unknowns."""
    out = {}
    for k, v in (params or {}).items():
        if isinstance(v, dict) and set(v) == {MARK}:
            d = dict(v[MARK])
            if d.get("bounds") is not None:
                d["bounds"] = tuple(d["bounds"])
            out[k] = Unknown(**d)
        else:
            out[k] = v
    return out


def unknown_summary(values: dict[str, float], declared: dict[str, dict]) -> tuple[dict, list[str]]:
    """Metrics ``param/NAME`` (and ``param/NAME/rel_error`` where a true value is declared) and one printable
    line per unknown: its identified value, true value and relative error."""
    metrics, lines = {}, []
    for n, v in values.items():
        metrics[f"param/{n}"] = float(v)
        true = (declared.get(n) or {}).get("true")
        if true is not None:
            err = abs(v - true) / abs(true) if true != 0 else abs(v - true)
            metrics[f"param/{n}/rel_error"] = float(err)
            lines.append(f"identified {n} = {v:.6g}  (true {true:.6g}, relative error {100 * err:.3g} %)")
        else:
            lines.append(f"identified {n} = {v:.6g}")
    return metrics, lines

"""The generic recipe: a model and training settings chosen from a problem's structure.

A problem of the library carries tuned defaults (``default_model``, ``default_settings``); a user's own problem
has none. :class:`GenericRecipe` looks at its domain and conditions and applies documented rules, so that such a
problem trains well on the first try. :func:`pde.solve` applies it by default (``recipe="auto"``) to a problem
with no defaults of its own when no model is given; ``recipe=None`` gives the plain :class:`~pde.training.Settings`
(the baseline), ``recipe="generic"`` forces it. The rules applied are stored in the run file's config
(``config["recipe"]["rules"]``), printed at the start and shown by ``pde show``.

Rules (measured on the generic suite, ``benchmarks/generic_suite.py``; numbers in BENCHMARKS.md, "Generic recipe"):

1. *Periodic embedding.* A :class:`~pde.conditions.Periodic` condition on a box coordinate ``c`` of length ``L``
   becomes the exact embedding ``[cos(2 pi x_c / L), sin(2 pi x_c / L)]`` (:class:`~pde.models.PeriodicEmbedding`):
   the condition then holds with every derivative and its loss term goes.
2. *Hard initial values.* An order-0 :class:`~pde.conditions.Initial` value (and an order-1 rate beside it) becomes
   the transform ``u = u0 + s raw`` (``u0 + (t - t0) g1 + s^2 raw``), :class:`~pde.models.HardConditions`.
3. *Hard Dirichlet values.* A :class:`~pde.conditions.Dirichlet` condition on the whole boundary of a box (no
   ``where``, no ``on``) becomes the bubble transform ``g + D(x) raw`` (steady) or its space-time form, when its
   value can be differentiated by torch and, with an initial value, the data agree on the boundary at ``t0``
   (checked at 256 points); otherwise it stays a loss term and the rule says why.
4. *Causal weighting* for a time-dependent residual (Wang, Sankaran, Perdikaris 2022): 32 slices, tolerance
   1 -> 10 -> 100. **Off by default** (``causal=True`` switches it on): measured on the suite under a 5-minute
   budget it kept the late slices' weights at zero (wave: rel. L2 23, Klein-Gordon 33, the loss stalled at its
   start value), so it is not applied until it is scaled to the residual's size.
5. *Gradient-norm balancing* (Wang, Teng, Perdikaris 2021) when two or more loss terms remain.
6. *Optimiser:* Adam 1e-3 with exponential decay for at most ``adam_steps`` steps, ended early by the plateau
   rule, then L-BFGS for at most ``lbfgs_steps`` iterations; a time budget (``time_budget``) splits over both.
7. *Points:* ``points_per_dim[d]`` interior collocation points for ``d`` coordinates (fixed, as L-BFGS needs),
   ``n_boundary`` / ``n_initial`` per condition.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from .conditions import Dirichlet, Initial, Periodic
from .domain import Box, SpaceTime

__all__ = ["GenericRecipe", "RecipePlan", "make_recipe", "RECIPES"]

#: probe points for the data checks of rules 3 (a fixed seed: the plan is a function of the problem)
_PROBE_POINTS, _PROBE_SEED = 256, 20261202


@dataclass
class RecipePlan:
    """What a recipe chose for one problem: an unbuilt ``model``, ``settings`` for :func:`pde.solve` (including
    ``n_interior``) and the ``rules`` applied, one sentence each."""

    name: str
    model: object
    settings: dict
    rules: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)

    def describe(self) -> dict:
        """JSON-able record for the run file: ``{"name", "options", "rules"}`` (``options``: the recipe's fields
        that differ from their defaults; the settings are in the config already)."""
        return {"name": self.name, "options": dict(self.options), "rules": list(self.rules)}


def _differentiable(value, points: torch.Tensor) -> bool:
    """Whether torch can differentiate ``value`` at ``points`` (a constant counts), probed once in float64."""
    if not callable(value):
        return True
    p = points.clone().requires_grad_(True)
    out = value(p)
    if not isinstance(out, torch.Tensor) or out.shape[0] != p.shape[0]:
        raise ValueError(f"a condition value must return a tensor with one row per point, got "
                         f"{type(out).__name__} {tuple(getattr(out, 'shape', ()))} for points {tuple(p.shape)}")
    if out.requires_grad:
        return True
    return bool(torch.all(out == out.reshape(-1)[0]))  # constant: nothing to differentiate


def _values(value, points: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        out = value(points) if callable(value) else torch.full_like(points[:, 0], float(value))
    return out.reshape(points.shape[0], -1)[:, 0].double()


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    scale = 1.0 + float(torch.maximum(a.abs().max(), b.abs().max()))
    return float((a - b).abs().max()) <= 1e-6 * scale


@dataclass
class GenericRecipe:
    """The rules of the module docstring, with their constants as fields.

    periodic_embedding, hard_initial, hard_dirichlet, causal: rules 1-4 on/off. balancing: rule 5
    (``"gradient_norm"`` or None). width, depth, activation: the MLP. adam_steps, lbfgs_steps, lr: rule 6.
    plateau_patience: Adam steps without 1 % progress that end Adam. points_per_dim: rule 7, interior points by
    number of coordinates (the last entry for more). Switching a rule off is how BENCHMARKS.md measures it:
    ``recipe="generic:causal=false"`` (see :func:`make_recipe`).
    """

    periodic_embedding: bool = True
    hard_initial: bool = True
    hard_dirichlet: bool = True

    width: int = 64
    depth: int = 4
    activation: str = "tanh"
    causal: bool = False
    balancing: str | None = "gradient_norm"
    adam_steps: int = 10000
    lbfgs_steps: int = 5000
    lr: float = 1e-3
    plateau_patience: int = 2000
    points_per_dim: tuple[int, ...] = (1000, 2000, 4000, 8000)
    n_boundary: int = 256
    n_initial: int = 256
    name: str = "generic"

    def plan(self, problem, scaling: str = "strong") -> RecipePlan:
        """Choose the model and settings for ``problem`` (an :class:`~pde.problem.AbstractProblem`), trained in
        ``scaling`` mode (``"weak"``: no balancing, which needs the global per-term gradients)."""
        from .models import MLP, HardConditions, PeriodicEmbedding

        domain = problem.domain
        conds = list(problem.conditions())
        rules: list[str] = []
        space = domain.space if isinstance(domain, SpaceTime) else domain
        periods = self._periods(space, conds, rules) if self.periodic_embedding else {}
        emb = [PeriodicEmbedding(periods)] if periods else None
        net = MLP(width=self.width, depth=self.depth, activation=self.activation, embedding=emb)
        rules.append(f"model: MLP {self.depth} x {self.width} {self.activation}, inputs normalised to [-1, 1]")
        initial = self._initial(domain, conds, rules) if self.hard_initial else {}
        dirichlet, zero = self._dirichlet(domain, space, conds, initial, rules, bool(periods)) \
            if self.hard_dirichlet else ({}, {})
        periodic_names = [c.name for c in conds if isinstance(c, Periodic) and c.coord in periods]
        if initial or dirichlet or zero or periodic_names:
            model = HardConditions(net, problem, initial=initial, dirichlet=dirichlet, zero_dirichlet=zero,
                                   periodic=periodic_names)
        else:
            model = net
        hard = set(periodic_names) | {n for v in initial.values() for n in v} | set(dirichlet.values()) \
            | set(zero.values())
        soft = [c.name for c in conds if c.name not in hard]
        settings = self._settings(problem, domain, soft, rules, scaling)
        changed = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                   if f.name != "name" and getattr(self, f.name) != f.default}
        return RecipePlan(self.name, model, settings, rules, changed)

    # -- rules ------------------------------------------------------------------------------------
    def _periods(self, space, conds, rules) -> dict[str, float]:
        periods: dict[str, float] = {}
        for c in conds:
            if not isinstance(c, Periodic):
                continue
            if not isinstance(space, Box) or c.coord not in space.names:
                rules.append(f"kept {c.name!r} as a loss term: periodicity in {c.coord!r} is not on a box coordinate")
                continue
            lo, hi = space.bounds
            i = list(space.names).index(c.coord)
            periods[c.coord] = hi[i] - lo[i]
            rules.append(f"periodic embedding in {c.coord} (period {periods[c.coord]:.6g}) satisfies {c.name!r}")
        return periods

    def _initial(self, domain, conds, rules) -> dict[str, list[str]]:
        if not isinstance(domain, SpaceTime):
            return {}
        probe = self._probe(domain.sample_initial)
        by_field: dict[str, dict[int, Initial]] = {}
        for c in conds:
            if isinstance(c, Initial) and c.where is None:
                by_field.setdefault(c.field, {})[c.order] = c
        out: dict[str, list[str]] = {}
        for f, orders in by_field.items():
            if 0 not in orders or set(orders) - {0, 1}:
                rules.append(f"kept the initial conditions of {f!r} as loss terms (orders {sorted(orders)}: the hard "
                             "transform takes a value and at most a first-order rate)")
                continue
            chosen = [orders[k] for k in sorted(orders)]
            bad = [c.name for c in chosen if not _differentiable(c.value, probe)]
            if bad:
                rules.append(f"kept {', '.join(map(repr, bad))} as loss terms: torch cannot differentiate the value")
                continue
            out[f] = [c.name for c in chosen]
            what = "value and rate" if 1 in orders else "value"
            rules.append(f"hard initial {what} of {f!r} from {', '.join(map(repr, out[f]))}")
        return out

    def _dirichlet(self, domain, space, conds, initial, rules, periodic):
        dirichlet: dict[str, str] = {}
        zero: dict[str, str] = {}
        by_field: dict[str, list[Dirichlet]] = {}
        for c in conds:
            if isinstance(c, Dirichlet):
                by_field.setdefault(c.field, []).append(c)
        for f, cs in by_field.items():
            c = cs[0]
            why = None
            if len(cs) > 1 or c.where is not None or c.on is not None:
                why = "it holds on a part of the boundary only"
            elif not isinstance(space, Box) or periodic:
                why = "the domain is not a box without periodic coordinates"
            if why is None:
                why, as_zero = self._check_dirichlet(domain, c, initial.get(f, []), conds)
            if why is not None:
                rules.append(f"kept {c.name!r} as a loss term: {why}")
                continue
            (zero if as_zero else dirichlet)[f] = c.name
            rules.append(f"hard Dirichlet value of {f!r} from {c.name!r}")
        return dirichlet, zero

    def _check_dirichlet(self, domain, c, ic_names, conds) -> tuple[str | None, bool]:
        """``(reason it cannot be hard or None, enforce as zero)`` for Dirichlet condition ``c``."""
        pts, _ = self._probe(domain.sample_boundary)
        if not _differentiable(c.value, pts):
            return "torch cannot differentiate its value", False
        inside = self._probe(domain.sample_interior)
        if not torch.isfinite(_values(c.value, inside)).all():
            return "its value is not finite inside the domain (the transform evaluates it there)", False
        if not ic_names:
            return (None, False) if not isinstance(domain, SpaceTime) else \
                ("the initial value is not enforced exactly", False)
        by_name = {k.name: k for k in conds}
        at_t0 = pts.clone()
        at_t0[:, -1] = domain.t0
        g0 = _values(c.value, at_t0)
        u0 = _values(by_name[ic_names[0]].value, at_t0)
        if not _close(u0, g0):
            return "the initial value and the boundary value disagree on the boundary at t0", False
        if len(ic_names) == 1:
            return None, False
        g1 = _values(by_name[ic_names[1]].value, at_t0)
        if not (_close(_values(c.value, pts), torch.zeros_like(g0)) and _close(g1, torch.zeros_like(g1))):
            return "with an initial rate only a zero boundary value with a zero rate on the boundary is exact", False
        return None, True

    def _probe(self, sampler):
        g = torch.Generator().manual_seed(_PROBE_SEED)
        return sampler(_PROBE_POINTS, generator=g, dtype=torch.float64)

    def _settings(self, problem, domain, soft, rules, scaling) -> dict:
        d = domain.dim
        n = self.points_per_dim[min(d, len(self.points_per_dim)) - 1]
        out = {"n_interior": n, "n_boundary": self.n_boundary, "n_initial": self.n_initial,
               "steps": self.adam_steps, "lbfgs_steps": self.lbfgs_steps, "lr": self.lr,
               "lr_schedule": "exponential", "plateau": {"patience": self.plateau_patience, "rel": 0.01}}
        rules.append(f"{n} fixed interior points, {self.n_boundary} per boundary and {self.n_initial} per initial "
                     "condition")
        if self.causal and isinstance(domain, SpaceTime):
            out["causal"] = {"eps": 1.0, "bins": 32, "eps_schedule": (1.0, 10.0, 100.0)}
            rules.append("causal weighting: 32 time slices, tolerance 1 -> 10 -> 100")
        n_terms = len(soft) + self._n_residuals(problem)
        if self.balancing and n_terms >= 2 and scaling == "weak":
            rules.append("no loss balancing: weak scaling has no global per-term gradients to balance with")
        elif self.balancing and n_terms >= 2:
            out["balancing"] = self.balancing
            rules.append(f"{self.balancing.replace('_', '-')} balancing of {n_terms} loss terms")
        rules.append(f"Adam lr {self.lr:g} (exponential decay) up to {self.adam_steps} steps, ended by a plateau of "
                     f"{self.plateau_patience} steps" + (f", then L-BFGS up to {self.lbfgs_steps} iterations"
                                                         if self.lbfgs_steps else ""))
        return out

    @staticmethod
    def _n_residuals(problem) -> int:
        """Number of residual loss terms (a dict residual has one per entry), from the trainer's recording pass."""
        from .training.losses import record_residual

        return len(record_residual(problem, problem.domain)[0])


#: recipes by name (``pde solve --recipe NAME``)
RECIPES = {"generic": GenericRecipe}


def _option(cls, key: str, text: str):
    """A recipe option from text, typed by the field's default (bool, int, float, str or None)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if key not in fields or key == "name":
        raise ValueError(f"unknown recipe option {key!r}; allowed: {', '.join(k for k in fields if k != 'name')}")
    default = fields[key].default
    low = text.strip().lower()
    if isinstance(default, bool):
        if low not in ("true", "false", "on", "off", "1", "0"):
            raise ValueError(f"recipe option {key}: expected true or false, got {text!r}")
        return low in ("true", "on", "1")
    if low in ("none", "off") and key == "balancing":
        return None
    if isinstance(default, tuple):  # points_per_dim=1000/2000/4000
        try:
            return tuple(int(v) for v in text.split("/"))
        except ValueError:
            raise ValueError(f"recipe option {key}: expected integers separated by '/', got {text!r}") from None
    try:
        return type(default)(text) if isinstance(default, (int, float)) else text
    except ValueError:
        raise ValueError(f"recipe option {key}: expected a {type(default).__name__}, got {text!r}") from None


def make_recipe(spec) -> GenericRecipe | None:
    """A recipe from a name (``"generic"``, or ``"generic:causal=false,lbfgs_steps=0"`` with options), an
    instance, or None / ``"none"`` (no recipe)."""
    if spec is None or spec == "none":
        return None
    if isinstance(spec, str):
        name, _, opts = spec.partition(":")
        if name not in RECIPES:
            raise ValueError(f"unknown recipe {spec!r}; allowed: auto, none, {', '.join(RECIPES)} (with options "
                             "as generic:NAME=VALUE,...)")
        kw = {}
        for item in filter(None, (o.strip() for o in opts.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise ValueError(f"recipe option {item!r}: expected NAME=VALUE")
            kw[key.strip()] = _option(RECIPES[name], key.strip(), value)
        return RECIPES[name](**kw)
    if not hasattr(spec, "plan"):
        raise TypeError(f"recipe must be a name, None or an object with plan(problem, scaling), got "
                        f"{type(spec).__name__}")
    return spec


def applies(problem, model) -> bool:
    """Whether ``recipe="auto"`` applies: no model given and the problem suggests no model, settings or
    hard transform of its own."""
    return model is None and problem.default_model() is None and not problem.default_settings() \
        and not hasattr(problem, "output_transform")

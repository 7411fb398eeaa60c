"""Loss terms of a PINN: PDE residual(s) and one term per condition.

``L = sum_k w_k * L_k`` with ``L_k = mean(r_k^2)`` for each residual and condition
``k``. With causal weighting (Wang, Sankaran & Perdikaris 2022, "Respecting causality
is all you need for training physics-informed neural networks") the PDE term is
instead ``(1/M) sum_i w_i L_i`` over ``M`` time slices, ``L_i`` the mean squared
residual in slice ``i`` and ``w_i = exp(-eps * sum_{j<i} L_j)`` (no gradient through
``w``), so later times are only fitted once earlier ones are. A system (several residuals) has one set of
weights, with ``L_j`` the slice loss summed over all its residuals, applied to each residual's term.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..conditions import AbstractCondition
from ..derivatives.base import AbstractDerivativeEngine, RecordingDerivatives
from ..problem import AbstractProblem

__all__ = ["CausalWeighting", "LossTerms"]


@dataclass
class CausalWeighting:
    """Causal weights over ``bins`` time slices with tolerance ``eps``.

    ``eps_schedule`` (optional, increasing): move to the next value once every
    weight exceeds ``delta`` (checked when the loop reads its progress values).
    """

    eps: float = 1.0
    bins: int = 32
    eps_schedule: tuple[float, ...] = ()
    delta: float = 0.99

    def __post_init__(self):
        if not self.eps > 0:
            raise ValueError(f"causal eps must be > 0, got {self.eps}")
        if int(self.bins) != self.bins or self.bins < 2:
            raise ValueError(f"causal bins must be an integer >= 2, got {self.bins}")
        self.bins = int(self.bins)
        self.eps_schedule = tuple(float(e) for e in self.eps_schedule)

    def slice_losses(self, res2: torch.Tensor, t: torch.Tensor, t0: float, t1: float,
                     deterministic: bool = False, all_reduce=None, world_size: int = 1) -> torch.Tensor:
        """Mean squared residual ``(bins,)`` in each time slice, from ``res2`` ``(N,)`` at times ``t`` ``(N,)``.

        ``deterministic``: slice sums as a one-hot ``(N, bins)`` matrix product instead of ``index_add_``
        (whose CUDA atomics add in varying order). ``all_reduce`` (in-place sum over ranks) and
        ``world_size``: ``res2`` is this rank's shard of the points; the slice losses are the global ones
        (slice sums and counts all-reduced), and the gradient is this rank's share scaled so that the mean of
        the ranks' gradients is the gradient of the global loss.
        """
        idx = ((t - t0) / (t1 - t0) * self.bins).long().clamp_(0, self.bins - 1)
        if deterministic:
            onehot = torch.nn.functional.one_hot(idx, self.bins).to(res2.dtype)
            sums, counts = res2 @ onehot, onehot.sum(0)
        else:
            sums = torch.zeros(self.bins, device=res2.device, dtype=res2.dtype).index_add_(0, idx, res2)
            counts = torch.zeros(self.bins, device=res2.device, dtype=res2.dtype).index_add_(
                0, idx, torch.ones_like(res2))
        if all_reduce is None:
            return sums / counts.clamp_min(1.0)
        total = all_reduce(torch.cat([sums.detach(), counts]))
        counts = total[self.bins:].clamp_min(1.0)
        share = sums / counts * world_size  # the gradient carrier: this rank's share of the global slice loss
        return share + (total[:self.bins] / counts - share).detach()

    def weights_from(self, slice_loss: torch.Tensor) -> torch.Tensor:
        """Causal weights ``(bins,)`` ``w_i = exp(-eps sum_{j<i} L_j)`` from slice losses ``L`` ``(bins,)``."""
        s = slice_loss.detach()
        return torch.exp(-self.eps * (torch.cumsum(s, 0) - s))

    def weighted(self, res2: torch.Tensor, t: torch.Tensor, t0: float, t1: float,
                 weights: torch.Tensor | None = None, deterministic: bool = False, all_reduce=None,
                 world_size: int = 1):
        """Causally weighted loss from per-point squared residuals ``res2`` ``(N,)`` at times ``t`` ``(N,)``.

        Returns ``(loss, weights (bins,))``. ``weights`` ``(bins,)`` (optional): use these instead of
        computing them (the L-BFGS phase holds them fixed). ``deterministic``, ``all_reduce``,
        ``world_size``: see :meth:`slice_losses`.
        """
        slice_loss = self.slice_losses(res2, t, t0, t1, deterministic, all_reduce, world_size)
        w = self.weights_from(slice_loss) if weights is None else weights.detach()
        return (w * slice_loss).mean(), w

    def advance(self, min_weight: float) -> bool:
        """Move to the next eps of the schedule if ``min_weight > delta``; True if it moved."""
        later = [e for e in self.eps_schedule if e > self.eps]
        if later and min_weight > self.delta:
            self.eps = later[0]
            return True
        return False

    def describe(self):
        return {"eps": self.eps, "bins": self.bins, "eps_schedule": list(self.eps_schedule), "delta": self.delta}


def _as_dict(res) -> dict[str, torch.Tensor]:
    if isinstance(res, dict):
        return res
    return {"pde": res}


def record_residual(problem, domain) -> tuple[dict[str, torch.Tensor], list]:
    """The problem's residual dict on 4 probe points of ``domain`` with a recording derivatives object, and the
    derivative requests it made (its names are the residual loss terms; the requests plan the engine's pass)."""
    pts = domain.sample_interior(4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    rec = RecordingDerivatives(pts, domain.names, problem.fields)
    return _as_dict(problem.residual(rec)), rec.requests


class LossTerms:
    """Evaluates every loss term of ``problem`` for ``model`` with ``engine``.

    ``conditions`` are the soft conditions kept (those a hard-constraint model
    does not already satisfy); ``weights`` maps term names to weights. ``reduction`` (optional): a
    callable mapping a term's per-point squared residuals ``(N,)`` to its scalar loss, instead of the
    mean (e.g. a robust loss ``lambda r2: torch.log1p(r2).mean()``), used for every term.
    """

    def __init__(self, problem: AbstractProblem, engine: AbstractDerivativeEngine,
                 conditions: list[AbstractCondition], weights: dict[str, float] | None = None,
                 causal: CausalWeighting | None = None, deterministic: bool = False, reduction=None):
        if reduction is not None and not callable(reduction):
            raise TypeError(f"reduction must be a callable (per-point squared residuals (N,) -> scalar), "
                            f"got {reduction!r}")
        if reduction is not None and causal is not None:
            raise ValueError("a custom loss reduction and causal weighting cannot be combined (causal weighting "
                             "reduces the PDE residual by time slices itself); pass causal=None or no reduction")
        self.reduction = reduction
        self.problem, self.engine, self.conditions = problem, engine, conditions
        self.deterministic = bool(deterministic)
        self.domain = problem.domain
        self.names, self.fields = self.domain.names, problem.fields
        self.causal = causal
        if causal is not None and not self.domain.time_dependent:
            raise ValueError(f"causal weighting needs a time-dependent problem; {problem.name!r} has no time")
        self._plans: dict[str, set] = {}
        #: ``(all_reduce, world_size)`` when the points are shards over ranks (set by the trainer's data parallelism)
        self.causal_reduce: tuple = (None, 1)
        self._weight_tensor = None
        self.residual_names = self._plan_residual()
        self.term_names = [f"pde/{n}" if len(self.residual_names) > 1 else "pde" for n in self.residual_names]
        self.term_names += [c.name for c in conditions]
        if len(set(self.term_names)) != len(self.term_names):
            raise ValueError(f"loss term names must be distinct, got {self.term_names}")
        weights = dict(weights or {})
        unknown = set(weights) - set(self.term_names)
        if unknown:
            raise ValueError(f"weights given for unknown loss terms {sorted(unknown)}; terms are {self.term_names}")
        for k, v in weights.items():
            if not v >= 0:
                raise ValueError(f"weight of {k!r} must be >= 0, got {v}")
        self.weights = [float(weights.get(n, c.weight if isinstance(c, AbstractCondition) else 1.0))
                        for n, c in zip(self.term_names, [None] * len(self.residual_names) + conditions)]

    def _plan_residual(self) -> list[str]:
        res, self._plans["pde"] = record_residual(self.problem, self.domain)
        for c in self.conditions:
            p, nrm = c.sample(self.domain, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
            rc = RecordingDerivatives(p, self.names, self.fields, nrm)
            c.residual(rc)
            self._plans[c.name] = rc.requests
        return list(res)

    def _reduce(self, r2: torch.Tensor, name: str) -> torch.Tensor:
        """The user's reduction of per-point squared residuals ``r2`` ``(N,)`` to the term's scalar loss."""
        return _check_scalar(self.reduction(r2), name)

    def pde_residual(self, model, points):
        """Residual dict at interior ``points`` ``(N, d)``: name -> ``(N,)`` or ``(N, k)``."""
        d = self.engine.derivatives(model, points, self.names, self.fields, requests=self._plans["pde"])
        return _as_dict(self.problem.residual(d))

    def squared_residual(self, model, points) -> torch.Tensor:
        """Per-point squared PDE residual ``(N,)`` summed over residuals and components (no graph kept)."""
        with torch.enable_grad():
            res = self.pde_residual(model, points)
            return _pointwise(res).detach()

    @property
    def weight_tensor(self) -> torch.Tensor | None:
        """The term weights ``(K,)`` the total uses (set by a loss weighting; None: :attr:`weights`)."""
        return self._weight_tensor

    @weight_tensor.setter
    def weight_tensor(self, w: torch.Tensor) -> None:
        if w.shape != (len(self.term_names),):
            raise ValueError(f"term weights must have shape ({len(self.term_names)},), got {tuple(w.shape)}")
        self._weight_tensor = w

    def term_losses(self, model, points, cond_points, point_weights=None, causal_weights=None) -> torch.Tensor:
        """The unweighted term losses ``(K,)``, with their graph (for gradient-based loss balancing)."""
        return self._evaluate(model, points, cond_points, point_weights, causal_weights)[0]

    def __call__(self, model, points, cond_points, point_weights=None, causal_weights=None):
        """Return ``(total_loss, term_losses (K,), per-point squared PDE residual (N,), causal weights or None)``.

        ``point_weights`` ``(N,)`` (optional, no gradient) multiply each point's squared residual in the
        PDE terms (the gate of causal R3); the returned per-point residual is the plain, unweighted one.
        Causal weights are ``(bins,)``: one set for the whole system, from the slice losses summed over all
        its residuals (``w_i = exp(-eps sum_{j<i} sum_r L_{r,j})``), applied to every residual;
        ``causal_weights`` (``(bins,)``, optional) are used instead of computing them.
        """
        stacked, pointwise, cw = self._evaluate(model, points, cond_points, point_weights, causal_weights)
        w = self._weight_tensor
        if w is None or w.device != stacked.device or w.dtype != stacked.dtype:
            w = self._weight_tensor = torch.tensor(self.weights, device=stacked.device, dtype=stacked.dtype)
        return (w * stacked).sum(), stacked.detach(), pointwise.detach(), cw

    def _evaluate(self, model, points, cond_points, point_weights, causal_weights):
        """``(term losses (K,) with graph, per-point squared PDE residual (N,), causal weights or None)``."""
        res = self.pde_residual(model, points)
        terms, slices, pointwise = [], [], None
        for name in self.residual_names:
            r = res[name]
            sq = _squared(r)
            pointwise = sq if pointwise is None else pointwise + sq
            r2 = sq if r.ndim == 1 else sq / r.shape[1]
            if point_weights is not None:
                r2 = r2 * point_weights
            if self.causal is not None:
                slices.append(self.causal.slice_losses(r2, points[:, -1], self.domain.t0, self.domain.t1,
                                                       self.deterministic, *self.causal_reduce))
            elif self.reduction is not None:
                terms.append(self._reduce(r2, name))
            else:
                terms.append(r2.mean())
        cw = None
        if self.causal is not None:
            # one set of weights for the whole system: from the slice losses summed over its residuals
            if causal_weights is None:
                cw = self.causal.weights_from(torch.stack(slices).sum(0))
            else:  # (bins,); an (R, bins) array of an older checkpoint: its first row
                cw = (causal_weights if causal_weights.ndim == 1 else causal_weights[0]).detach()
            terms.extend((cw * sl).mean() for sl in slices)
        for c, (p, nrm) in zip(self.conditions, cond_points):
            d = self.engine.derivatives(model, p, self.names, self.fields, normals=nrm, requests=self._plans[c.name])
            sq = c.residual(d).square()
            if self.reduction is not None:  # per point: the mean over components
                terms.append(self._reduce(sq.reshape(sq.shape[0], -1).mean(1), c.name))
            else:
                terms.append(sq.mean())
        return torch.stack(terms), pointwise, cw


def _check_scalar(value, name):
    if not (isinstance(value, torch.Tensor) and value.ndim == 0):
        raise ValueError(f"the loss reduction must return a scalar tensor, got "
                         f"{getattr(value, 'shape', type(value).__name__)} for term {name!r}")
    return value


def _squared(r: torch.Tensor) -> torch.Tensor:
    """Per-point squared residual ``(N,)``, summed over components."""
    return r.square() if r.ndim == 1 else r.square().sum(1)


def _pointwise(res: dict[str, torch.Tensor]) -> torch.Tensor:
    out = None
    for r in res.values():
        out = _squared(r) if out is None else out + _squared(r)
    return out

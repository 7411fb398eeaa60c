"""Data parallelism of the PINN trainer: what the loop asks of its communicator, in one place.

Two scaling modes (``scaling=``):

* ``"strong"``: every rank draws the global point sets a single process would draw from ``seed`` (the same
  generator on every rank), and evaluates the loss on its own contiguous shard of each set (interior points,
  each condition's points, the sampler's per-point weights). Every shard has the same size (the world size
  must divide each count), so the mean of the ranks' shard losses is the single-process loss and the mean of
  their gradients its gradient: the run reproduces the single-process run (to rounding).
* ``"weak"``: every rank draws its own points from its seed :func:`pde.distributed.rank_seed` ``(seed, rank)``;
  the loss is the mean of the ranks' losses (``world_size`` times the points of one process).

Per step, the gradients, the total loss and the term losses travel in one flat buffer and one all-reduce
(:meth:`DataParallel.reduce_step`), so every rank holds the same gradient and the same loss, and every
decision taken from them (L-BFGS line search, NaN guard) is the same on every rank. A sampler update in
strong mode sees the global per-point residual (one all-gather at update steps only).

Causal weighting in strong mode takes its time-slice losses from all-reduced slice sums and counts (one small
all-reduce per evaluation inside the loss), so its weights, and the causal schedule's decisions, are global.
A wall-clock ``time_budget`` is decided by rank 0's clock and shared (:meth:`DataParallel.past`, one small
all-reduce at Adam log steps and between L-BFGS pieces), so every rank ends a phase at the same step.
A loss weighting in strong mode computes its per-term gradients on the global point sets, which every rank
holds, so every rank gets the same weights without communication (the update costs each rank the full set).
Not supported with several ranks yet (refused with a ``ValueError``): causal weighting and loss balancing in
weak mode, and a custom reduction in strong mode.
"""

from __future__ import annotations

import time

import torch

from ..distributed import AbstractCommunicator, SingleProcess
from ..distributed import _flat_grads as flat_grads
from ..distributed import _scatter_grads as scatter_grads
from .weighting import FixedWeights

__all__ = ["DataParallel", "SCALING_MODES"]

SCALING_MODES = ("strong", "weak")


class DataParallel:
    """The trainer's view of its communicator ``comm`` in scaling mode ``scaling`` (see the module docstring)."""

    def __init__(self, comm: AbstractCommunicator | None = None, scaling: str = "strong"):
        if scaling not in SCALING_MODES:
            raise ValueError(f"scaling must be one of {', '.join(SCALING_MODES)}, got {scaling!r}")
        self.comm = comm if comm is not None else SingleProcess()
        self.scaling = scaling
        self.active = self.comm.world_size > 1
        self.sharded = self.active and scaling == "strong"

    def seed(self, seed: int) -> int:
        """The seed of this rank's point draws: ``seed`` (strong scaling, one process), else ``rank_seed``."""
        return int(seed) if self.scaling == "strong" else self.comm.rank_seed(seed)

    def rank_seeds(self, seed: int) -> list[int]:
        """Every rank's point seed (what the run file records)."""
        from ..distributed import rank_seed

        w = self.comm.world_size
        return [int(seed) if self.scaling == "strong" else rank_seed(seed, r, w) for r in range(w)]

    def check(self, trainer) -> None:
        """Refuse what several ranks cannot reproduce yet; check that the world size divides every point count."""
        if not self.active:
            return
        w = self.comm.world_size
        if trainer.causal is not None and not self.sharded:
            raise ValueError(f"causal weighting is not supported in weak scaling with {w} processes yet (its "
                             "time-slice losses are per rank); use scaling='strong'")
        if self.sharded:  # causal slice losses from all-reduced slice sums and counts
            trainer.losses.causal_reduce = (self.comm.all_reduce_sum, w)
        if not isinstance(trainer.weighting, FixedWeights) and not self.sharded:
            raise ValueError(f"loss weighting {type(trainer.weighting).__name__} is not supported in weak scaling "
                             f"with {w} processes yet (its gradient norms would be per rank); use fixed weights or "
                             "scaling='strong'")
        if self.sharded and trainer.losses.reduction is not None:
            raise ValueError(f"a custom loss reduction is not supported in strong scaling with {w} processes (the "
                             "mean of shard reductions is not the reduction of the whole set); use scaling='weak'")
        if self.sharded:
            counts = {"interior points (n_interior)": trainer.sampler.points().shape[0]}
            counts.update({f"points of condition {c.name!r}": p.shape[0]
                           for c, (p, _) in zip(trainer.conditions, trainer.cond_points)})
            for what, n in counts.items():
                if n % w:
                    raise ValueError(f"world size {w} does not divide the {n} {what}; use a multiple of {w} "
                                     "(strong scaling shards every point set evenly)")

    def past(self, deadline: float) -> bool:
        """Whether wall-clock ``deadline`` (``time.perf_counter``) has passed: this process's clock, or with
        several ranks rank 0's, shared by one all-reduce (a host read), so every rank decides the same."""
        late = time.perf_counter() >= deadline
        if not self.active:
            return late
        flag = torch.tensor([1.0 if late and self.comm.rank == 0 else 0.0], device=self.comm.device)
        return bool(self.comm.all_reduce_sum(flag)[0] > 0)

    def broadcast_parameters(self, params) -> None:
        """Start every rank from rank 0's weights."""
        if self.active:
            self.comm.broadcast_(params)

    def shard(self, points, cond_points, weights):
        """This rank's share of the interior points ``(N, d)``, of each condition's ``(points, normals)`` and of
        the per-point weights ``(N,)`` (strong scaling with several ranks; else unchanged)."""
        if not self.sharded:
            return points, cond_points, weights
        own = self.comm.shard(points.shape[0])
        cond = []
        for p, nrm in cond_points:
            sl = self.comm.shard(p.shape[0])
            cond.append((p[sl], None if nrm is None else nrm[sl]))
        return points[own], cond, None if weights is None else weights[own]

    def reduce_step(self, params, out):
        """After ``backward``: average the gradients of ``params`` and the loss values of ``out`` ``(total, terms,
        pointwise, cw)`` over the ranks in one all-reduce; returns ``out`` with the global total and terms."""
        if not self.active:
            return out
        total, terms, *rest = out
        flat = flat_grads(params)
        n = flat.numel()
        buf = torch.cat([flat, total.detach().reshape(1).to(flat.dtype), terms.detach().to(flat.dtype)])
        self.comm.all_reduce_sum(buf).div_(self.comm.world_size)
        scatter_grads(params, buf[:n])
        return (buf[n].to(total.dtype), buf[n + 1:].to(terms.dtype), *rest)

    def reduce_values(self, out):
        """The global total and terms of ``out`` (an evaluation without backward), one small all-reduce."""
        if not self.active:
            return out
        total, terms, *rest = out
        buf = torch.cat([total.detach().reshape(1), terms.detach().to(total.dtype)])
        self.comm.all_reduce_sum(buf).div_(self.comm.world_size)
        return (buf[0], buf[1:].to(terms.dtype), *rest)

    def global_pointwise(self, pointwise: torch.Tensor) -> torch.Tensor:
        """The per-point squared residual ``(N,)`` of the global interior set from this rank's shard ``(N/W,)``."""
        return self.comm.all_gather_cat(pointwise) if self.sharded else pointwise

    def describe(self, seed: int) -> dict:
        """What the run file records: world size, backend, scaling mode, every rank's point seed."""
        return {"world_size": self.comm.world_size, "backend": self.comm.backend or "none", "scaling": self.scaling,
                "rank_seeds": self.rank_seeds(seed)}

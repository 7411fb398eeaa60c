"""Optimiser phases: the strategies the training loop runs one after the other.

A phase owns its optimiser and runs the trainer from its current step to the phase's last step:

* :class:`AdamPhase`: Adam with a learning-rate schedule; one step per sampler draw, the loop's parts
  (:mod:`pde.training.callbacks`) around every step.
* :class:`LBFGSPhase`: L-BFGS on a fixed, deterministic objective (the sampler's points at the start of the
  phase, causal weights frozen at its start, a stochastic engine frozen), in chunks of ``log_every``
  iterations; torch's strong-Wolfe line search or :class:`~pde.training.lbfgs.DeviceLBFGS`.

``Trainer(..., phases=[AdamPhase(2000, lr=3e-3), LBFGSPhase(1000)])`` replaces the two phases that
:func:`default_phases` builds from :class:`~pde.training.trainer.Settings`. Each phase has ``state_dict()``
/ ``load_state_dict()``; the checkpoint stores the state of the latest phase started.
"""

from __future__ import annotations

import math

import torch

from .lbfgs import DeviceLBFGS

__all__ = ["AbstractPhase", "AdamPhase", "LBFGSPhase", "default_phases", "lr_factor", "LR_SCHEDULES",
           "LBFGS_LINE_SEARCHES"]

LR_SCHEDULES = ("constant", "exponential", "cosine", "linear")
#: ``line_search`` values: torch's strong Wolfe (host round trips) or :class:`DeviceLBFGS` (none)
LBFGS_LINE_SEARCHES = ("strong_wolfe", "device")


def lr_factor(schedule: str, decay: float, decay_steps: int, steps: int):
    """The learning-rate factor ``k -> lr_k / lr`` after ``k`` steps of a phase of ``steps`` steps.

    constant: 1; exponential: ``decay ** (k / decay_steps)``; cosine: from 1 to ``decay`` over ``steps``;
    linear: ``1 - k / steps`` (zero at the last step, the STDE paper's schedule).
    """
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {schedule!r}; allowed: {', '.join(LR_SCHEDULES)}")
    if schedule == "constant":
        return lambda k: 1.0
    if schedule == "exponential":
        return lambda k: decay ** (k / decay_steps)
    total = max(steps, 1)
    if schedule == "linear":
        return lambda k: max(0.0, 1.0 - k / total)
    return lambda k: decay + (1 - decay) * 0.5 * (1 + math.cos(math.pi * min(k, total) / total))


class AbstractPhase:
    """A stretch of ``steps`` optimiser steps (iterations) run by :meth:`run`.

    ``name`` is stored in the checkpoint with the phase's state. ``bind(trainer)`` builds the optimiser on the
    trainer's parameter groups (:meth:`~pde.training.trainer.Trainer.param_groups`); ``run(trainer, end)``
    advances ``trainer.step`` to ``end`` unless the run stops or diverges.
    """

    name = "phase"
    steps = 0

    def bind(self, trainer) -> None:
        """Build the optimiser for ``trainer`` (called once, before the first :meth:`run` or load)."""

    def run(self, trainer, end: int) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """``{"optimizer": ..., "scheduler": ... (optional), "extra": {...} (optional)}``."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""

    def describe(self) -> dict:
        return {"name": self.name, "steps": self.steps}


class AdamPhase(AbstractPhase):
    """Adam for ``steps`` steps at ``lr`` under the schedule ``lr * lr_factor(schedule, decay, decay_steps)``.

    ``fused``: torch's fused Adam (used with the compiled step). Per step: the parts' ``on_step_start``, the
    sampler's points, loss and gradient, the Adam and scheduler steps, ``on_step_end``, at log steps
    ``on_log`` (a True stops the run), then ``after_log``.
    """

    name = "adam"

    def __init__(self, steps: int, lr: float = 1e-3, schedule: str = "exponential", decay: float = 0.9,
                 decay_steps: int = 1000, fused: bool = False):
        if int(steps) != steps or steps < 0:
            raise ValueError(f"Adam steps must be an integer >= 0, got {steps}")
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be > 0, got {lr}")
        self.steps, self.lr, self.fused = int(steps), float(lr), bool(fused)
        self.schedule, self.decay, self.decay_steps = schedule, float(decay), int(decay_steps)
        self._factor = lr_factor(schedule, self.decay, self.decay_steps, self.steps)
        self.optimizer = self.scheduler = None

    def bind(self, trainer):
        self.optimizer = torch.optim.Adam(trainer.param_groups(self.lr), lr=self.lr,
                                          **({"fused": True} if self.fused else {}))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._factor)

    def run(self, trainer, end):
        if self.optimizer is None:
            self.bind(trainer)
        s = trainer.settings
        trainer.phase = self.name
        trainer.progress.start(self.name, trainer.step, end)
        trainer._last_cw = None
        opt = self.optimizer
        zero_grad = lambda: opt.zero_grad(set_to_none=True)  # noqa: E731
        while trainer.step < end:
            for cb in trainer.parts:
                cb.on_step_start(trainer, trainer.step)
            pts = trainer.sampler.points()
            total, terms, pointwise, cw = trainer._forward_backward(pts, zero_grad)
            opt.step()
            lr = self.scheduler.get_last_lr()[0]
            self.scheduler.step()
            trainer.step += 1
            trainer._last_cw = cw if cw is not None else trainer._last_cw
            trainer.last = (pts, total, terms, pointwise, lr)
            for cb in trainer.parts:
                cb.on_step_end(trainer, trainer.step)
            over = trainer._phase_over is not None  # a stopping rule ended the phase: log this step
            if (trainer.step % s.log_every == 0 or trainer.step == end or over) and trainer._log_parts():
                break
            for cb in trainer.parts:
                cb.after_log(trainer, trainer.step)
            if trainer._phase_over is not None:
                break
        trainer.last = None
        if trainer.status != "diverged":  # the rows buffered since the last log step (a diverged run stops at one)
            trainer._history_recorder.flush(trainer)

    def state_dict(self):
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state):
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scheduler"):
            self.scheduler.load_state_dict(state["scheduler"])

    def describe(self):
        return {"name": self.name, "steps": self.steps, "lr": self.lr, "schedule": self.schedule,
                "decay": self.decay, "decay_steps": self.decay_steps}


class LBFGSPhase(AbstractPhase):
    """L-BFGS for ``steps`` iterations with ``history`` curvature pairs and ``line_search``.

    ``"strong_wolfe"``: ``torch.optim.LBFGS`` (an iteration is one accepted step, one or more evaluations);
    ``"device"``: :class:`DeviceLBFGS` (an iteration is one evaluation, Armijo backtracking on the device).
    The objective is fixed for the phase: the interior points are the sampler's at its start, causal weights
    are computed once at its start (stop-grad weights recomputed per evaluation would make the value not the
    function whose gradient L-BFGS is given) and a stochastic engine is frozen. Runs in chunks of the
    trainer's ``log_every`` iterations; the parts are called once per chunk.
    """

    name = "lbfgs"

    def __init__(self, steps: int, history: int = 50, line_search: str = "strong_wolfe"):
        if int(steps) != steps or steps < 0:
            raise ValueError(f"L-BFGS steps must be an integer >= 0, got {steps}")
        if line_search not in LBFGS_LINE_SEARCHES:
            raise ValueError(f"unknown lbfgs_line_search {line_search!r}; allowed: {', '.join(LBFGS_LINE_SEARCHES)}")
        self.steps, self.history, self.line_search = int(steps), int(history), line_search
        self.optimizer = None
        self.causal_weights = None  # frozen for the phase (stored with the checkpoint)
        self.frozen_block = None  # the stochastic engine's frozen block of this phase (stored too)
        self._chunk = 1

    def bind(self, trainer):
        self._chunk = trainer.settings.log_every
        kw = dict(lr=1.0, max_iter=self._chunk, history_size=self.history, tolerance_grad=1e-12,
                  tolerance_change=1e-15)
        # torch's L-BFGS takes one parameter group: the model's and the unknowns' parameters together
        params = [p for group in trainer.param_groups(1.0) for p in group["params"]]
        if self.line_search == "device":
            self.optimizer = DeviceLBFGS(params, **kw)
        else:
            self.optimizer = torch.optim.LBFGS(params, line_search_fn="strong_wolfe", **kw)

    def run(self, trainer, end):
        from .trainer import frozen_engine

        if self.optimizer is None:
            self.bind(trainer)
        trainer.phase = self.name
        trainer.progress.start(self.name, trainer.step, end)
        pts = trainer.sampler.points()
        trainer._remember_good()
        def keep_block(index):
            self.frozen_block = index

        with frozen_engine(trainer.engine, trainer.device, self.frozen_block, keep_block) as rewind:
            if trainer.causal is not None and self.causal_weights is None:
                rewind()
                with torch.enable_grad():  # autograd derivatives need a graph (no_grad gave u_t = 0)
                    cw = trainer._loss(pts)[3]
                self.causal_weights = cw.detach().clone()
                rewind()

            def evaluate():
                rewind()
                out = trainer._loss(pts, self.causal_weights)
                rewind()
                return out

            def closure():  # the same loss and gradient on every rank (all-reduced), so the same decisions
                self.optimizer.zero_grad(set_to_none=True)
                out = evaluate()
                out[0].backward()
                return trainer.parallel.reduce_step(trainer.params, out)[0]

            self._loop(trainer, end, closure, evaluate)

    def _loop(self, trainer, end, closure, evaluate):
        on_device = isinstance(self.optimizer, DeviceLBFGS)
        first = self.optimizer.param_groups[0]["params"][0]
        while trainer.step < end:
            for cb in trainer.parts:  # per chunk of log_every iterations: on_step_start, on_log, after_log
                cb.on_step_start(trainer, trainer.step)
            chunk = min(self._chunk, end - trainer.step)
            # under a deadline (a time budget) the chunk runs in pieces of at most 10 iterations, the clock read
            # between them (splitting a torch L-BFGS step changes no iterate: its state carries over)
            piece = chunk if not math.isfinite(trainer.phase_deadline) else min(chunk, 10)
            ran = 0
            while ran < chunk:
                k = min(piece, chunk - ran)
                converged, done = self._iterate(closure, k, on_device, first)
                ran += k
                deadline = trainer.phase_deadline
                if converged or (math.isfinite(deadline) and trainer.parallel.past(deadline)):
                    break
            # a passed deadline ends the phase through the time budget's log hook (it words the message)
            chunk = ran
            trainer.step += chunk
            total, terms, _, _ = trainer.parallel.reduce_values(evaluate())
            trainer.last = (None, total, terms, None, float("nan"))
            if trainer._log_parts():  # history row, NaN guard, progress, the user's callbacks
                return
            if converged:  # gradient or change below tolerance
                trainer.progress.message(f"[lbfgs] converged after {done}")
                trainer.step = end
                break
            for cb in trainer.parts:  # the checkpointer
                cb.after_log(trainer, trainer.step)
            if trainer._phase_over is not None:
                break

    def _iterate(self, closure, k: int, on_device: bool, first) -> tuple[bool, str]:
        """``k`` L-BFGS iterations; ``(converged, what was done)``."""
        for group in self.optimizer.param_groups:
            group["max_iter"] = k
        if on_device:  # one host read per call: the optimizer's counters and converged flag
            self.optimizer.step(closure)
            info = self.optimizer.info()
            return info["converged"], f"{info['n_iter']} accepted steps ({info['func_evals']} evaluations)"
        # torch stops a step early on its evaluation cap too; that is not convergence, so the cap is set out of
        # reach (the strong-Wolfe search uses at most 25 evaluations per iteration)
        for group in self.optimizer.param_groups:
            group["max_eval"] = 26 * k
        state = self.optimizer.state[first]
        before = state.get("n_iter", 0)
        self.optimizer.step(closure)
        n_iter = state.get("n_iter", 0)
        return n_iter - before < k, f"{n_iter} iterations"

    def state_dict(self):
        out = {"optimizer": self.optimizer.state_dict(), "extra": {}}
        if self.causal_weights is not None:
            out["extra"]["lbfgs_causal_weights"] = self.causal_weights
        if self.frozen_block is not None:
            out["extra"]["lbfgs_frozen_block"] = int(self.frozen_block)
        return out

    def load_state_dict(self, state):
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("frozen_block") is not None:
            self.frozen_block = int(state["frozen_block"])

    def describe(self):
        return {"name": self.name, "steps": self.steps, "history": self.history, "line_search": self.line_search}


def default_phases(settings) -> list[AbstractPhase]:
    """Adam for ``settings.steps`` steps, then L-BFGS for ``settings.lbfgs_steps`` iterations."""
    return [AdamPhase(settings.steps, settings.lr, settings.lr_schedule, settings.lr_decay, settings.decay_steps,
                      fused=bool(settings.compile)),
            LBFGSPhase(settings.lbfgs_steps, settings.lbfgs_history, settings.lbfgs_line_search)]

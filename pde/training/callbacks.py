"""The training loop's own concerns as callback objects, and the interface a user's callback may follow.

The Adam loop of :class:`~pde.training.trainer.Trainer` is, per step::

    for cb in callbacks: cb.on_step_start(trainer, step)        # step = steps done so far
    points = sampler.points(); loss and gradient; Adam and scheduler step; trainer.step += 1
    for cb in callbacks: cb.on_step_end(trainer, trainer.step)  # trainer.last holds the step's values
    if log step: for cb in callbacks: stop = cb.on_log(trainer, trainer.step); stop at the first True
    for cb in callbacks: cb.after_log(trainer, trainer.step)    # checkpoints (also on non-log steps)

with ``on_train_start`` before the first step of ``run()`` and ``on_train_end`` at its end (both phases done,
``trainer.status`` final). The L-BFGS phase (``trainer.phase == "lbfgs"``) runs in chunks of ``log_every``
iterations and calls, per chunk, ``on_step_start``, then ``on_log`` (every chunk end is a log step;
``trainer.last`` holds the chunk's loss) and, unless it converged, ``after_log``; ``on_step_end`` is Adam's only.
The default list (built from :class:`~pde.training.trainer.Settings` by :func:`default_callbacks`) is
``[HistoryRecorder, SamplerUpdater, NaNGuard, (CausalSchedule,) ProgressDisplay, (ImbalanceWarning,)
Checkpointer]``, after
the trainer's loss weighting (:mod:`pde.training.weighting`, a part too, first in the list); the user's callbacks
are inserted before the :class:`Checkpointer`, so they run after the NaN guard with the history up to date.
Read device values (a host synchronisation) in ``on_log`` only: in the per-step hooks it costs one per step.

Every callback exposes ``state_dict()`` / ``load_state_dict()``; a non-empty state is stored in the
checkpoint and restored on resume (of the built-ins, only :class:`ImbalanceWarning` holds state a resume needs).
"""

from __future__ import annotations

import math
import time

__all__ = ["AbstractCallback", "HistoryRecorder", "NaNGuard", "Checkpointer", "SamplerUpdater", "CausalSchedule",
           "ProgressDisplay", "ImbalanceWarning", "FunctionCallback", "default_callbacks"]


class AbstractCallback:
    """A training-loop part; every hook is a no-op by default (override what you need).

    Hooks: ``on_train_start(trainer)``; ``on_step_start(trainer, step)`` before each Adam step (``step``:
    steps done so far) and before each L-BFGS chunk; ``on_step_end(trainer, step)`` after each Adam update
    (``trainer.last``: ``(points, total, terms, pointwise, lr)`` of that step, device tensors);
    ``on_log(trainer, step)`` at each log step, returning True stops the run; ``after_log(trainer, step)``
    at every Adam step and L-BFGS chunk after the log hooks; ``on_train_end(trainer)`` at the end of ``run()``.
    """

    def on_train_start(self, trainer) -> None:
        pass

    def on_phase_start(self, trainer, phase, end: int) -> None:
        """Before ``phase`` runs from ``trainer.step`` to step ``end`` (also when a resumed run re-enters it)."""

    def on_step_start(self, trainer, step: int) -> None:
        pass

    def on_step_end(self, trainer, step: int) -> None:
        pass

    def on_log(self, trainer, step: int) -> bool | None:
        return None

    def after_log(self, trainer, step: int) -> None:
        pass

    def on_train_end(self, trainer) -> None:
        pass

    def state_dict(self) -> dict:
        """What a resume needs to continue this callback exactly (empty: nothing)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""


class FunctionCallback(AbstractCallback):
    """A plain callable ``fn(trainer) -> bool | None`` called at each log step (True: stop the run)."""

    def __init__(self, fn):
        self.fn = fn

    def on_log(self, trainer, step):
        return self.fn(trainer) is True


class HistoryRecorder(AbstractCallback):
    """History rows: one row every ``history_every`` steps and at every log step.

    A row is ``(step, wall time, lr)`` on the host plus ``[total, *terms]`` kept on the device; the buffered
    rows move to ``trainer.history`` in one synchronisation (:meth:`Trainer._record`) at log steps, before
    checkpoints and at the end of the Adam phase (by the trainer, unless the run diverged).
    """

    def __init__(self, history_every: int, log_every: int, steps: int):
        self.history_every, self.log_every, self.steps = history_every, log_every, steps
        self.rows: list = []
        self.loss_rows: list = []

    def flush(self, trainer) -> None:
        trainer._record(self.rows, self.loss_rows)  # looked up on the instance (tests patch it)

    def on_step_end(self, trainer, step):
        _, total, terms, _, lr = trainer.last
        if (step % self.history_every == 0 or step % self.log_every == 0 or step == self.steps
                or getattr(trainer, "_phase_over", None) is not None):
            self.rows.append((step, time.perf_counter() - trainer._t_start, lr))
            self.loss_rows.append(trainer._row(total, terms))

    def on_log(self, trainer, step):
        if trainer.phase == "lbfgs":  # one row per chunk, buffered and read at once like Adam's
            _, total, terms, _, lr = trainer.last
            self.rows.append((step, time.perf_counter() - trainer._t_start, lr))
            self.loss_rows.append(trainer._row(total, terms))
        self.flush(trainer)
        return None


class SamplerUpdater(AbstractCallback):
    """Sampler updates (``sampler.wants_update``), condition-point redraws (``resample_every``) and sampler
    snapshots (``snapshot_every``; 0: only at the end, taken by the trainer)."""

    def __init__(self, resample_every: int, snapshot_every: int):
        self.resample_every, self.snapshot_every = resample_every, snapshot_every

    def on_step_end(self, trainer, step):
        pts, _, _, pointwise, _ = trainer.last
        if trainer.sampler.wants_update(step):
            trainer.sampler.update(step, pts, trainer.parallel.global_pointwise(pointwise))
            if trainer.sampler.needs_model:
                trainer.sampler.update_with_model(step, trainer.residual_fn)
        if self.resample_every and step % self.resample_every == 0:
            trainer.cond_points = [trainer._draw_condition(c) for c in trainer.conditions]
        if self.snapshot_every and step % self.snapshot_every == 0:
            trainer._snapshot()


class NaNGuard(AbstractCallback):
    """At each log step, stop the run if the loss (from before the step's update) or the weights (after it: a
    NaN/Inf gradient) are not finite, restoring the last good weights; otherwise remember these weights as good.
    The weights it keeps are the ones it checked."""

    def on_train_start(self, trainer):
        trainer._remember_good()

    def on_log(self, trainer, step):
        if trainer.phase == "lbfgs":  # the loss after the chunk, and the weights it was evaluated at
            if not math.isfinite(trainer.history["loss"][-1]) or not trainer._params_finite():
                trainer._diverged("the L-BFGS loss")
                return True
            trainer._remember_good()
            return None
        if not math.isfinite(trainer.history["loss"][-1]):
            trainer._diverged("the loss")
            return True
        if not trainer._params_finite():
            trainer._diverged("the weights (a NaN/Inf gradient)")
            return True
        trainer._remember_good()
        return None


class CausalSchedule(AbstractCallback):
    """The causal eps schedule (:class:`~pde.training.losses.CausalWeighting` ``eps_schedule``): at each Adam
    log step, read the smallest causal weight of the latest step (one host read) and move eps on once every
    weight exceeds ``delta``. ``trainer.causal_status`` keeps ``(smallest weight, eps it was reached with)``
    for the progress line. The eps itself is stored with the checkpoint (``trainer:causal``)."""

    def on_log(self, trainer, step):
        last_cw = trainer._last_cw
        if trainer.phase != "adam" or last_cw is None or trainer.causal is None:
            trainer.causal_status = None
            return None
        wmin = float(last_cw.min())
        trainer.causal_status = (wmin, trainer.causal.eps)
        trainer.causal.advance(wmin)
        return None


class ProgressDisplay(AbstractCallback):
    """The progress line at each log step (loss, terms, and with causal weighting the smallest weight and the
    eps it was reached with, from :class:`CausalSchedule`)."""

    def on_log(self, trainer, step):
        extra = ""
        status = getattr(trainer, "causal_status", None)
        if trainer.phase == "adam" and status is not None:
            extra = f"causal min w {status[0]:.2f} eps {status[1]:g}"
        trainer.progress.report(step, trainer.history["loss"][-1],
                                {k[5:]: trainer.history[k][-1] for k in trainer._term_keys()}, extra)
        return None


class ImbalanceWarning(AbstractCallback):
    """A warning when a condition's weighted loss and the PDE residual's are far apart.

    At each log step (only then: it reads the term losses the progress line reads, already on the host) it
    compares, for each condition term ``c`` (initial, boundary, data, ...), ``w_c L_c`` with the residual's
    ``sum_r w_r L_r`` (over the residual terms ``pde`` or ``pde/NAME``), ``w`` the weights in use (the history's
    ``weight/TERM`` with a varying weighting, else the fixed weights). When one is more than ``factor`` times the
    other at ``patience`` consecutive log steps it prints a line through the progress display (silenced by
    ``quiet``) and appends it to ``trainer.warnings`` (stored in the run file's ``warnings`` attribute), once per
    term and direction. It never touches the model or the loss: a run is the same with or without it.
    State (``state_dict``): the consecutive counts and the warnings given, so a resumed run neither repeats a
    warning nor loses a count.
    """

    def __init__(self, factor: float = 1e3, patience: int = 2):
        if not (isinstance(factor, (int, float)) and not isinstance(factor, bool) and 1 < factor < math.inf):
            raise ValueError(f"imbalance factor must be a finite number > 1, got {factor!r}")
        if isinstance(patience, bool) or int(patience) != patience or patience < 1:
            raise ValueError(f"imbalance patience must be an integer >= 1 (log steps), got {patience!r}")
        self.factor, self.patience = float(factor), int(patience)
        self.counts: dict[str, int] = {}  # "TERM:above" / "TERM:below" -> consecutive log steps so far
        self.warned: list[str] = []  # the keys warned about

    @staticmethod
    def _weights(trainer) -> list[float]:
        names = trainer.losses.term_names
        if trainer.weighting.varies:
            return [trainer.history[f"weight/{n}"][-1] for n in names]
        return list(trainer.losses.weights)

    def on_log(self, trainer, step):
        losses = trainer.losses
        n_res = len(losses.residual_names)
        if trainer.status != "running" or len(losses.term_names) == n_res:
            return None
        weighted = [w * trainer.history[f"loss/{n}"][-1] for n, w in zip(losses.term_names, self._weights(trainer))]
        residual = sum(weighted[:n_res])
        pde_names = ", ".join(f"'{n}'" for n in losses.term_names[:n_res])
        # with a varying weighting (balancing) on already, only a fixed weight on the term is left to try
        try_ = "try " + ("" if trainer.weighting.varies else "balancing=gradient_norm or ") + "a larger weight on"
        for name, cond in zip(losses.term_names[n_res:], weighted[n_res:]):
            for key, big, small in ((f"{name}:above", cond, residual), (f"{name}:below", residual, cond)):
                if not (math.isfinite(big) and math.isfinite(small) and big > 0 and big > self.factor * small):
                    self.counts.pop(key, None)
                    continue
                self.counts[key] = self.counts.get(key, 0) + 1
                if self.counts[key] < self.patience or key in self.warned:
                    continue
                ratio = f"{big / small:.1e}" if small > 0 else "inf"
                when = f"for {self.counts[key]} log steps (to step {step})"
                if key.endswith(":above"):
                    text = (f"warning: weighted loss term '{name}' ({big:.1e}) is {ratio} x the residual's "
                            f"({small:.1e}) {when}: the fit ignores the residual; {try_} {pde_names}")
                else:
                    text = (f"warning: the residual's weighted loss ({big:.1e}) is {ratio} x that of '{name}' "
                            f"({small:.1e}) {when}: the fit ignores '{name}'; {try_} '{name}'")
                self.warned.append(key)
                trainer.warnings.append(text)
                trainer.progress.message(text)
        return None

    def state_dict(self):
        return {"counts": dict(self.counts), "warned": list(self.warned)}

    def load_state_dict(self, state):
        self.counts = {str(k): int(v) for k, v in (state.get("counts") or {}).items()}
        self.warned = [str(k) for k in state.get("warned") or []]


class Checkpointer(AbstractCallback):
    """Run-file checkpoints through ``trainer.on_checkpoint``: at the start (step 0 of a new run), every
    ``checkpoint_every`` steps and every ``checkpoint_seconds`` of wall time; never of NaN weights."""

    def on_train_start(self, trainer):
        trainer._checkpoint()

    def after_log(self, trainer, step):
        if not trainer._checkpoint_due():
            return
        if trainer.phase == "lbfgs":  # after_log follows the NaN guard's check at every L-BFGS chunk
            trainer._checkpoint()
            return
        trainer._history_recorder.flush(trainer)
        if trainer._params_finite():  # never checkpoint NaN weights; the next log step stops the run
            trainer._checkpoint()


def default_callbacks(settings) -> list[AbstractCallback]:
    """The built-in parts, in loop order: the time budget (``time_budget``), history, sampler updates, NaN guard,
    the causal eps schedule (with causal weighting), the plateau rule (``plateau``), progress, the loss-imbalance
    warning (``imbalance_warning``), checkpoints."""
    from .stopping import Plateau, TimeBudget

    causal = [CausalSchedule()] if settings.causal is not None else []
    # the budget first (the history then keeps the row of the step that ends a phase), the plateau rule after
    # the history (it reads the latest row)
    budget = [TimeBudget(settings.time_budget)] if settings.time_budget is not None else []
    plateau = [] if settings.plateau is None else [Plateau(**({} if settings.plateau is True else settings.plateau))]
    factor = getattr(settings, "imbalance_warning", None)
    imbalance = [] if factor is None else [ImbalanceWarning(factor)]
    return [*budget, HistoryRecorder(settings.history_every, settings.log_every, settings.steps),
            SamplerUpdater(settings.resample_every, settings.snapshot_every),
            NaNGuard(), *causal, *plateau, ProgressDisplay(), *imbalance, Checkpointer()]

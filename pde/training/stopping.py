"""Stopping rules: end a phase by wall-clock budget or when the loss stops falling, and say what to try.

A stopping rule is a loop part (:class:`~pde.training.callbacks.AbstractCallback`) that calls
``trainer.end_phase(reason)``: the phase stops at the current step and the next phase starts there (the steps
it did not use are dropped, not handed on); after the last phase the run ends with status ``finished`` and the
reason in its message. Step counts stay upper bounds.

* :class:`TimeBudget` (``Settings.time_budget``, ``pde solve --time 10m``): ``seconds`` of training wall time
  (a resumed run continues the same budget), split over the phases in proportion to their nominal cost
  (``steps x cost``, an L-BFGS iteration counted as 1.25 Adam steps: its line search evaluates the loss about
  that often). A phase's deadline is the run's start plus its cumulative share, so time a phase leaves unused
  goes to the next ones. Checked after every Adam step (a host clock read, no device synchronisation) and
  every 10 L-BFGS iterations (``trainer.phase_deadline``); with several processes rank 0's clock decides, shared
  at Adam log steps and between L-BFGS pieces, so every rank ends a phase at the same step.
* :class:`Plateau` (``Settings.plateau``): at log steps of the phases it watches (Adam by default), the phase
  ends when the loss has not fallen below ``(1 - rel)`` times its best for ``patience`` steps; the message
  names the loss, the largest term and what to try for that term.
"""

from __future__ import annotations

import math
import time

from .callbacks import AbstractCallback

__all__ = ["AbstractStoppingRule", "TimeBudget", "Plateau", "parse_duration", "advice_for"]

#: relative cost of one iteration of each phase, for splitting a time budget
PHASE_COST = {"adam": 1.0, "lbfgs": 1.25}


def parse_duration(text) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"10m"``, ``"1.5h"`` or a number (> 0)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        s = str(text).strip().lower()
        unit = {"s": 1.0, "m": 60.0, "h": 3600.0}.get(s[-1:], None)
        try:
            value = float(s[:-1] if unit else s) * (unit or 1.0)
        except ValueError:
            raise ValueError(f"time budget {text!r}: expected seconds or a number with s, m or h "
                             "(e.g. 90s, 10m, 1.5h)") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"time budget must be > 0, got {text!r}")
    return value


class AbstractStoppingRule(AbstractCallback):
    """A part that ends phases early through ``trainer.end_phase(reason)``."""


class TimeBudget(AbstractStoppingRule):
    """End each phase at its share of ``seconds`` of wall time (see the module docstring)."""

    def __init__(self, seconds: float):
        self.seconds = parse_duration(seconds)
        self._deadline = math.inf

    def on_phase_start(self, trainer, phase, end):
        costs = [p.steps * PHASE_COST.get(p.name, 1.0) for p in trainer.phases]
        total = sum(costs) or 1.0
        upto = sum(costs[:trainer.phases.index(phase) + 1])
        self._deadline = trainer._t_start + self.seconds * upto / total
        trainer.phase_deadline = self._deadline  # the L-BFGS phase reads the clock between short pieces

    def _check(self, trainer):
        if trainer.parallel.past(self._deadline):
            spent = time.perf_counter() - trainer._t_start
            trainer.end_phase(f"time budget: the {trainer.phase} phase ended at step {trainer.step} after "
                              f"{spent:.0f} s of {self.seconds:.0f} s")

    def on_step_end(self, trainer, step):
        if not trainer.parallel.active:  # one process: the host clock, every step (no device synchronisation)
            self._check(trainer)

    def on_log(self, trainer, step):
        if trainer.phase != "adam" or trainer.parallel.active:  # L-BFGS chunks; several ranks: at log steps
            self._check(trainer)
        return None


def advice_for(term: str) -> str:
    """What a user can try when the loss term ``term`` stays high."""
    if term == "pde" or term.startswith("pde/"):
        return ("more collocation points (n_interior=...), a wider or deeper network (model.width=, model.depth=), "
                "causal weighting for a time-dependent problem (causal={\"eps\": 1.0}), an adaptive sampler "
                "(--sampler rad), or balancing=gradient_norm")
    return (f"a hard constraint for it (--hard on, where the problem has one), balancing=gradient_norm, or a "
            f"larger weight (weights={{\"{term}\": 10}})")


class Plateau(AbstractStoppingRule):
    """End a watched phase when the loss has not improved by ``rel`` for ``patience`` steps.

    ``phases``: names of the phases watched (default Adam only: L-BFGS stops on its own tolerances).
    ``best``, ``best_step`` (per phase) are in the checkpoint.
    """

    def __init__(self, patience: int = 2000, rel: float = 0.01, phases=("adam",)):
        if int(patience) != patience or patience < 1:
            raise ValueError(f"plateau patience must be an integer >= 1, got {patience!r}")
        if not 0 <= rel < 1:
            raise ValueError(f"plateau rel must lie in [0, 1), got {rel!r}")
        self.patience, self.rel, self.phases = int(patience), float(rel), tuple(phases)
        self.best, self.best_step, self._phase = math.inf, 0, -1

    def on_phase_start(self, trainer, phase, end):
        index = trainer.phases.index(phase)
        if index != self._phase:  # a new phase (a resumed one keeps its record)
            self.best, self.best_step, self._phase = math.inf, trainer.step, index

    def on_log(self, trainer, step):
        if trainer.phase not in self.phases or not trainer.history["loss"]:
            return None
        loss = trainer.history["loss"][-1]
        if loss < self.best * (1 - self.rel):
            self.best, self.best_step = loss, step
            return None
        if step - self.best_step >= self.patience:
            terms = {k[5:]: trainer.history[k][-1] for k in trainer._term_keys()}
            worst = max(terms, key=terms.get) if terms else "pde"
            trainer.end_phase(f"plateau: loss {loss:.2e} ({worst} {terms.get(worst, loss):.2e}) did not fall by "
                              f"{self.rel:.0%} for {step - self.best_step} steps ({trainer.phase}); try "
                              f"{advice_for(worst)}")
        return None

    def state_dict(self):
        return {"best": self.best, "best_step": self.best_step, "phase": self._phase}

    def load_state_dict(self, state):
        self.best, self.best_step = float(state["best"]), int(state["best_step"])
        self._phase = int(state["phase"])

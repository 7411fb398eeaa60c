"""The one training loop used for every problem, model, sampler and derivative engine.

The loop is short: it runs optimiser phases (:mod:`pde.training.phases`) one after the other, with a loss
weighting (:mod:`pde.training.weighting`) and callbacks (:mod:`pde.training.callbacks`) as parts, all objects.
By default (from :class:`Settings`): Adam with a learning-rate schedule for ``steps`` steps, then L-BFGS for
``lbfgs_steps`` iterations, with torch's strong-Wolfe line search (host decisions at every
evaluation) or, with ``lbfgs_line_search="device"``, :class:`~pde.training.lbfgs.DeviceLBFGS`
(Armijo backtracking decided on the device). Losses are evaluated on the device; the host
reads them only every ``log_every`` steps (progress, NaN/Inf guard, causal-schedule checks),
so the hot loop never synchronises per step (nor per line-search evaluation with ``"device"``).

Guarantees: the NaN guard checks, at each log step, the loss *and* the weights it keeps (a NaN
gradient in a log step is caught there, the model returns to the previous log step's weights);
the run file is written at the start (step 0), every ``checkpoint_every`` steps and every
``checkpoint_seconds``; the checkpoint holds every stateful part (optimizer, scheduler, sampler,
condition points, the trainer's generator, the engine's random state, the causal eps, the L-BFGS
phase's frozen causal weights, stateful user callbacks), so resume is bit-exact; the L-BFGS
objective is deterministic (causal weights frozen for the phase, a stochastic engine inside
``engine.frozen()``); the compile fallback catches compilation errors only (:func:`compile_errors`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..collocation import AbstractSampler
from ..derivatives.base import AbstractDerivativeEngine
from ..problem import AbstractProblem
from ..unknowns import unknown_parameters
from .callbacks import AbstractCallback, FunctionCallback, HistoryRecorder, default_callbacks
from .data_parallel import DataParallel
from .losses import CausalWeighting, LossTerms
from .phases import LBFGS_LINE_SEARCHES, LR_SCHEDULES, AbstractPhase, AdamPhase, LBFGSPhase, default_phases
from .progress import Progress
from .stopping import Plateau, parse_duration
from .weighting import AbstractLossWeighting, make_weighting

__all__ = ["Settings", "Trainer", "TrainingDiverged", "ResumeDeviceError", "compile_errors"]

#: ``compile`` values: off, or a ``torch.compile`` mode ("reduce-overhead" adds CUDA graphs on CUDA)
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the model holds the last good weights."""


class ResumeDeviceError(ValueError):
    """A run's random-number state was saved on another device type than the one asked to resume on."""


@functools.cache
def compile_errors() -> tuple[type, ...]:
    """Exception types raised by compilation (dynamo tracing, AOT autograd, inductor code generation).

    Looked up on first use: importing ``torch._dynamo`` takes over a second, which a run that does not
    compile should not pay.
    """
    out: list[type] = []
    try:
        from torch._dynamo.exc import TorchDynamoException
        out.append(TorchDynamoException)  # BackendCompilerFailed, Unsupported, ... (not raised by running code)
    except ImportError:  # pragma: no cover
        pass
    try:
        from torch._inductor import exc as ie
        out += [getattr(ie, n) for n in ("InductorError", "CppCompileError", "CUDACompileError")
                if isinstance(getattr(ie, n, None), type)]
    except ImportError:  # pragma: no cover
        pass
    return tuple(out)


@dataclass
class Settings:
    """Training settings (all have defaults; problems may suggest their own).

    steps: Adam steps. lbfgs_steps: L-BFGS iterations after Adam (0: none).
    lr: initial Adam learning rate. lr_schedule: ``constant``, ``exponential``
    (``lr * lr_decay ** (step / decay_steps)``), ``cosine`` (to ``lr * lr_decay``) or ``linear``
    (``lr * (1 - step / steps)``, to zero at the last Adam step).
    n_boundary / n_initial: points per boundary / initial condition (a condition's own
    ``n`` wins). resample_every: redraw condition points every K steps (0: fixed). Fixed points can be
    fitted on the points and missed between them (convection, beta = 50, 256 fixed periodic-condition
    points: mismatch 1.5e-3 rms on them, 0.24 at worst between them); 1 draws fresh points every step.
    weights: loss-term name -> weight. causal: :class:`CausalWeighting` or dict, or None.
    log_every: steps between progress lines, NaN checks and host reads.
    history_every: steps between history rows (a row is also kept at every log step).
    checkpoint_every: steps between run-file checkpoints (needs an output file).
    snapshot_every: steps between sampler snapshots stored in the run file (0: only at the end).
    compile: ``False`` (eager), ``True`` (``torch.compile`` mode ``"default"``) or a mode from
    :data:`COMPILE_MODES`: the loss (residual, conditions, weighting) is compiled together with its
    backward pass and Adam becomes the fused implementation. Needs a compilable derivative engine
    (``taylor``, ``stde``). ``"reduce-overhead"`` also captures CUDA graphs on CUDA.
    checkpoint_seconds: also checkpoint when this many seconds of wall time passed since the last one
    (default 60; ``0``: every step; ``inf``: by steps only), so a killed run loses a bounded time of work.
    deterministic: avoid CUDA atomics where pdekit can (the causal slice sums use a one-hot matrix
    product instead of ``index_add_``) and set the engine's ``deterministic`` attribute if it has one,
    so same-seed runs on a GPU give the same numbers.
    time_budget: wall-clock seconds of training (or ``"10m"``, ``"1.5h"``), split over the phases
    (:class:`~pde.training.stopping.TimeBudget`); step counts stay upper bounds. plateau: end the Adam phase
    when the loss stalls (``True`` or ``{"patience": 2000, "rel": 0.01}``,
    :class:`~pde.training.stopping.Plateau`), with a message saying what to try.
    balancing: automatic loss balancing (:mod:`pde.training.weighting`): None (fixed weights) or
    ``"gradient_norm"`` / ``{"name": "gradient_norm", "update_every": 100, "alpha": 0.9}``
    (:class:`~pde.training.weighting.GradientNormBalancing`).
    imbalance_warning: warn (once per term, printed and kept in the run file) when a condition's weighted loss is
    more than this factor times the PDE residual's, or less than its inverse, at two consecutive log steps
    (:class:`~pde.training.callbacks.ImbalanceWarning`); None or False: no check (in ``solve``, where None
    means the default, pass False).
    lbfgs_history: L-BFGS curvature pairs kept. lbfgs_line_search: ``"strong_wolfe"``
    (``torch.optim.LBFGS``; an iteration is one accepted step, one or more evaluations)
    or ``"device"`` (:class:`~pde.training.lbfgs.DeviceLBFGS`: an iteration is one evaluation,
    Armijo backtracking on the device, no host synchronisation between log steps; more
    iterations for the same progress, worth it on a GPU).
    """

    steps: int = 5000
    lbfgs_steps: int = 0
    lr: float = 1e-3
    lr_schedule: str = "exponential"
    lr_decay: float = 0.9
    decay_steps: int = 1000
    n_boundary: int = 200
    n_initial: int = 200
    resample_every: int = 0
    weights: dict = field(default_factory=dict)
    causal: CausalWeighting | dict | None = None
    log_every: int = 500
    history_every: int = 10
    checkpoint_every: int = 1000
    snapshot_every: int = 0
    lbfgs_history: int = 50
    compile: bool | str = False
    lbfgs_line_search: str = "strong_wolfe"
    checkpoint_seconds: float = 60.0
    deterministic: bool = False
    balancing: str | dict | None = None
    time_budget: float | str | None = None
    plateau: dict | bool | None = None
    imbalance_warning: float | None = 1e3

    def __post_init__(self):
        if self.compile in (True, "on", "true"):
            self.compile = "default"
        elif self.compile in (False, None, "off", "false", "none"):
            self.compile = False
        elif self.compile not in COMPILE_MODES:
            raise ValueError(f"compile must be on/off or one of {', '.join(COMPILE_MODES)}, got {self.compile!r}")
        for name in ("steps", "lbfgs_steps", "resample_every", "snapshot_every"):
            v = getattr(self, name)
            if int(v) != v or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v}")
            setattr(self, name, int(v))
        for name in ("n_boundary", "n_initial", "log_every", "history_every", "checkpoint_every", "decay_steps",
                     "lbfgs_history"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v}")
            setattr(self, name, int(v))
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not (0 < self.lr_decay <= 1):
            raise ValueError(f"lr_decay must lie in (0, 1], got {self.lr_decay}")
        if not (isinstance(self.checkpoint_seconds, (int, float)) and self.checkpoint_seconds >= 0):
            raise ValueError(f"checkpoint_seconds must be a number >= 0 (inf: by steps only), "
                             f"got {self.checkpoint_seconds!r}")
        self.checkpoint_seconds = float(self.checkpoint_seconds)
        if self.deterministic not in (True, False):
            raise ValueError(f"deterministic must be True or False, got {self.deterministic!r}")
        self.deterministic = bool(self.deterministic)
        if self.lbfgs_line_search not in LBFGS_LINE_SEARCHES:
            raise ValueError(f"unknown lbfgs_line_search {self.lbfgs_line_search!r}; allowed: "
                             f"{', '.join(LBFGS_LINE_SEARCHES)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; allowed: {', '.join(LR_SCHEDULES)}")
        if isinstance(self.causal, dict):
            self.causal = CausalWeighting(**self.causal)
        make_weighting(self.balancing)  # checks the name and options
        if self.time_budget is not None:
            self.time_budget = parse_duration(self.time_budget)
        if self.plateau is not None and self.plateau is not True:
            if self.plateau is False:
                self.plateau = None
            elif not isinstance(self.plateau, dict):
                raise ValueError(f"plateau must be True, None or a dict of patience / rel, got {self.plateau!r}")
            else:
                Plateau(**self.plateau)  # checks the options
        if self.imbalance_warning is False:
            self.imbalance_warning = None
        if self.imbalance_warning is not None:
            from .callbacks import ImbalanceWarning

            ImbalanceWarning(self.imbalance_warning)  # checks the factor
            self.imbalance_warning = float(self.imbalance_warning)
        if self.steps + self.lbfgs_steps == 0:
            raise ValueError("steps and lbfgs_steps are both 0: nothing to train")

    def describe(self) -> dict:
        out = dataclasses.asdict(self)
        out["causal"] = self.causal.describe() if self.causal is not None else None
        return out


def engine_state(engine) -> dict:
    """The engine's random state as a storable dict (``engine.state_dict()``, else its per-device generators)."""
    sd = getattr(engine, "state_dict", None)
    if callable(sd):
        return dict(sd())
    gens = getattr(engine, "_gens", None)
    if gens:
        return {"generators": {str(k): g.get_state() for k, g in gens.items()}}
    return {}


def load_engine_state(engine, state: dict, device: torch.device) -> None:
    """Restore what :func:`engine_state` returned; refuses generator states of another device type."""
    if not state:
        return
    load = getattr(engine, "load_state_dict", None)
    if callable(load):
        import inspect

        takes_device = "device" in inspect.signature(load).parameters
        load(state, device=device) if takes_device else load(state)
        return
    for key, st in (state.get("generators") or {}).items():
        dev = torch.device(key)
        if dev.type != device.type:
            raise ResumeDeviceError(f"the {getattr(engine, 'name', 'engine')!r} engine's random state was saved on "
                                    f"{key!r} and cannot continue on {str(device)!r}; resume with --device {dev.type}")
        engine._generator(device).set_state(torch.as_tensor(st).to("cpu", torch.uint8))


def reseed_engine(engine, seed: int) -> None:
    """Seed a stochastic engine's randomness from ``seed`` (``engine.reseed``, else its ``seed`` attribute)."""
    fn = getattr(engine, "reseed", None)
    if callable(fn):
        fn(int(seed))
    elif hasattr(engine, "seed") and hasattr(engine, "_gens"):
        engine.seed = int(seed)
        engine._gens.clear()


def _is_stochastic(engine) -> bool:
    return bool(getattr(engine, "stochastic", getattr(engine, "name", "") == "stde"))


@contextlib.contextmanager
def frozen_engine(engine, device, block=None, on_block=None):
    """Make a stochastic engine's objective deterministic for the L-BFGS phase.

    Yields ``rewind()``, to be called before and after each evaluation. With ``engine.frozen()`` the engine
    reuses its random directions itself (``rewind`` does nothing); ``block`` re-enters a frozen block by the
    index that ``on_block(index)`` was told at its first entry (a resumed phase keeps its directions);
    otherwise the engine's generators are set back to their state at the start of the phase at each
    evaluation, so every evaluation draws the same directions. A stochastic engine offering neither is refused.
    """
    frozen = getattr(engine, "frozen", None)
    if callable(frozen):
        with (frozen() if block is None else frozen(block=block)) as index:
            if on_block is not None and index is not None:
                on_block(index)
            yield lambda: None
        return
    if not _is_stochastic(engine):
        yield lambda: None
        return
    if not (hasattr(engine, "_gens") and hasattr(engine, "_generator")):
        raise ValueError(f"L-BFGS needs a deterministic objective, but the {getattr(engine, 'name', '?')!r} engine "
                         "is stochastic and offers no frozen(); use lbfgs_steps=0 or a deterministic engine (taylor)")
    engine._generator(device)
    gens = dict(engine._gens)
    states = {k: g.get_state() for k, g in gens.items()}

    def rewind():
        for k, g in gens.items():
            g.set_state(states[k])

    yield rewind


class Trainer:
    """Trains ``model`` on ``problem``; see :func:`pde.solve` for the user-facing entry point.

    ``model`` must already be built and on ``device``/``dtype``; ``sampler`` not yet set up.
    The Adam loop only steps the optimizer; its other concerns are parts in ``trainer.parts``
    (:mod:`pde.training.callbacks`): :class:`~.callbacks.HistoryRecorder`, :class:`~.callbacks.SamplerUpdater`,
    :class:`~.callbacks.NaNGuard`, :class:`~.callbacks.ProgressDisplay`, then the user's callbacks, then
    :class:`~.callbacks.Checkpointer`, built by :func:`~.callbacks.default_callbacks` from ``settings``.
    ``callbacks``: the user's own, each an :class:`~.callbacks.AbstractCallback` (every hook) or a callable
    ``callback(trainer)`` called at every log step (after the NaN guard, with ``trainer.history`` up to date;
    they may read device values there without costing a synchronisation per step); one returning True stops
    the run (status ``finished``, message saying so). The L-BFGS phase calls the parts once per chunk of
    ``log_every`` iterations (see :mod:`pde.training.callbacks`). A callback with ``state_dict()`` /
    ``load_state_dict()`` is checkpointed and restored with the run.
    ``reduction``: see :class:`~pde.training.losses.LossTerms`.
    ``phases``: the optimiser phases to run in order (:mod:`pde.training.phases`; default
    :func:`~pde.training.phases.default_phases` of ``settings``: Adam, then L-BFGS). ``weighting``: the loss
    weighting (:mod:`pde.training.weighting`; default from ``settings.balancing``), the first of the parts.
    :func:`pde.training.resume` rebuilds the default phases and the weighting from the stored settings; a
    run with hand-built phases is resumed by building the same trainer and calling :meth:`load_training_state`.
    The optimisers train :meth:`param_groups` (the one place that says what is trainable).
    ``on_checkpoint(trainer)`` is called at the start (step 0), at every checkpoint (every
    ``checkpoint_every`` steps and every ``checkpoint_seconds``) and is up to the caller at the end.
    The causal weighting of ``settings`` is copied (its eps schedule advances on the copy, which the
    checkpoint stores), so the caller's object is never changed.
    ``communicator`` (:mod:`pde.distributed`; default one process) and ``scaling`` (``"strong"``: shards of the
    single-process point sets; ``"weak"``: points per rank from ``(seed, rank)``): data parallelism, see
    :mod:`pde.training.data_parallel`; gradients and losses are averaged over the ranks once per step.
    """

    def __init__(self, problem: AbstractProblem, model: torch.nn.Module, sampler: AbstractSampler,
                 engine: AbstractDerivativeEngine, settings: Settings, *, device, dtype, seed: int,
                 quiet: bool = False, on_checkpoint=None, callbacks=(), reduction=None, phases=None,
                 weighting=None, communicator=None, scaling: str = "strong", data=()):
        self.problem, self.model, self.sampler, self.engine = problem, model, sampler, engine
        self.callbacks = list(callbacks or ())
        self.stopped = False
        for cb in self.callbacks:
            if not (callable(cb) or isinstance(cb, AbstractCallback)):
                raise TypeError(f"a callback must be a callable callback(trainer) -> bool | None or an "
                                f"AbstractCallback, got {cb!r}")
        #: the user's callbacks as loop parts (a plain callable is called at each log step)
        self._user_parts = [cb if isinstance(cb, AbstractCallback) else FunctionCallback(cb)
                            for cb in self.callbacks]
        #: the loop's parts: the built-ins from ``settings``, the user's inserted before the checkpointer
        builtins = default_callbacks(settings)
        self.parts: list[AbstractCallback] = builtins[:-1] + self._user_parts + builtins[-1:]
        self._history_recorder = next(p for p in builtins if isinstance(p, HistoryRecorder))
        self.last = None  # (points, total, terms, pointwise, lr) of the latest step (L-BFGS: of the chunk)
        self.phase = "adam"  # or "lbfgs": the parts read it
        self._last_cw = None  # the latest causal weights of the Adam phase
        self.settings, self.device, self.dtype, self.seed = settings, torch.device(device), dtype, seed
        self.progress = Progress(quiet)
        self.on_checkpoint = on_checkpoint
        satisfied = set(getattr(model, "satisfies", ()))
        self.conditions = [c for c in problem.conditions() if c.name not in satisfied]
        #: observations given with the run (``solve(data=...)``), not by the problem; stored with the checkpoint
        self.data = list(data or ())
        self.conditions += self.data
        #: the problem's unknown parameters (pde.unknowns), trained with the model
        self.unknowns = unknown_parameters(problem)
        if settings.compile and not getattr(engine, "compilable", True):
            raise ValueError(f"compile={settings.compile!r} needs a derivative engine that torch.compile can "
                             f"differentiate; {engine.name!r} uses nested reverse mode (no double backward in "
                             "compiled graphs): use the 'taylor' engine (exact, same derivatives) or compile=False")
        if settings.deterministic and hasattr(engine, "deterministic"):
            engine.deterministic = True
        self.causal = copy.deepcopy(settings.causal)
        self.losses = LossTerms(problem, engine, self.conditions, settings.weights, self.causal,
                                deterministic=settings.deterministic, reduction=reduction)
        self.unknowns.to(self.device, dtype)  # after planning the residual (on CPU float64 points)
        self._compiled_loss = torch.compile(self._eager_loss, mode=settings.compile) if settings.compile else None
        self._compile_checked = False  # the first compiled step (forward and backward) has run
        self.parallel = DataParallel(communicator, scaling)
        self.generator = torch.Generator(self.device).manual_seed(self.parallel.seed(seed))
        sampler.setup(problem.domain, generator=self.generator, device=self.device, dtype=dtype)
        self.cond_points = [self._draw_condition(c) for c in self.conditions]
        self.params = self.trainable_parameters()
        self.phases: list[AbstractPhase] = list(phases) if phases is not None else default_phases(settings)
        if not self.phases or not all(isinstance(p, AbstractPhase) for p in self.phases):
            raise TypeError(f"phases must be a non-empty list of AbstractPhase objects, got {phases!r}")
        self._cuts = [0] * len(self.phases)  # steps of each phase not run (ended early by a stopping rule)
        self._phase_over: str | None = None
        self.phase_deadline = math.inf  # wall-clock end of the running phase (set by a time budget)
        if self._phase_ends[-1] == 0:
            raise ValueError("every phase has 0 steps: nothing to train")
        self.weighting = weighting if weighting is not None else make_weighting(settings.balancing)
        if not isinstance(self.weighting, AbstractLossWeighting):
            raise TypeError(f"weighting must be an AbstractLossWeighting, got {weighting!r}")
        self.weighting.bind(self)
        self.parallel.check(self)
        self.parallel.broadcast_parameters(self.params)
        # the weighting runs first among the parts (it may reweight the step it precedes)
        self.parts.insert(0, self.weighting)
        for phase in self.phases:
            phase.bind(self)
        self.step = 0
        self.status, self.message = "running", ""
        self.history: dict[str, list] = {k: [] for k in ["step", "wall_time", "lr", "loss", *self._row_keys()]}
        #: warnings of the loop's parts (e.g. :class:`~.callbacks.ImbalanceWarning`), kept in the run file
        self.warnings: list[str] = []
        self.snapshots: list[dict] = []
        self.wall_time = 0.0
        self._good = None
        self._last_checkpoint = time.perf_counter()

    # -- helpers -----------------------------------------------------------------------------
    def _term_keys(self):
        return [f"loss/{n}" for n in self.losses.term_names]

    def _param_keys(self):
        """History columns of the unknown parameters' values (``param/NAME``)."""
        return [f"param/{n}" for n in self.unknowns.names]

    def _weight_keys(self):
        """History columns of the term weights (``weight/TERM``) when the weighting changes them during the run."""
        return [f"weight/{n}" for n in self.losses.term_names] if self.weighting.varies else []

    def _row_keys(self):
        """The history columns of a device row after the total: terms, unknowns, weights (see :meth:`_row`)."""
        return self._term_keys() + self._param_keys() + self._weight_keys()

    def _row(self, total: torch.Tensor, terms: torch.Tensor) -> torch.Tensor:
        """A history row on the device: ``[total, *terms, *unknown values, *term weights]`` (no host read).

        The term weights ``(K,)`` (the ``w_k`` of ``L = sum_k w_k L_k`` that this row's loss used,
        ``weighting.step_weights``) are in the row only when the weighting varies them; ``torch.cat`` copies
        them, so a later update of the weights does not change a buffered row.
        """
        parts = [total.detach()[None], terms]
        if self.unknowns.names:
            parts.append(self.unknowns.values().to(terms.dtype))
        if self.weighting.varies:
            parts.append(self.weighting.step_weights(self).detach().to(terms.dtype))
        return torch.cat(parts)

    @property
    def _phase_ends(self) -> list[int]:
        """The step at which each phase ends: its steps less those a stopping rule cut, accumulated."""
        return list(itertools.accumulate(p.steps - c for p, c in zip(self.phases, self._cuts)))

    @property
    def total_steps(self) -> int:
        return self._phase_ends[-1]

    def end_phase(self, reason: str) -> None:
        """End the running phase at the current step (a stopping rule's call); the next phase starts here."""
        self._phase_over = reason

    def _cut_phase(self, index: int, end: int) -> None:
        self._cuts[index] += end - self.step
        self.message = f"{self.message}; {self._phase_over}" if self.message else self._phase_over
        self.progress.message(f"[{self.phases[index].name}] {self._phase_over}")

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """Every tensor the optimisers update: the model's parameters that require grad, then the raw
        parameters of the problem's unknowns (:mod:`pde.unknowns`)."""
        return [p for p in self.model.parameters() if p.requires_grad] + list(self.unknowns.parameters())

    def param_groups(self, lr: float) -> list[dict]:
        """The optimisers' parameter groups at base learning rate ``lr``: the model's parameters, then the
        unknowns (a group per own learning rate; L-BFGS flattens them into one)."""
        model = [p for p in self.model.parameters() if p.requires_grad]
        return [{"params": model}] + self.unknowns.param_groups(lr)

    @property
    def current_phase(self) -> AbstractPhase:
        """The phase the current step belongs to (at a phase boundary: the one that ends there)."""
        for phase, end in zip(self.phases, self._phase_ends):
            if self.step <= end and phase.steps > 0:
                return phase
        return self.phases[-1]

    def _phase_key(self, phase: AbstractPhase) -> str:
        names = [p.name for p in self.phases]
        return phase.name if names.count(phase.name) == 1 else f"{phase.name}#{self.phases.index(phase)}"

    # the default phases' optimisers, by name (benchmarks and tests reach for them)
    @property
    def adam(self):
        return next(p.optimizer for p in self.phases if isinstance(p, AdamPhase))

    @property
    def scheduler(self):
        return next(p.scheduler for p in self.phases if isinstance(p, AdamPhase))

    @property
    def _lbfgs_cw(self):
        return next((p.causal_weights for p in self.phases if isinstance(p, LBFGSPhase)), None)

    def _draw_condition(self, c):
        n = c.n or (self.settings.n_initial if c.region == "initial" else self.settings.n_boundary)
        return c.sample(self.problem.domain, n, generator=self.generator, device=self.device, dtype=self.dtype)

    def residual_fn(self, points: torch.Tensor) -> torch.Tensor:
        """Per-point squared PDE residual ``(n,)`` at ``points`` (for samplers that need the model)."""
        return self.losses.squared_residual(self.model, points)

    def _params_finite(self) -> bool:
        """Whether every trainable parameter is finite (one host read)."""
        return bool(torch.stack([torch.isfinite(p).all() for p in self.params]).all())

    def _remember_good(self):
        self._good = ({k: v.detach().clone() for k, v in self.model.state_dict().items()},
                      {k: v.detach().clone() for k, v in self.unknowns.state_dict().items()})

    def _diverged(self, what: str):
        if self._good is not None:
            self.model.load_state_dict(self._good[0])
            self.unknowns.load_state_dict(self._good[1])
        self.status = "diverged"
        self.message = (f"training diverged: {what} became NaN/Inf near step {self.step}; "
                        "the model keeps the last good weights")
        self.progress.message(self.message)

    def _record(self, rows: list, loss_rows: list):
        """Move buffered device values to the host history (one synchronisation)."""
        if not rows:
            return
        vals = torch.stack(loss_rows).cpu().numpy()
        for (step, wall, lr), v in zip(rows, vals):
            self.history["step"].append(step)
            self.history["wall_time"].append(wall)
            self.history["lr"].append(lr)
            self.history["loss"].append(float(v[0]))
            for k, x in zip(self._row_keys(), v[1:]):
                self.history[k].append(float(x))
        rows.clear()
        loss_rows.clear()

    def _snapshot(self):
        snap = self.sampler.snapshot()
        self.snapshots.append({"step": self.step, "points": snap["points"].cpu(), "residual": snap["residual"].cpu()})

    def _stopped_by(self, cb) -> None:
        self.stopped = True
        name = getattr(cb.fn if isinstance(cb, FunctionCallback) else cb, "__name__", cb)
        self.message = f"stopped at step {self.step} by the callback {name!r}"
        self.progress.message(self.message)

    def _log_parts(self) -> bool:
        """``on_log`` of every part in order; True if one stopped the run (a NaN guard: ``status`` diverged)."""
        for cb in self.parts:
            if cb.on_log(self, self.step) is True:
                if self.status != "diverged":
                    self._stopped_by(cb)
                return True
        return False

    def _checkpoint_due(self) -> bool:
        """A checkpoint is due every ``checkpoint_every`` steps and every ``checkpoint_seconds`` of wall time."""
        if self.on_checkpoint is None or self.step >= self.total_steps:
            return False
        return (self.step % self.settings.checkpoint_every == 0
                or time.perf_counter() - self._last_checkpoint >= self.settings.checkpoint_seconds)

    def _checkpoint(self):
        if self.on_checkpoint is not None:
            self.on_checkpoint(self)
        self._last_checkpoint = time.perf_counter()

    # -- phases ------------------------------------------------------------------------------
    def run(self) -> None:
        """Train until done or diverged (then ``status == "diverged"``).

        The run file (if any) is written first, at the current step (0 for a new run), so a run killed
        before its first periodic checkpoint still leaves a file to resume from.
        """
        self._t_start = time.perf_counter() - self.wall_time
        for cb in self.parts:  # the Checkpointer writes the run file here, the NaN guard remembers the weights
            cb.on_train_start(self)
        self.stopped = False
        for i, phase in enumerate(self.phases):
            end = self._phase_ends[i]
            if self.status != "running" or self.stopped:
                break
            if self.step < end:
                self._phase_over, self.phase_deadline = None, math.inf
                for cb in self.parts:
                    cb.on_phase_start(self, phase, end)
                phase.run(self, end)
                if self._phase_over is not None and self.step < end and self.status == "running":
                    self._cut_phase(i, end)
        if self.status == "running":
            self.status = "finished"
        self.wall_time = time.perf_counter() - self._t_start
        if not self.snapshots or self.snapshots[-1]["step"] != self.step:
            self._snapshot()
        for cb in self.parts:  # status, history, wall time and the last snapshot are final here
            cb.on_train_end(self)

    def _eager_loss(self, points, cond_points, weights, causal_weights=None):
        return self.losses(self.model, points, cond_points, weights, causal_weights=causal_weights)

    def _compile_failed(self, e: BaseException):
        self._compiled_loss = None
        inner = getattr(e, "inner_exception", None)  # BackendCompilerFailed wraps the compiler's own error
        first_line = (str(e).strip().splitlines() or [""])[0]
        if inner is not None:
            first_line = f"{first_line} {type(inner).__name__}: {(str(inner).strip().splitlines() or [''])[0]}"
        self.message = f"torch.compile failed ({type(e).__name__}: {first_line}); continued in eager mode"
        self.progress.message(self.message, force=True)

    def _loss(self, points, causal_weights=None):
        """``(total, terms, per-point squared residual, causal weights)`` (compiled when asked).

        Only compilation errors (:func:`compile_errors`: dynamo, AOT autograd, inductor) switch to eager mode,
        with a printed message; any other exception (an out-of-memory error, a bug) propagates.
        """
        weights = self.sampler.residual_weights(points) if hasattr(self.sampler, "residual_weights") else None
        points, cond_points, weights = self.parallel.shard(points, self.cond_points, weights)  # this rank's share
        if self._compiled_loss is None:
            return self._eager_loss(points, cond_points, weights, causal_weights)
        try:
            out = self._compiled_loss(points, cond_points, weights, causal_weights)
        except compile_errors() as e:  # no C compiler, unsupported op, ...: carry on in eager mode, same numbers
            self._compile_failed(e)
            return self._eager_loss(points, cond_points, weights, causal_weights)
        if self.settings.compile == "reduce-overhead":
            # CUDA-graph outputs live in buffers that the next replay overwrites: keep copies of what outlives a step
            total, terms, pointwise, cw = out
            out = (total, terms.clone(), pointwise.clone(), None if cw is None else cw.clone())
        return out

    def _forward_backward(self, pts, zero_grad):
        """Loss at ``pts`` and its gradient (averaged over the ranks with the loss values, one all-reduce)."""
        return self.parallel.reduce_step(self.params, self._local_forward_backward(pts, zero_grad))

    def _local_forward_backward(self, pts, zero_grad):
        """This rank's loss and gradient; the first compiled backward (compiled lazily) may fall back too."""
        out = self._loss(pts)
        zero_grad()
        if self._compiled_loss is None or self._compile_checked:
            out[0].backward()
            return out
        try:
            out[0].backward()
        except compile_errors() as e:
            self._compile_failed(e)
            out = self._loss(pts)
            zero_grad()
            out[0].backward()
        self._compile_checked = True
        return out

    # -- state --------------------------------------------------------------------------------
    def training_state(self) -> dict:
        """Everything needed to resume exactly: optimizer, scheduler, sampler, RNG, engine, weighting, step.

        The trainer's own parts (engine random state, causal eps, the L-BFGS phase's frozen causal weights)
        travel in the sampler state under ``trainer:*`` keys (the run file stores that dict as it is).
        """
        sampler_state = dict(self.sampler.state_dict())
        for c, (p, nrm) in zip(self.conditions, self.cond_points):
            sampler_state[f"condition:{c.name}:points"] = p
            if nrm is not None:
                sampler_state[f"condition:{c.name}:normals"] = nrm
        eng = engine_state(self.engine)
        if eng:
            sampler_state["trainer:engine"] = eng
        if self.causal is not None:
            sampler_state["trainer:causal"] = {"eps": float(self.causal.eps)}
        if self._lbfgs_cw is not None:
            sampler_state["trainer:lbfgs_causal_weights"] = self._lbfgs_cw
        if wstate := self.weighting.state_dict():
            sampler_state["trainer:weighting"] = wstate
        if any(self._cuts):
            sampler_state["trainer:phase_cuts"] = np.asarray(self._cuts, dtype=np.int64)
        for c in self.data:  # observations given with the run: as drawn (subset and noise applied)
            sampler_state[f"trainer:data:{c.name}"] = {"points": c.points, "values": c.values,
                                                      "fields": list(c.fields),
                                                      "derivative": list(c.derivative or []), "weight": c.weight}
        for i, cb in enumerate(self.callbacks):
            if callable(getattr(cb, "state_dict", None)):
                cstate = cb.state_dict()
                if cstate or not isinstance(cb, AbstractCallback):  # an AbstractCallback's {}: nothing to store
                    sampler_state[f"trainer:callback:{i}"] = cstate
        for cb in self.parts:  # the built-in parts (the user's and the weighting are stored above)
            if cb not in self._user_parts and cb is not self.weighting and (cstate := cb.state_dict()):
                sampler_state[f"trainer:part:{type(cb).__name__}"] = cstate
        phase = self.current_phase
        pstate = phase.state_dict()
        for k, v in pstate.get("extra", {}).items():
            sampler_state[f"trainer:{k}"] = v
        return {
            "optimizer": {"phase": self._phase_key(phase), "state": pstate.get("optimizer", {})},
            "scheduler": pstate.get("scheduler"),
            "sampler": {"describe": self.sampler.describe(), "state": sampler_state},
            "rng": {"torch_generator": self.generator.get_state(), "device": str(self.device)},
            "step": self.step,
            "status": self.status,
            "message": self.message,
            "warnings": list(self.warnings),
            "history": {k: np.asarray(v, dtype=np.float64) for k, v in self.history.items()},
            "unknowns": self.unknowns.state() if self.unknowns.names else None,
            "snapshots": list(self.snapshots),
            "wall_time": self.wall_time if self.status != "running" else time.perf_counter() - self._t_start
            if hasattr(self, "_t_start") else self.wall_time,
        }

    def _check_rng_device(self, rng: dict) -> None:
        saved = str(rng.get("device", "cpu"))
        gen = rng.get("torch_generator")
        mine = self.generator.get_state()
        if torch.device(saved).type != self.device.type or (gen is not None and gen.numel() != mine.numel()):
            raise ResumeDeviceError(f"this run was trained on {saved!r}; its random-number state cannot continue on "
                                    f"{str(self.device)!r}: resume with --device {torch.device(saved).type}")

    def load_training_state(self, state: dict) -> None:
        """Restore what :meth:`training_state` returned (the model's weights are restored by the caller).

        Raises :class:`ResumeDeviceError` (a ``ValueError``) when the stored random state comes from another
        device type (a CUDA generator state cannot drive a CPU generator, and re-seeding would not be the
        same run).
        """
        self._check_rng_device(state["rng"])
        sstate = dict(state["sampler"]["state"])
        for i, c in enumerate(self.conditions):
            p = sstate.pop(f"condition:{c.name}:points")
            nrm = sstate.pop(f"condition:{c.name}:normals", None)
            self.cond_points[i] = (p.to(self.device, self.dtype), None if nrm is None else nrm.to(self.device,
                                                                                                   self.dtype))
        load_engine_state(self.engine, sstate.pop("trainer:engine", None) or {}, self.device)
        causal = sstate.pop("trainer:causal", None)
        if causal is not None and self.causal is not None:
            self.causal.eps = float(causal["eps"])
        cw = sstate.pop("trainer:lbfgs_causal_weights", None)
        for phase in self.phases:
            if isinstance(phase, LBFGSPhase):
                phase.causal_weights = None if cw is None else cw.to(self.device, self.dtype)
        frozen_block = sstate.pop("trainer:lbfgs_frozen_block", None)
        cuts = sstate.pop("trainer:phase_cuts", None)
        if cuts is not None:
            self._cuts = [int(c) for c in np.asarray(cuts).reshape(-1)]
        wstate = sstate.pop("trainer:weighting", None)
        if wstate is not None:
            self.weighting.load_state_dict(wstate)
        for i, cb in enumerate(self.callbacks):
            cstate = sstate.pop(f"trainer:callback:{i}", None)
            if cstate is not None and callable(getattr(cb, "load_state_dict", None)):
                cb.load_state_dict(cstate)
        for cb in self.parts:
            cstate = sstate.pop(f"trainer:part:{type(cb).__name__}", None)
            if cstate is not None and cb not in self._user_parts:
                cb.load_state_dict(cstate)
        if state.get("unknowns"):
            self.unknowns.load(state["unknowns"])
        for k in [k for k in sstate if k.startswith(("trainer:callback:", "trainer:part:", "trainer:data:"))]:
            sstate.pop(k)
        self.sampler.load_state_dict(sstate)
        opt = state["optimizer"]
        phase = next((p for p in self.phases if self._phase_key(p) == opt["phase"]), None)
        if phase is None:
            raise ValueError(f"the run stopped in the optimiser phase {opt['phase']!r}, which this trainer does not "
                             f"have (phases: {[self._phase_key(p) for p in self.phases]})")
        phase.load_state_dict({"optimizer": opt["state"], "scheduler": state.get("scheduler"),
                               "frozen_block": frozen_block})
        # generator states are CPU byte tensors for CPU and CUDA generators alike
        self.generator.set_state(state["rng"]["torch_generator"].to("cpu", torch.uint8))
        self.step = int(state["step"])
        self.history = {k: [float(x) for x in np.asarray(v)] for k, v in state["history"].items()}
        self.history["step"] = [int(x) for x in self.history["step"]]
        for k in self._row_keys():  # a column the stored run lacks (e.g. weights of a file written before them)
            self.history.setdefault(k, [math.nan] * len(self.history["step"]))
        self.warnings = [str(w) for w in state.get("warnings") or []]
        self.snapshots = list(state.get("snapshots", []))
        self.wall_time = float(state.get("wall_time", 0.0) or 0.0)
        self.status = "running"

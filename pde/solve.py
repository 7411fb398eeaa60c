"""``solve``: train a PINN on a problem and validate it against the problem's reference.

    from problems import Burgers
    from pde import solve
    run = solve(Burgers(), steps=5000, device="cpu", out="burgers.h5")
    print(run.metrics["rel_l2"])
"""

from __future__ import annotations

import dataclasses
import datetime
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

from . import registry
from .collocation import AbstractSampler, RandomSampler
from .derivatives.base import AbstractDerivativeEngine
from .evaluation import evaluate_in_chunks, rows_per_chunk
from .metrics import check_complex_fields, field_metrics
from .problem import AbstractProblem
from .run import Run, domain_record  # the one run type (pde.run); ``pde.solve.Run`` is the same class
from .training.trainer import Settings, Trainer, reseed_engine

__all__ = ["Run", "solve", "resolve_device", "resolve_dtype", "evaluate"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device=None) -> torch.device:
    """The device named by ``device``: ``None``/``"auto"`` (CUDA when available, else CPU),
    ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a :class:`torch.device` of those.

    Raises ``ValueError`` naming the value and what is allowed for any other string (``"tpu"``,
    ``"cuda:abc"``, ``"cpu:1"``), for CUDA on a machine without it, and for a GPU index beyond
    ``torch.cuda.device_count()``.
    """
    import re

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        text = str(device)
    elif isinstance(device, str):
        text = device
    else:
        raise ValueError(f"device must be a string such as 'cpu', 'cuda' or 'cuda:0' or a torch.device, "
                         f"got {device!r}")
    m = re.fullmatch(r"(cpu|cuda)(?::([0-9]+))?", text)
    if m is None:
        raise ValueError(f"unsupported device {text!r}; allowed: cpu, cuda, cuda:N (N a GPU index), auto")
    kind, index = m.group(1), m.group(2)
    if kind == "cpu":
        if index not in (None, "0"):
            raise ValueError(f"unsupported device {text!r}: the CPU device has no index {index}; allowed: cpu, "
                             "cuda, cuda:N")
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"device {text!r} requested but CUDA is not available on this machine; use 'cpu'")
    n = torch.cuda.device_count()
    if index is not None and int(index) >= n:
        raise ValueError(f"device {text!r}: this machine has {n} CUDA device(s); allowed: cuda, cuda:0 .. "
                         f"cuda:{n - 1}")
    return torch.device(text)


def resolve_dtype(dtype) -> torch.dtype:
    """``"float32"``/``"float64"`` or ``torch.float32``/``torch.float64``; anything else raises ``ValueError``."""
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        return dtype
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return DTYPES[dtype]


def reference_or_none(problem: AbstractProblem):
    """The problem's reference, or None when it has neither an exact solution nor a reference solver."""
    try:
        return problem.reference()
    except NotImplementedError:
        return None


def evaluate(problem: AbstractProblem, model: torch.nn.Module, batch: int = 65536, ref=None):
    """Evaluate ``model`` on the problem's reference (or ``ref``); returns ``(solution dict, metrics dict)``."""
    ref = problem.reference() if ref is None else ref
    p = next(model.parameters())
    # row blocks of at most 2**22 / d rows (and ``batch``): the peak follows the block, not the point count
    rows = rows_per_chunk(max(1, ref.points.shape[1]), max_rows=batch)
    pred = evaluate_in_chunks(model, ref.points, rows, device=p.device, dtype=p.dtype)
    if pred.shape != ref.values.shape:
        raise ValueError(f"model output shape {pred.shape} does not match reference {ref.values.shape}")
    sol = {"axes": ref.axes, "points": ref.points, "prediction": pred, "reference": ref.values,
           "error": pred - ref.values, "fields": list(problem.fields), "source": ref.source}
    return sol, field_metrics(pred, ref.values, problem.fields, getattr(problem, "up_to_constant", ()),
                              getattr(problem, "complex_fields", None))


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(device: torch.device, dtype: torch.dtype, seed: int) -> dict:
    import h5py

    from . import __version__

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or "cpu")
    return {"pdekit": __version__, "torch": torch.__version__, "numpy": np.__version__, "h5py": h5py.__version__,
            "python": platform.python_version(), "device": str(device), "device_name": name,
            "dtype": str(dtype).replace("torch.", ""), "seed": seed, "git_commit": _git_commit(),
            "start_time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "end_time": None}


def _make_problem(problem) -> AbstractProblem:
    if isinstance(problem, str):
        problem = registry.lookup("problem", problem)()
    elif isinstance(problem, type):
        problem = problem()
    if not isinstance(problem, AbstractProblem):
        raise TypeError(f"problem must be an AbstractProblem or a registered name, got {type(problem).__name__}")
    return problem


def _make_model(model, problem: AbstractProblem, hard: bool | None):
    from . import models as M

    if model is None:
        model = problem.default_model()
    if model is None:
        model = M.MLP()
    if isinstance(model, str):
        model = registry.lookup("model", model)()
    want_hard = hard if hard is not None else bool(problem.default_settings().get("hard", False))
    if want_hard and not isinstance(model, M.OutputTransform):
        if not hasattr(problem, "output_transform"):
            raise ValueError(f"problem {problem.name!r} defines no output_transform for hard constraints")
        model = M.OutputTransform.from_problem(model, problem)
    if hasattr(model, "build") and not getattr(model, "built", True):
        model.build(problem.domain, len(problem.fields))
    return model


def _recipe_plan(recipe, problem: AbstractProblem, model, hard, scaling: str):
    """The recipe's plan for ``problem`` (see :mod:`pde.recipe`), or None where no recipe applies."""
    from .recipe import applies, make_recipe

    if recipe == "auto":
        return make_recipe("generic").plan(problem, scaling) if hard is None and applies(problem, model) else None
    chosen = make_recipe(recipe)
    if chosen is None:
        return None
    if model is not None or hard is not None:
        raise ValueError("a recipe chooses the model and its hard constraints: pass model=None and hard=None with "
                         f"recipe={recipe!r}, or recipe=None to use your own model")
    return chosen.plan(problem, scaling)


def _make_engine(engine) -> AbstractDerivativeEngine:
    if isinstance(engine, AbstractDerivativeEngine):
        return engine
    if isinstance(engine, str):
        return registry.lookup("engine", engine)()
    raise TypeError(f"engine must be a name or an AbstractDerivativeEngine, got {type(engine).__name__}")


def _settings(problem: AbstractProblem, overrides: dict, explicit: dict | None = None,
              suggested: dict | None = None) -> tuple[Settings, int]:
    """Merge the suggested settings (the problem's, or ``suggested``: a recipe's) with ``overrides`` (None: not
    given) and ``explicit`` settings.

    In ``explicit`` (the keyword settings a caller wrote out), ``None`` drops the problem's suggestion and
    takes :class:`Settings`' own default: ``solve(AllenCahn(), causal=None)`` trains without causal weights.
    """
    base = problem.default_settings() if suggested is None else suggested
    merged = {**base, **{k: v for k, v in overrides.items() if v is not None}}
    for k, v in (explicit or {}).items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    n_interior = merged.pop("n_interior", 2000)
    merged.pop("hard", None)
    names = {f.name for f in dataclasses.fields(Settings)}
    unknown = set(merged) - names
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; allowed: n_interior, {', '.join(sorted(names))}")
    return Settings(**merged), n_interior


def solve(problem, model=None, *, sampler: AbstractSampler | str | None = None, engine=None,
          steps: int | None = None, lbfgs_steps: int | None = None, device=None, dtype="float32", seed: int = 0,
          out: str | Path | None = None, quiet: bool = False, hard: bool | None = None, callbacks=(),
          reduction=None, communicator=None, scaling: str = "strong", data=None, recipe="auto",
          **settings) -> Run:
    """Train a PINN for ``problem`` and validate it against the problem's reference.

    problem: an :class:`~pde.problem.AbstractProblem`, its class, or a registered name.
    model: a model (built or not), a registered name, or None for the problem's default.
    sampler: interior collocation sampler (default: uniform points, fixed); a name is looked up.
    engine: derivative engine or its name (``autograd``, ``taylor``, ``stde``); default ``autograd``,
    or ``taylor`` when ``compile`` is on (nested reverse mode does not compile).
    steps / lbfgs_steps: Adam steps and L-BFGS iterations (defaults from the problem).
    device: ``"cpu"``, ``"cuda"`` or None (CUDA when available). dtype: float32 (default) or float64.
    seed: seeds model initialisation and every point draw. out: HDF5 run file (checkpointed).
    hard: wrap the model in the problem's hard-constraint output transform (default: the problem's choice).
    settings: further :class:`~pde.training.Settings` fields (``compile=True`` for the
    ``torch.compile`` training step), and ``n_interior``; a field given as None takes
    :class:`~pde.training.Settings`' default instead of the problem's suggestion (``causal=None``: no causal
    weighting even where the problem suggests it).

    callbacks: the user's own callables ``callback(trainer)``, called at every log step (True stops the run),
    or :class:`~pde.training.AbstractCallback` objects (hooks at train start, every step, log steps, end;
    see :class:`~pde.training.Trainer`). reduction: a callable mapping a loss term's per-point squared
    residuals ``(N,)`` to its scalar loss instead of the mean (a robust loss); its name is recorded in the
    config and :func:`pde.training.resume` asks for it again.
    data: observations (:mod:`pde.observations`): an ``Observation``, a file path (``.mat``, ``.npz``, ``.h5``,
    ``.csv``), a dict of ``Observation`` or file options, or a list of those; each is a loss term. The problem's
    unknown parameters (:mod:`pde.unknowns`) are trained with the model; their values are in the history
    (``param/NAME``), the metrics and ``run.unknowns``, and printed at the end with their errors where the true
    values are declared.
    A named engine (``engine="stde"``) is seeded from ``seed``; an engine object keeps its own seed.
    A model with a plain-callable :class:`~pde.models.OutputTransform` trains, but only without an output
    file (a callable cannot be stored, so the run could not be loaded or resumed): with ``out`` it is
    refused before training. A problem without a reference trains, writes its file and reports its loss;
    ``metrics`` is then empty and the message says so.
    communicator: a :mod:`pde.distributed` communicator (default: one process; under torchrun pass
    ``pde.distributed.from_environment()``); its device is used with several ranks. scaling: ``"strong"``
    (each rank a shard of the single-process points: the single-process run, faster) or ``"weak"`` (own
    points per rank from ``(seed, rank)``); see :mod:`pde.training.data_parallel`. Only the writer rank
    writes ``out`` and prints progress; the config records world size, backend, scaling and rank seeds.
    recipe: ``"auto"`` (default: the generic recipe of :mod:`pde.recipe` for a problem with no defaults of its
    own when no model and no ``hard`` are given), ``"generic"`` (always, the model argument must be None), None
    or ``"none"`` (the plain :class:`~pde.training.Settings`), or a recipe object with ``plan(problem, scaling)``. The
    recipe's settings come under the keyword settings given here; its rules are printed and stored in
    ``config["recipe"]``.
    """
    problem = _make_problem(problem)
    check_complex_fields(getattr(problem, "complex_fields", None), list(problem.fields))
    multi = communicator is not None and communicator.world_size > 1
    dev, dt = resolve_device(communicator.device if multi else device), resolve_dtype(dtype)
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    plan = _recipe_plan(recipe, problem, model, hard, scaling)
    cfg, n_interior = _settings(problem, {"steps": steps, "lbfgs_steps": lbfgs_steps}, settings,
                                plan.settings if plan is not None else None)
    if plan is not None:
        model = plan.model
    from .observations import make_observations

    observations = make_observations(data, problem)
    torch.manual_seed(seed)
    net = _make_model(model, problem, hard).to(dev, dt)
    if isinstance(sampler, str):
        sampler = registry.lookup("sampler", sampler)(n=n_interior)
    sampler = sampler if sampler is not None else RandomSampler(n=n_interior)
    named = engine is None or isinstance(engine, str)
    eng = _make_engine(engine if engine is not None else ("taylor" if cfg.compile else "autograd"))
    if named:
        reseed_engine(eng, int(seed))
    config = {"problem": {"name": problem.name, "params": problem.params(),
                          "class": f"{type(problem).__module__}:{type(problem).__qualname__}",
                          "fields": list(problem.fields), "domain": domain_record(problem.domain)},
              "model": _architecture(net, out),
              "sampler": sampler.describe(), "engine": eng.describe(), "settings": cfg.describe(),
              "n_interior": n_interior, "seed": int(seed), "dtype": str(dt).replace("torch.", ""),
              "device": str(dev)}
    if communicator is not None or scaling != "strong":
        from .training.data_parallel import DataParallel

        config["parallel"] = DataParallel(communicator, scaling).describe(int(seed))
    if observations:
        config["data"] = [c.describe() for c in observations]
    if reduction is not None:
        config["reduction"] = getattr(reduction, "__qualname__", None) or repr(reduction)
    if plan is not None:
        config["recipe"] = plan.describe()
    prov = provenance(dev, dt, int(seed))
    writer = communicator is None or communicator.is_writer
    trainer = Trainer(problem, net, sampler, eng, cfg, device=dev, dtype=dt, seed=int(seed),
                      quiet=quiet or not writer, callbacks=callbacks, reduction=reduction,
                      communicator=communicator, scaling=scaling, data=observations)
    if plan is not None:
        trainer.progress.message(f"{plan.name} recipe for {problem.name!r}:\n  " + "\n  ".join(plan.rules))
    return _train_and_finish(trainer, config, prov, out if writer else None)


def _architecture(net: torch.nn.Module, out) -> dict:
    """The model's architecture for the config; a plain-callable output transform only without ``out``."""
    from .models import OutputTransform

    callables = [m for m in net.modules() if isinstance(m, OutputTransform) and m.source == "callable"]
    if callables:
        if out is not None:
            raise ValueError(f"the model's OutputTransform {callables[0].name!r} wraps a plain callable, which "
                             f"cannot be stored in the run file {str(out)!r} (it could not be loaded or resumed); "
                             "pass out=None to train without a file, or use OutputTransform.from_problem(model, "
                             "problem) or a built-in transform")
        inner = getattr(callables[0], "model", None)
        return {"type": type(net).__name__, "source": "callable", "name": callables[0].name,
                "inner": inner.architecture() if hasattr(inner, "architecture") else None}
    return net.architecture() if hasattr(net, "architecture") else {"type": type(net).__name__}


def _run_state(trainer: Trainer, config: dict, prov: dict, solution=None, metrics=None) -> dict:
    state = trainer.training_state()
    state.update(config=config, provenance=prov,
                 model={"architecture": config["model"], "state": trainer.model.state_dict()})
    if solution is not None:
        state["solution"], state["metrics"] = solution, metrics
    return state


def _train_and_finish(trainer: Trainer, config: dict, prov: dict, out) -> Run:
    write = None
    if out is not None:
        from .store import write_run

        out = str(out)
        Path(out).parent.mkdir(parents=True, exist_ok=True)

        def write(solution=None, metrics=None):
            write_run(out, _run_state(trainer, config, prov, solution, metrics))

        trainer.on_checkpoint = lambda t: write()
    try:
        trainer.run()
    except KeyboardInterrupt:
        trainer.status, trainer.message = "interrupted", "interrupted by the user"
        if write is not None:
            write()
        raise
    ref = reference_or_none(trainer.problem)
    if ref is None:  # nothing to validate against: keep the model and report the loss
        solution, metrics = None, {}
        last = trainer.history["loss"][-1] if trainer.history["loss"] else float("nan")
        note = (f"no reference solution: final loss {last:.3e}, no error metrics; validate the run file later "
                "with `pde validate RUN --reference FILE`")
        trainer.message = f"{trainer.message}; {note}" if trainer.message else note
    else:
        solution, metrics = evaluate(trainer.problem, trainer.model, ref=ref)
    metrics = _inverse_metrics(trainer, metrics)
    prov["end_time"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    if write is not None:
        write(solution, metrics)
    hist = {k: np.asarray(v) for k, v in trainer.history.items()}
    err = f"relative L2 error {metrics['rel_l2']:.3e}" if "rel_l2" in metrics else "no reference, no error metrics"
    fields = [f"{k.split('/', 1)[1]} {v:.3e}" for k, v in metrics.items() if k.startswith("rel_l2/")]
    err += f" ({', '.join(fields)})" if fields else ""
    trainer.progress.message(f"done: {trainer.status} after {trainer.step} steps in {trainer.wall_time:.1f} s; {err}")
    trainer.parallel.comm.barrier()  # with several processes: return once the writer's file is complete
    for line in trainer.__dict__.get("_identified", []):
        trainer.progress.message(line)
    return Run(trainer.problem, trainer.model, config, hist, metrics, trainer.status, trainer.message,
               trainer.wall_time, out, solution, step=trainer.step, unknowns=trainer.unknowns.as_floats(),
               warnings=list(getattr(trainer, "warnings", [])))


def _inverse_metrics(trainer: Trainer, metrics: dict) -> dict:
    """``metrics`` plus the identified unknowns (``param/NAME``, ``param/NAME/rel_error``) and the data misfit
    per observation and field (``data/NAME/FIELD/rel_l2``, ``.../rmse``); the lines to print in
    ``trainer._identified``."""
    from .observations import data_misfit
    from .unknowns import unknown_summary

    extra, lines = unknown_summary(trainer.unknowns.as_floats(),
                                   {n: u.describe() for n, u in trainer.unknowns.declared.items()})
    misfit = data_misfit(trainer)
    for k, v in misfit.items():
        if k.endswith("/rel_l2"):
            lines.append(f"data misfit {k[5:-7]}: relative L2 {v:.3e}, rmse {misfit[k[:-7] + '/rmse']:.3e}")
    trainer._identified = lines
    # per-field errors (an unknown field judged on its own) come with the metrics (pde.metrics.field_metrics)
    return {**(metrics or {}), **extra, **misfit}

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import registry
from .collocation import AbstractSampler, RandomSampler
from .derivatives.base import AbstractDerivativeEngine
from .metrics import all_metrics
from .problem import AbstractProblem
from .training.trainer import Settings, Trainer

__all__ = ["Run", "solve", "resolve_device", "resolve_dtype", "evaluate"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device=None) -> torch.device:
    """``None``/``"auto"``: CUDA when available, else CPU. Raises for CUDA without a GPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} requested but CUDA is not available; use 'cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {str(device)!r}; allowed: cpu, cuda, cuda:N")
    return dev


def resolve_dtype(dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return DTYPES[dtype]


@dataclass
class Run:
    """A finished (or stopped) training run.

    ``history`` maps column names (``step``, ``wall_time``, ``lr``, ``loss``, ``loss/TERM``)
    to 1-D arrays; ``metrics`` holds ``rel_l2``, ``max_abs`` and ``rmse`` against the
    reference; ``solution`` the evaluation points, prediction, reference and error.
    """

    problem: AbstractProblem
    model: torch.nn.Module
    config: dict
    history: dict
    metrics: dict
    status: str = "finished"
    message: str = ""
    wall_time: float = 0.0
    path: str | None = None
    solution: dict | None = field(default=None, repr=False)

    def predict(self, points) -> torch.Tensor:
        """Model output ``(N, m)`` at ``points`` ``(N, d)`` (array or tensor), without gradients."""
        p = next(self.model.parameters())
        pts = torch.as_tensor(points, device=p.device, dtype=p.dtype)
        with torch.no_grad():
            return self.model(pts)


def evaluate(problem: AbstractProblem, model: torch.nn.Module, batch: int = 65536):
    """Evaluate ``model`` on the problem's reference; returns ``(solution dict, metrics dict)``."""
    ref = problem.reference()
    p = next(model.parameters())
    preds = []
    with torch.no_grad():
        for i in range(0, ref.points.shape[0], batch):
            x = torch.as_tensor(ref.points[i:i + batch], device=p.device, dtype=p.dtype)
            preds.append(model(x).double().cpu())
    pred = torch.cat(preds).numpy()
    if pred.shape != ref.values.shape:
        raise ValueError(f"model output shape {pred.shape} does not match reference {ref.values.shape}")
    sol = {"axes": ref.axes, "points": ref.points, "prediction": pred, "reference": ref.values,
           "error": pred - ref.values, "fields": list(problem.fields), "source": ref.source}
    return sol, all_metrics(pred, ref.values)


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


def _make_engine(engine) -> AbstractDerivativeEngine:
    if isinstance(engine, AbstractDerivativeEngine):
        return engine
    if isinstance(engine, str):
        return registry.lookup("engine", engine)()
    raise TypeError(f"engine must be a name or an AbstractDerivativeEngine, got {type(engine).__name__}")


def _settings(problem: AbstractProblem, overrides: dict) -> tuple[Settings, int]:
    merged = {**problem.default_settings(), **{k: v for k, v in overrides.items() if v is not None}}
    n_interior = merged.pop("n_interior", 2000)
    merged.pop("hard", None)
    names = {f.name for f in dataclasses.fields(Settings)}
    unknown = set(merged) - names
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; allowed: n_interior, {', '.join(sorted(names))}")
    return Settings(**merged), n_interior


def solve(problem, model=None, *, sampler: AbstractSampler | str | None = None, engine=None,
          steps: int | None = None, lbfgs_steps: int | None = None, device=None, dtype="float32", seed: int = 0,
          out: str | Path | None = None, quiet: bool = False, hard: bool | None = None, **settings) -> Run:
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
    ``torch.compile`` training step), and ``n_interior``.
    """
    problem = _make_problem(problem)
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    cfg, n_interior = _settings(problem, {"steps": steps, "lbfgs_steps": lbfgs_steps, **settings})
    torch.manual_seed(seed)
    net = _make_model(model, problem, hard).to(dev, dt)
    if isinstance(sampler, str):
        sampler = registry.lookup("sampler", sampler)(n=n_interior)
    sampler = sampler if sampler is not None else RandomSampler(n=n_interior)
    eng = _make_engine(engine if engine is not None else ("taylor" if cfg.compile else "autograd"))
    config = {"problem": {"name": problem.name, "params": problem.params(),
                          "class": f"{type(problem).__module__}:{type(problem).__qualname__}"},
              "model": net.architecture() if hasattr(net, "architecture") else {"type": type(net).__name__},
              "sampler": sampler.describe(), "engine": eng.describe(), "settings": cfg.describe(),
              "n_interior": n_interior, "seed": int(seed), "dtype": str(dt).replace("torch.", ""),
              "device": str(dev)}
    prov = provenance(dev, dt, int(seed))
    trainer = Trainer(problem, net, sampler, eng, cfg, device=dev, dtype=dt, seed=int(seed), quiet=quiet)
    return _train_and_finish(trainer, config, prov, out)


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
    solution, metrics = evaluate(trainer.problem, trainer.model)
    prov["end_time"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    if write is not None:
        write(solution, metrics)
    hist = {k: np.asarray(v) for k, v in trainer.history.items()}
    trainer.progress.message(f"done: {trainer.status} after {trainer.step} steps in {trainer.wall_time:.1f} s; "
                             f"relative L2 error {metrics['rel_l2']:.3e}")
    return Run(trainer.problem, trainer.model, config, hist, metrics, trainer.status, trainer.message,
               trainer.wall_time, out, solution)

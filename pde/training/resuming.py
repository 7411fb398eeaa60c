"""Resume a run from its HDF5 file: same problem, model, sampler, optimizer state and RNG state."""

from __future__ import annotations

from .. import registry
from ..solve import Run, _make_engine, _train_and_finish, resolve_device, resolve_dtype
from .trainer import Settings, Trainer

__all__ = ["resume"]


def _rebuild_problem(cfg: dict):
    cls = registry._load_spec(cfg["class"]) if ":" in cfg.get("class", "") else registry.lookup("problem",
                                                                                                 cfg["name"])
    return cls(**cfg.get("params", {}))


def resume(path, steps: int | None = None, *, quiet: bool = False, device=None) -> Run:
    """Continue the run stored at ``path`` from its last checkpoint until ``steps`` total steps.

    ``steps`` (optional) raises the total step count (Adam steps, with the L-BFGS
    iterations kept); without it the run continues to its configured end. The file is
    updated in place (atomically at each checkpoint).
    """
    from .. import models as M
    from ..store import read_run

    state = read_run(path)
    cfg = state["config"]
    problem = _rebuild_problem(cfg["problem"])
    dev = resolve_device(device if device is not None else cfg["device"])
    dt = resolve_dtype(cfg["dtype"])
    model = M.from_architecture(state["model"]["architecture"], problem=problem).to(dev, dt)
    model.load_state_dict({k: v.to(dev, dt) if v.is_floating_point() else v.to(dev)
                           for k, v in state["model"]["state"].items()})
    sdesc = dict(cfg["sampler"])
    sampler = registry.lookup("sampler", sdesc.pop("name"))(**sdesc)
    settings = dict(cfg["settings"])
    if steps is not None:
        if steps < state["step"]:
            raise ValueError(f"--steps {steps} is below the {state['step']} steps already done")
        settings["steps"] = int(steps) - settings.get("lbfgs_steps", 0)
        if settings["steps"] < 0:
            raise ValueError(f"--steps {steps} is fewer than the configured L-BFGS iterations")
        cfg["settings"] = {**cfg["settings"], "steps": settings["steps"]}
    eng_desc = dict(cfg["engine"])
    engine = _make_engine(registry.lookup("engine", eng_desc.pop("name"))(**eng_desc))
    trainer = Trainer(problem, model, sampler, engine, Settings(**settings), device=dev, dtype=dt,
                      seed=int(cfg["seed"]), quiet=quiet)
    trainer.load_training_state(state)
    prov = dict(state["provenance"])
    prov["resumed_from_step"] = int(state["step"])
    return _train_and_finish(trainer, cfg, prov, str(path))

"""Resume a run from its HDF5 file: same problem, model, sampler, optimizer state and RNG state."""

from __future__ import annotations

from .. import registry
from ..solve import Run, _make_engine, _train_and_finish, resolve_device, resolve_dtype
from .trainer import Settings, Trainer

__all__ = ["resume"]


def _rebuild_problem(cfg: dict):
    cls = registry._load_spec(cfg["class"]) if ":" in cfg.get("class", "") else registry.lookup("problem",
                                                                                                 cfg["name"])
    from ..unknowns import restore_params

    return cls(**restore_params(cfg.get("params", {})))


def resume(path, steps: int | None = None, *, quiet: bool = False, device=None, model=None, callbacks=(),
           reduction=None) -> Run:
    """Continue the run stored at ``path`` from its last checkpoint until ``steps`` total steps.

    ``steps`` (optional) raises the total step count (Adam steps, with the L-BFGS
    iterations kept); without it the run continues to its configured end. The file is
    updated in place (atomically at each checkpoint). ``model``: the run's own module (a custom
    ``nn.Module``, or a model with added submodules or learnable extra parameters) to load the stored
    weights into, strictly, when it cannot be rebuilt from the stored architecture alone.
    ``callbacks`` / ``reduction``: as for :func:`pde.solve` (not stored in the file: a run trained with a
    reduction, which its config names, must be given it again; a stateful callback gets its stored state).
    Raises :class:`~pde.training.trainer.ResumeDeviceError` (a ``ValueError``) for a run whose random
    state comes from another device type (``--device cpu`` for a CUDA run).
    """
    from ..store import read_run, rebuild_model

    state = read_run(path)
    cfg = state["config"]
    if cfg.get("reduction") and reduction is None:
        raise ValueError(f"{str(path)!r} was trained with the loss reduction {cfg['reduction']!r}, which a run file "
                         "cannot store; pass it again: resume(path, reduction=...)")
    problem = _rebuild_problem(cfg["problem"])
    dev = resolve_device(device if device is not None else cfg["device"])
    dt = resolve_dtype(cfg["dtype"])
    model = rebuild_model(state["model"]["architecture"], state["model"]["state"], problem,
                          model=model).to(dev, dt).train()
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
    from ..observations import restore_observations

    trainer = Trainer(problem, model, sampler, engine, Settings(**settings), device=dev, dtype=dt,
                      seed=int(cfg["seed"]), quiet=quiet, callbacks=callbacks, reduction=reduction,
                      data=restore_observations(state["sampler"]["state"]))
    trainer.load_training_state(state)
    prov = dict(state["provenance"])
    prov["resumed_from_step"] = int(state["step"])
    return _train_and_finish(trainer, cfg, prov, str(path))

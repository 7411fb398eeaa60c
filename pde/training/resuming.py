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


def _check_parallel(cfg: dict, communicator) -> tuple[dict | None, str]:
    """The stored ``parallel`` record and the scaling mode to resume in; refuses what cannot continue exactly.

    A strong-scaling run stores the global state (every rank holds the same points, generator and optimiser),
    so it continues exactly on any world size that divides its point counts. A weak-scaling run's other ranks'
    points and generators are not in the file (only rank 0 writes), so it cannot be resumed.
    """
    par = cfg.get("parallel")
    world = communicator.world_size if communicator is not None else 1
    if par is None:
        if world == 1:
            return None, "strong"
        par = {"world_size": 1, "scaling": "strong"}
    if par.get("scaling") == "weak" and max(int(par.get("world_size", 1)), world) > 1:
        raise ValueError(f"this run used weak scaling on {par['world_size']} process(es) and is resumed on {world}: "
                         "each process's points come from (seed, rank) and only rank 0's are in the file, so it "
                         "cannot continue exactly; start a new run")
    par = {**par, "world_size": world, "backend": (communicator.backend if communicator is not None else None)
           or "none", "rank_seeds": [int(cfg["seed"])] * world, "resumed_from_world_size": par["world_size"]}
    return par, par.get("scaling", "strong")


def resume(path, steps: int | None = None, *, quiet: bool = False, device=None, model=None, callbacks=(),
           reduction=None, communicator=None) -> Run:
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
    ``communicator``: continue on several processes (:mod:`pde.distributed`). A strong-scaling run continues
    exactly on any world size dividing its point counts (the file holds the global state; the config's
    ``parallel`` record gets the new world size and ``resumed_from_world_size``); a weak-scaling run on several
    processes is refused (``ValueError``). Only the writer rank updates the file.
    """
    from ..store import read_run, rebuild_model

    state = read_run(path)
    cfg = state["config"]
    if cfg.get("reduction") and reduction is None:
        raise ValueError(f"{str(path)!r} was trained with the loss reduction {cfg['reduction']!r}, which a run file "
                         "cannot store; pass it again: resume(path, reduction=...)")
    parallel, scaling = _check_parallel(cfg, communicator)
    if parallel is not None:
        cfg["parallel"] = parallel
    multi = communicator is not None and communicator.world_size > 1
    problem = _rebuild_problem(cfg["problem"])
    dev = resolve_device(communicator.device if multi else device if device is not None else cfg["device"])
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
    writer = communicator is None or communicator.is_writer
    trainer = Trainer(problem, model, sampler, engine, Settings(**settings), device=dev, dtype=dt,
                      seed=int(cfg["seed"]), quiet=quiet or not writer, callbacks=callbacks, reduction=reduction,
                      communicator=communicator, scaling=scaling)
    trainer.load_training_state(state)
    prov = dict(state["provenance"])
    prov["resumed_from_step"] = int(state["step"])
    return _train_and_finish(trainer, cfg, prov, str(path) if writer else None)

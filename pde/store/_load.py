"""``load(path)``: a run file as an object with its configuration, history, metrics and rebuilt model."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..run import Run
from ._file import RunFileError, read_run

__all__ = ["Run", "load", "load_pinn", "rebuild_problem", "rebuild_model", "CUSTOM_MODEL_HINT"]


def _problem_spec(config: dict) -> tuple[str | None, dict]:
    prob = config.get("problem")
    if isinstance(prob, str):
        return prob, dict(config.get("problem_params") or config.get("params") or {})
    if isinstance(prob, dict):
        return prob.get("name"), dict(prob.get("params") or {})
    return None, {}


def rebuild_problem(config: dict):
    """The problem named in ``config`` with the stored parameters, or None when it cannot be rebuilt.

    Looks the name up in the problem registry (``problems.REGISTRY``); a stored class spec
    ``module:Class`` is used when the module is importable (file paths are never executed).
    """
    name, params = _problem_spec(config)
    prob = config.get("problem") if isinstance(config.get("problem"), dict) else {}
    cls = None
    try:
        from .. import registry

        cls = registry.lookup("problem", name) if name else None
    except Exception:  # unknown name or problems package unavailable
        cls = None
    spec = prob.get("class", "")
    if cls is None and ":" in spec and not spec.split(":")[0].endswith(".py") and "/" not in spec:
        try:
            from .. import registry

            cls = registry._load_spec(spec)
        except Exception:
            cls = None
    if cls is None:
        return None
    from ..unknowns import restore_params

    params = restore_params(params)
    try:
        return cls(**params)
    except TypeError:
        # parameters stored as JSON may include derived entries; keep what the class accepts
        import inspect

        try:
            accepted = inspect.signature(cls).parameters
            return cls(**{k: v for k, v in params.items() if k in accepted})
        except (TypeError, ValueError):
            return None
    except ValueError:
        return None


def _strict_load(module: torch.nn.Module, state: dict, what: str) -> None:
    """``module.load_state_dict(state)`` (strict), with a mismatch reported as a :class:`RunFileError`."""
    mine = module.state_dict()
    missing = [k for k in mine if k not in state]
    unexpected = [k for k in state if k not in mine]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(mine[k].shape)}" for k in mine
              if k in state and hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(mine[k].shape)]
    if missing or unexpected or shapes:
        parts = ([f"stored entries the model lacks: {', '.join(unexpected[:6])}"] if unexpected else []) + \
                ([f"model entries the file lacks: {', '.join(missing[:6])}"] if missing else []) + \
                ([f"different shapes: {', '.join(shapes[:4])}"] if shapes else [])
        raise RunFileError(f"the stored weights do not fit {what} ({'; '.join(parts)})")
    module.load_state_dict(state, strict=True)


def _to_state_dtype(module: torch.nn.Module, state: dict) -> torch.nn.Module:
    ref = next((v for v in state.values() if isinstance(v, torch.Tensor) and v.is_floating_point()), None)
    return module.to(ref.dtype) if ref is not None else module


CUSTOM_MODEL_HINT = ("the run's model is not rebuildable from its stored architecture alone (a custom nn.Module, or "
                     "a model with added submodules or parameters); pass an instance of it: "
                     "pde.load(path, model=MyModel(...)) or resume(path, model=MyModel(...)), and its weights are "
                     "loaded into it (strictly)")


def rebuild_model(architecture: dict, state: dict | None, problem=None, device=None, *,
                  model: torch.nn.Module | None = None) -> torch.nn.Module:
    """Model from its architecture description and weights (no pickle).

    model: the user's own module to load the weights into (strict: every entry must match in name and
    shape) instead of rebuilding one from ``architecture``; needed for custom ``nn.Module`` s and for
    models with added submodules or learnable extra parameters. An unbuilt pdekit model is built first
    for the problem's domain (or the recorded box).
    """
    if model is not None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        if hasattr(model, "build") and not getattr(model, "built", True):
            if problem is not None:
                model.build(problem.domain, len(problem.fields))
            else:
                from ..models.base import _box

                model.build(_box(architecture), architecture["n_fields"])
        net = model
        what = f"the given {type(model).__name__}"
    else:
        try:
            from ..models import from_architecture
        except ImportError as e:
            raise RunFileError(f"cannot rebuild the model: pde.models.from_architecture is unavailable ({e})") from None
        try:
            net = from_architecture(architecture, problem=problem)
        except (KeyError, TypeError, ValueError) as e:
            raise RunFileError(f"cannot rebuild model from architecture {architecture!r}: {e}; "
                               f"{CUSTOM_MODEL_HINT}") from None
        what = f"the rebuilt {type(net).__name__}"
    if state is not None:
        net = _to_state_dtype(net, state)
        try:
            _strict_load(net, state, what)
        except RunFileError as e:
            raise RunFileError(f"{e}; {CUSTOM_MODEL_HINT}" if model is None else str(e)) from None
    if device is not None:
        net = net.to(device)
    return net.eval()


def domain_description(config: dict) -> dict | None:
    prob = config.get("problem")
    if isinstance(prob, dict) and isinstance(prob.get("domain"), dict):
        return prob["domain"]
    return config.get("domain") if isinstance(config.get("domain"), dict) else None


def load_pinn(data: dict, path, *, device=None, model=True) -> Run:
    """A PINN :class:`~pde.run.Run` from :func:`read_run`'s dict (``model``: True, False or an nn.Module)."""
    problem = rebuild_problem(data["config"])
    unknowns = dict((data.get("unknowns") or {}).get("value") or {})
    if problem is not None and data.get("unknowns"):
        from ..unknowns import unknown_parameters

        unknown_parameters(problem).load(data["unknowns"])
    net = None
    if model is not False and model is not None and data["model"] is not None:
        net = rebuild_model(data["model"]["architecture"], data["model"]["state"], problem,
                            torch.device(device) if device is not None else None,
                            model=model if isinstance(model, torch.nn.Module) else None)
    return Run(problem=problem, model=net, config=data["config"], history=data["history"], metrics=data["metrics"],
               status=data["status"], message=data["message"], wall_time=data.get("wall_time"), path=Path(path),
               solution=data["solution"], kind="pinn", provenance=data["provenance"], step=data["step"],
               snapshots=data["snapshots"], raw=data, unknowns={k: float(v) for k, v in unknowns.items()},
               warnings=list(data.get("warnings") or []))


def load(path: str | os.PathLike, device=None, *, model: bool | torch.nn.Module = True) -> Run:
    """Load a run file of any kind: configuration, history, metrics and the model on ``device``.

    model: True (rebuild it from the stored architecture), False (no model), or the user's own
    ``nn.Module`` to load the stored weights into (strictly): the way to load a custom model or one
    with added submodules or learnable extra parameters. PINN problems are rebuilt from
    ``problems.REGISTRY`` by name and parameters when possible (models with output transforms need it);
    operator runs are loaded by the handler registered for their kind (``pde.registry.run_kind``).
    Files are never unpickled.
    """
    data = read_run(path, map_location="cpu")
    kind = data.get("kind", "pinn")
    if kind == "pinn":
        return load_pinn(data, path, device=device, model=model)
    from .. import registry

    return registry.run_kind(kind).load_run(data, path, device=device, model=model)

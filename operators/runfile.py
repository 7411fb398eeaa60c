"""Operator runs in pdekit's one run-file format (``kind = "operator"``, ``docs/run-schema.md``).

Written by :func:`pde.store.write_run` (atomic: unique temporary file, fsync, rename; schema version),
read back without unpickling. This module is the handler ``pde`` finds for operator runs through
``pde.registry.run_kind("operator")``: :func:`load_run` (used by ``pde.load``) and
:func:`validate_command` (used by ``pde validate``).

Layout of an operator run (beyond the common root attributes, ``/config``, ``/provenance``, ``/history``,
``/metrics``)::

    attrs kind = "operator"
    /history/<name>        (epochs,) train_loss, test_l2, lr, epoch_seconds
    /model                 attribute architecture = {"type": "operator", "name", "options", "in_channels",
                           "out_channels", "dim", "normalized": true}; state: the Normalized model's state_dict
    /predictions/{x,y,pred}  a few test samples at the training resolution

``python -m operators.runfile upgrade FILE`` converts a file of the layout before run schema 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from pde.run import Run
from pde.store import RunFileError, read_run, write_run

__all__ = ["architecture", "write_operator_run", "read_operator_run", "load_run", "validate_command", "upgrade"]


def architecture(config: dict) -> dict:
    """The model description stored for an operator run (enough to rebuild a registered model)."""
    return {"type": "operator", "name": config["model"], "options": dict(config.get("model_options") or {}),
            "in_channels": int(config["in_channels"]), "out_channels": int(config["out_channels"]),
            "dim": int(config["dim"]), "normalized": True}


def write_operator_run(path, *, config: dict, history: dict, metrics: dict, state: dict, predictions: dict,
                       status: str = "finished", step: int = 0, provenance: dict | None = None,
                       wall_time: float | None = None, message: str = "") -> Path:
    """Write an operator run through :func:`pde.store.write_run` (atomically)."""
    return write_run(path, {
        "kind": "operator", "config": config, "provenance": provenance or {}, "status": status, "step": int(step),
        "message": message, "wall_time": wall_time,
        "history": {k: np.asarray(v, dtype=np.float64) for k, v in history.items()},
        "model": {"architecture": architecture(config), "state": state},
        "metrics": {k: float(v) for k, v in metrics.items()},
        "predictions": {k: (v.detach().cpu().float().numpy() if isinstance(v, torch.Tensor) else np.asarray(v))
                        for k, v in predictions.items()},
    })


def read_operator_run(path) -> dict:
    """:func:`pde.store.read_run` of an operator run (refuses other kinds)."""
    data = read_run(path, map_location="cpu")
    if data.get("kind") != "operator":
        raise RunFileError(f"{str(path)!r} is a {data.get('kind')} run, not an operator run")
    return data


def rebuild(data: dict, *, device=None, model: bool | torch.nn.Module = True) -> torch.nn.Module | None:
    """The operator model of a run: rebuilt from the registry, or the user's module (strict load)."""
    from pde.store._load import CUSTOM_MODEL_HINT, _strict_load

    from .registry import MODELS, build_model
    from .training import Normalized

    if model is False or model is None:
        return None
    arch = data["model"]["architecture"]
    if isinstance(model, torch.nn.Module):
        net = model if isinstance(model, Normalized) else Normalized(model)
        what = f"the given {type(model).__name__}"
    else:
        if arch["name"] not in MODELS:
            raise RunFileError(f"the run's operator model {arch['name']!r} is not registered (registered: "
                               f"{', '.join(sorted(MODELS))}); {CUSTOM_MODEL_HINT}")
        net = Normalized(build_model(arch["name"], arch["in_channels"], arch["out_channels"], arch["dim"],
                                     **arch["options"]))
        what = f"the rebuilt {arch['name']}"
    _strict_load(net, data["model"]["state"], what)
    return net.to(device if device is not None else "cpu").eval()


def load_run(data: dict, path, *, device=None, model: bool | torch.nn.Module = True) -> Run:
    """A :class:`pde.run.Run` (``kind="operator"``) from :func:`pde.store.read_run`'s dict."""
    net = rebuild(data, device=device, model=model)
    return Run(problem=None, model=net, config=data["config"], history=data["history"], metrics=data["metrics"],
               status=data["status"], message=data["message"], wall_time=data.get("wall_time"), path=Path(path),
               solution=None, kind="operator", provenance=data["provenance"], step=data["step"], raw=data)


def validate_command(args) -> int:
    """``pde validate RUN.h5`` of an operator run: recompute the test errors from the dataset (JSON line)."""
    from .training import validate

    if getattr(args, "reference", None):
        raise ValueError("--reference is for PINN runs; an operator run is validated against its own dataset")
    result = validate(args.run, device=args.device)
    print(json.dumps(result))
    return 0 if result["matches"] else 1


def upgrade(path) -> Path:
    """Rewrite an operator run of the layout before run schema 2 (root attribute ``pdekit_run``) in place."""
    import h5py

    with h5py.File(path, "r") as f:
        if f.attrs.get("pdekit_run") not in ("operator", b"operator") or "format" in f.attrs:
            raise RunFileError(f"{str(path)!r} is not an operator run of the old layout")
        config = json.loads(f.attrs["config"])
        history = {k: np.asarray(f["history"][k][()]) for k in f["history"]}
        metrics = {k: float(v) for k, v in f["metrics"].attrs.items()}
        state = {k: torch.from_numpy(np.asarray(f["weights"][k][()])) for k in f["weights"]}
        preds = {k: np.asarray(f["predictions"][k][()]) for k in f["predictions"]} if "predictions" in f else {}
    epochs = len(history.get("train_loss", []))
    return write_operator_run(path, config=config, history=history, metrics=metrics, state=state,
                              predictions=preds, step=epochs)


if __name__ == "__main__":  # python -m operators.runfile upgrade FILE...
    if len(sys.argv) < 3 or sys.argv[1] != "upgrade":
        print("usage: python -m operators.runfile upgrade FILE...", file=sys.stderr)
        sys.exit(2)
    for p in sys.argv[2:]:
        print(upgrade(p))

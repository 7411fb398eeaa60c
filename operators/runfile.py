"""The operator run file (HDF5, h5py only), written atomically by :func:`write_run`.

Layout::

    attrs: pdekit_run = "operator", config (JSON string), created (UTC ISO), torch/numpy versions
    /history/<name>      (epochs,) float64   train_loss, test_l2, lr, epoch_seconds
    /metrics             attrs: every scalar metric (test_l2, test_h1, zero-shot errors, timings, ...)
    /weights/<param>     float32 arrays of the model state_dict (plain arrays, no pickle)
    /predictions/{x,y,pred}   a few test samples at the training resolution
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

import h5py
import numpy as np
import torch


def write_run(path, config: dict, history: dict, metrics: dict, state: dict, predictions: dict) -> Path:
    """Write (or overwrite) a run file atomically; all array values are numpy/torch arrays."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs.update({"pdekit_run": "operator", "config": json.dumps(config),
                        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                        "torch_version": str(torch.__version__), "numpy_version": str(np.__version__)})
        h = f.create_group("history")
        for k, v in history.items():
            h.create_dataset(k, data=np.asarray(v, dtype=np.float64))
        f.create_group("metrics").attrs.update({k: float(v) for k, v in metrics.items()})
        w = f.create_group("weights")
        for k, v in state.items():
            w.create_dataset(k, data=v.detach().cpu().numpy())
        p = f.create_group("predictions")
        for k, v in predictions.items():
            p.create_dataset(k, data=v.detach().cpu().numpy().astype(np.float32))
    os.replace(tmp, path)
    return path


def read_run(path) -> dict:
    """Read a run file into ``{"config", "history", "metrics", "state"}`` (state as torch tensors)."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("pdekit_run") != "operator":
            raise ValueError(f"{path} is not a pdekit operator run file")
        return {"config": json.loads(f.attrs["config"]),
                "history": {k: f["history"][k][()] for k in f["history"]},
                "metrics": dict(f["metrics"].attrs),
                "state": {k: torch.from_numpy(np.asarray(f["weights"][k][()])) for k in f["weights"]}}

"""``load(path)``: a run file as an object with its configuration, history, metrics and rebuilt model."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._file import RunFileError, read_run

__all__ = ["Run", "load", "rebuild_problem", "rebuild_model"]


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


def rebuild_model(architecture: dict, state: dict | None, problem=None, device=None) -> torch.nn.Module:
    """Model from its architecture description and weights (no pickle)."""
    try:
        from ..models import from_architecture
    except ImportError as e:
        raise RunFileError(f"cannot rebuild the model: pde.models.from_architecture is unavailable ({e})") from None
    try:
        model = from_architecture(architecture, problem=problem)
    except (KeyError, TypeError, ValueError) as e:
        raise RunFileError(f"cannot rebuild model from architecture {architecture!r}: {e}") from None
    if state is not None:
        ref = next(iter(state.values()), None)
        if ref is not None and ref.is_floating_point():
            model = model.to(ref.dtype)
        model.load_state_dict(state)
    if device is not None:
        model = model.to(device)
    return model.eval()


@dataclass
class Run:
    """A stored run. ``model`` is rebuilt and ready to evaluate (``run.predict(points)``)."""

    path: Path
    config: dict
    provenance: dict
    history: dict[str, np.ndarray]
    metrics: dict | None
    status: str
    step: int
    message: str
    solution: dict | None
    snapshots: list[dict]
    model: torch.nn.Module | None
    problem: Any = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def device(self) -> torch.device:
        p = next(self.model.parameters(), None) if self.model is not None else None
        return p.device if p is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        p = next(self.model.parameters(), None) if self.model is not None else None
        return p.dtype if p is not None else torch.float32

    @property
    def coordinates(self) -> list[str]:
        """Coordinate names in model-input order."""
        if self.problem is not None:
            return list(self.problem.domain.names)
        dom = domain_description(self.config)
        if dom and dom.get("names"):
            return list(dom["names"])
        if self.solution is not None:
            return list(self.solution["coordinates"])
        raise RunFileError(f"{self.path}: the run records no coordinate names")

    @property
    def fields(self) -> list[str]:
        if self.problem is not None:
            return list(self.problem.fields)
        prob = self.config.get("problem")
        if isinstance(prob, dict) and prob.get("fields"):
            return list(prob["fields"])
        if self.solution is not None:
            return list(self.solution["fields"])
        return ["u"]

    @property
    def wall_time(self) -> float | None:
        wt = self.history.get("wall_time")
        return float(wt[-1]) if wt is not None and len(wt) else None

    def predict(self, points, *, batch_size: int = 65536) -> torch.Tensor:
        """Model fields ``(N, m)`` at ``points`` ``(N, d)`` (array or tensor), without gradients,
        as a tensor on the model's device and dtype (like :meth:`pde.solve.Run.predict`)."""
        if self.model is None:
            raise RunFileError(f"{self.path}: the run stores no model")
        pts = torch.as_tensor(points).to(device=self.device, dtype=self.dtype)
        if pts.ndim != 2 or pts.shape[1] != len(self.coordinates):
            raise ValueError(f"points must have shape (N, {len(self.coordinates)}) with columns "
                             f"{', '.join(self.coordinates)}, got {tuple(pts.shape)}")
        outs = []
        with torch.no_grad():
            for i in range(0, pts.shape[0], batch_size):
                y = self.model(pts[i:i + batch_size])
                outs.append(y if y.ndim == 2 else y[:, None])
        return torch.cat(outs) if outs else pts.new_zeros((0, len(self.fields)))

    def predict_numpy(self, points) -> np.ndarray:
        """:meth:`predict` as a float64 numpy array on the host."""
        return self.predict(points).double().cpu().numpy()


def domain_description(config: dict) -> dict | None:
    prob = config.get("problem")
    if isinstance(prob, dict) and isinstance(prob.get("domain"), dict):
        return prob["domain"]
    return config.get("domain") if isinstance(config.get("domain"), dict) else None


def load(path: str | os.PathLike, device=None, *, model: bool = True) -> Run:
    """Load a run file: configuration, history, metrics and the model rebuilt on ``device``.

    The problem is rebuilt from ``problems.REGISTRY`` by name and parameters when possible
    (models with output transforms need it); files are never unpickled.
    """
    data = read_run(path, map_location="cpu")
    problem = rebuild_problem(data["config"])
    net = None
    if model and data["model"] is not None:
        net = rebuild_model(data["model"]["architecture"], data["model"]["state"], problem,
                            torch.device(device) if device is not None else None)
    return Run(Path(path), data["config"], data["provenance"], data["history"], data["metrics"], data["status"],
               data["step"], data["message"], data["solution"], data["snapshots"], net, problem, data)

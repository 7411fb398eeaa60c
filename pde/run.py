"""``Run``: the one result type of pdekit, returned by ``solve``, ``resume``, ``load`` and ``operators.train``.

A run has a ``kind``: ``"pinn"`` (a model mapping points ``(N, d)`` to fields ``(N, m)``) or
``"operator"`` (a model mapping functions ``(B, C_in, *S)`` to functions ``(B, C_out, *S)``).
Both kinds are stored in the same run file (``docs/run-schema.md``) by :mod:`pde.store`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["Run", "RUN_KINDS", "domain_record"]

#: the kinds of run a run file can hold
RUN_KINDS = ("pinn", "operator")


def domain_record(domain) -> dict:
    """What a run file records of a domain from the start: ``{"type", "names", "lower", "upper"}``.

    Enough to name the model's input columns and to refuse extrapolation in ``pde validate``
    even when the problem itself cannot be rebuilt (a user's ``file.py:Class``).
    """
    lo, hi = domain.bounds
    return {"type": type(domain).__name__, "names": [str(n) for n in domain.names],
            "lower": [float(v) for v in lo], "upper": [float(v) for v in hi]}


def find_in_architecture(arch, key: str):
    """First list-valued entry ``key`` in a (possibly nested) model architecture dict, else None."""
    if isinstance(arch, dict):
        if isinstance(arch.get(key), list):
            return arch[key]
        for v in arch.values():
            found = find_in_architecture(v, key)
            if found is not None:
                return found
    return None


class RunError(ValueError):
    """A run lacks what was asked of it (no model, no coordinate names, wrong kind)."""


@dataclass
class Run:
    """A training run: finished, stopped, or loaded back from its run file.

    problem: the problem (PINN runs; None when it cannot be rebuilt from the file).
    model: the trained ``nn.Module`` (None when loaded with ``model=False``).
    config: the configuration as stored (problem, model architecture, settings, seed, ...).
    history: column name (``step``, ``wall_time``, ``lr``, ``loss``, ``loss/TERM``; operators
    ``train_loss``, ``test_l2``, ...) -> 1-D array.
    metrics: ``rel_l2``, ``max_abs``, ``rmse`` against the reference (PINN), ``test_l2``, ... (operators);
    None or empty when the problem has no reference.
    status: ``running``, ``finished``, ``diverged`` or ``interrupted``; message: why it stopped.
    wall_time: training seconds. path: the run file, or None.
    solution: evaluation points ``(N, d)``, prediction/reference/error ``(N, m)`` (PINN), or None.
    kind: ``"pinn"`` or ``"operator"``. provenance: versions, device, seed, times.
    step: training step of the stored state (None when not recorded).
    snapshots: sampler snapshots ``{"step", "points" (n, d), "residual" (n,)}``.
    raw: everything read from the file (``pde.store.read_run``'s dict), when loaded.
    unknowns: the identified values of the problem's unknown parameters, name -> float (:mod:`pde.unknowns`).
    warnings: the training loop's warnings kept in the run file (e.g. a loss imbalance), when loaded.
    """

    problem: Any = None
    model: torch.nn.Module | None = None
    config: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    metrics: dict | None = None
    status: str = "finished"
    message: str = ""
    wall_time: float | None = None
    path: Path | str | None = None
    solution: dict | None = field(default=None, repr=False)
    kind: str = "pinn"
    provenance: dict = field(default_factory=dict, repr=False)
    step: int | None = None
    snapshots: list = field(default_factory=list, repr=False)
    raw: dict = field(default_factory=dict, repr=False)
    unknowns: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        if self.kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {', '.join(RUN_KINDS)}, got {self.kind!r}")
        if self.wall_time is None:
            wt = self.history.get("wall_time") if isinstance(self.history, dict) else None
            if wt is not None and len(wt):
                self.wall_time = float(np.asarray(wt)[-1])
            elif isinstance(self.history, dict) and self.history.get("epoch_seconds") is not None:
                self.wall_time = float(np.sum(self.history["epoch_seconds"]))

    # -- where the model lives ------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        p = next(self.model.parameters(), None) if self.model is not None else None
        return p.device if p is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        p = next(self.model.parameters(), None) if self.model is not None else None
        return p.dtype if p is not None else torch.float32

    # -- names ------------------------------------------------------------------------------
    def _domain(self) -> dict | None:
        prob = self.config.get("problem")
        if isinstance(prob, dict) and isinstance(prob.get("domain"), dict):
            return prob["domain"]
        return self.config.get("domain") if isinstance(self.config.get("domain"), dict) else None

    @property
    def coordinates(self) -> list[str]:
        """Coordinate names in model-input order (PINN runs).

        From the problem's domain, else the domain recorded in the run's config, else the names the
        model was built for, else the stored solution's coordinates; raises when none records them.
        """
        if self.kind != "pinn":
            raise RunError(f"{self.path}: an {self.kind} run maps functions to functions; it has no coordinates")
        if self.problem is not None:
            return list(self.problem.domain.names)
        dom = self._domain()
        if dom and dom.get("names"):
            return list(dom["names"])
        names = find_in_architecture(self.config.get("model"), "names")
        if names:
            return [str(n) for n in names]
        if self.solution is not None and self.solution.get("coordinates"):
            return list(self.solution["coordinates"])
        raise RunError(f"{self.path}: the run records no coordinate names (no rebuildable problem, no domain in "
                       "its config, no names in its model architecture)")

    def bounds(self) -> tuple[list[str], list[float], list[float]] | None:
        """``(names, lower, upper)`` of the run's domain bounding box, or None when not recorded."""
        if self.problem is not None:
            lo, hi = self.problem.domain.bounds
            return list(self.problem.domain.names), list(lo), list(hi)
        dom = self._domain()
        if dom and dom.get("names") and dom.get("lower") is not None and dom.get("upper") is not None:
            return list(dom["names"]), list(dom["lower"]), list(dom["upper"])
        arch = self.config.get("model")
        names = find_in_architecture(arch, "names")
        lo, hi = find_in_architecture(arch, "lower"), find_in_architecture(arch, "upper")
        if names and lo is not None and hi is not None:
            return [str(n) for n in names], list(lo), list(hi)
        return None

    @property
    def fields(self) -> list[str]:
        """Field names (PINN runs): the problem's, the config's, the stored solution's, else ``["u"]``."""
        if self.problem is not None:
            return list(self.problem.fields)
        prob = self.config.get("problem")
        if isinstance(prob, dict) and prob.get("fields"):
            return list(prob["fields"])
        if self.solution is not None and self.solution.get("fields"):
            return list(self.solution["fields"])
        return ["u"]

    # -- evaluation -------------------------------------------------------------------------
    def predict(self, inputs, *, batch_size: int = 65536) -> torch.Tensor:
        """The model at ``inputs``, without gradients, as a tensor on the model's device and dtype.

        PINN runs: points ``(N, d)`` -> fields ``(N, m)`` (columns in :attr:`coordinates` order),
        evaluated in blocks of ``batch_size`` rows. Operator runs: ``(B, C_in, *S)`` -> ``(B, C_out, *S)``.
        """
        if self.model is None:
            raise RunError(f"{self.path}: the run holds no model (loaded with model=False?)")
        from .evaluation import SampledPoints, rows_per_chunk

        if isinstance(inputs, SampledPoints):  # drawn and evaluated block by block
            rows = rows_per_chunk(inputs.shape[1], max_rows=batch_size)
            return torch.cat([self.predict(inputs[i:i + rows], batch_size=batch_size)
                              for i in range(0, len(inputs), rows)])
        x = torch.as_tensor(inputs).to(device=self.device, dtype=self.dtype)
        if self.kind == "operator":
            with torch.no_grad():
                return self.model(x)
        try:
            names = self.coordinates
        except RunError:
            names = None
        if x.ndim != 2 or (names is not None and x.shape[1] != len(names)):
            want = f"(N, {len(names)}) with columns {', '.join(names)}" if names else "(N, d)"
            raise ValueError(f"points must have shape {want}, got {tuple(x.shape)}")
        outs = []
        with torch.no_grad():
            for i in range(0, x.shape[0], batch_size):
                y = self.model(x[i:i + batch_size])
                outs.append(y if y.ndim == 2 else y[:, None])
        return torch.cat(outs) if outs else x.new_zeros((0, len(self.fields)))

    def predict_numpy(self, inputs) -> np.ndarray:
        """:meth:`predict` as a float64 numpy array on the host."""
        return self.predict(inputs).double().cpu().numpy()

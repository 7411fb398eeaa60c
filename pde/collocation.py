"""The collocation-sampler interface and the plain random/quasi-random sampler.

The training loop owns one sampler for the PDE residual's interior points:

1. ``setup(domain, generator=..., device=..., dtype=...)`` once;
2. each step ``points()`` gives the current ``(n, d)`` tensor;
3. when ``wants_update(step)`` is true, the loop calls ``update(step, points, residual)``
   with the per-point squared residual ``(n,)`` it already computed at those points
   (detached; summed over residual components), and, for samplers that say
   ``needs_model``, ``update_with_model(step, residual_fn)`` where
   ``residual_fn(points) -> (n,)`` evaluates the squared residual at new points;
4. ``state_dict()`` / ``load_state_dict()`` checkpoint and resume it;
5. ``snapshot()`` returns ``{"points": (n, d), "residual": (n,)}`` for the run file;
6. optionally ``residual_weights(points) -> (n,)``: per-point weights (no gradient) that multiply
   the squared residual in the PDE loss (causal R3's gate); ``update`` still gets the plain one.

``update`` is called first even for samplers that ``needs_model``; ``update_with_model`` then
receives ``residual_fn(points) -> (m,)``, the squared residual at any ``(m, d)`` points.
``describe()`` must return constructor keywords only (resume rebuilds the sampler from it), and a
sampler may hold more than ``n`` points (RAR-D adds points).

Adaptive samplers (R3, RAD, AAS, ...) live in the ``samplers`` package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from .domain import AbstractDomain
from .sampling import SobolStream, check_method

__all__ = ["AbstractSampler", "RandomSampler"]


class AbstractSampler(ABC):
    """Base of every collocation sampler. ``n`` is the number of interior points."""

    name: str = "abstract"
    #: the sampler implements ``update_with_model`` and needs extra residual evaluations
    needs_model: bool = False

    def __init__(self, n: int = 1000, update_every: int = 0):
        if int(n) != n or n < 1:
            raise ValueError(f"number of collocation points must be a positive integer, got {n}")
        if update_every < 0:
            raise ValueError(f"update_every must be >= 0 (0: never), got {update_every}")
        self.n, self.update_every = int(n), int(update_every)
        self.domain: AbstractDomain | None = None
        self.generator: torch.Generator | None = None
        self._points: torch.Tensor | None = None
        self._residual: torch.Tensor | None = None

    def setup(self, domain: AbstractDomain, *, generator: torch.Generator, device=None,
              dtype=torch.float32) -> None:
        """Bind to ``domain`` and draw the first points."""
        self.domain, self.generator = domain, generator
        self.device, self.dtype = torch.device(device) if device is not None else generator.device, dtype
        self._points = self.initial_points()
        self._residual = None

    def initial_points(self) -> torch.Tensor:
        return self.domain.sample_interior(self.n, generator=self.generator, device=self.device, dtype=self.dtype)

    def points(self) -> torch.Tensor:
        """Current collocation points ``(n, d)``."""
        if self._points is None:
            raise RuntimeError(f"sampler {self.name!r} used before setup()")
        return self._points

    def wants_update(self, step: int) -> bool:
        return self.update_every > 0 and step > 0 and step % self.update_every == 0

    @abstractmethod
    def update(self, step: int, points: torch.Tensor, residual: torch.Tensor) -> None:
        """Update the points from the squared residual ``(n,)`` at ``points`` ``(n, d)``."""

    def update_with_model(self, step: int, residual_fn) -> None:  # pragma: no cover - optional
        raise NotImplementedError

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors (and scalars as 0-d tensors) that resume the sampler exactly."""
        out = {"points": self._points}
        if self._residual is not None:
            out["residual"] = self._residual
        return out

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self._points = state["points"].to(self.device, self.dtype)
        self._residual = state.get("residual")

    def snapshot(self) -> dict[str, torch.Tensor]:
        """Points and their last known squared residuals (NaN where unknown)."""
        res = self._residual if self._residual is not None else torch.full_like(self._points[:, 0], float("nan"))
        return {"points": self._points.detach(), "residual": res.detach()}

    def describe(self) -> dict:
        return {"name": self.name, "n": self.n, "update_every": self.update_every}


class RandomSampler(AbstractSampler):
    """Uniform or quasi-random points, fixed (``update_every=0``) or redrawn every ``update_every`` steps.

    ``method``: ``uniform``, ``sobol``, ``halton`` or ``lhs`` (see :mod:`pde.sampling`). ``uniform`` draws
    on the device from the generator. ``sobol`` follows one scrambled Sobol sequence, drawn on the device
    (:class:`~pde.sampling.SobolStream`, seeded once from the generator at ``setup``): each redraw takes the
    next ``n`` points of the sequence, so redrawing never waits on the host. ``halton`` and ``lhs`` are drawn
    by scipy on the host, freshly scrambled at each redraw (a seed read and a host-to-device copy per redraw).
    """

    name = "uniform"

    def __init__(self, n: int = 1000, update_every: int = 0, method: str = "uniform"):
        super().__init__(n, update_every)
        self.method = check_method(method)
        self._stream: SobolStream | None = None

    def setup(self, domain, *, generator, device=None, dtype=torch.float32):
        if self.method == "sobol":  # one seed read, before training
            seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device))
            self._stream = SobolStream(seed)
        super().setup(domain, generator=generator, device=device, dtype=dtype)

    def initial_points(self):
        method = self._stream if self._stream is not None else self.method
        return self.domain.sample_interior(self.n, method=method, generator=self.generator,
                                           device=self.device, dtype=self.dtype)

    def update(self, step, points, residual):
        self._residual = None
        self._points = self.initial_points()

    def state_dict(self):
        out = dict(super().state_dict())
        if self._stream is not None:
            out.update({f"sobol_{k}": v for k, v in self._stream.state_dict().items()})
        return out

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if "sobol_seed" in state:
            self._stream = SobolStream.from_state_dict({k[6:]: v for k, v in state.items()
                                                        if k.startswith("sobol_")})

    def describe(self):
        return {**super().describe(), "method": self.method}

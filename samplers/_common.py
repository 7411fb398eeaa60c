"""Shared helpers for the samplers: option parsing with clear errors, generator state, residual handling.

Options arrive either from Python (numbers) or from the CLI (``--set sampler.NAME=VALUE``, possibly
strings), so every option is coerced here and rejected with a message naming the bad value.
"""

from __future__ import annotations

import math

import torch

from pde.collocation import AbstractSampler


def as_int(name: str, value, *, minimum: int | None = None) -> int:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"sampler option {name} must be an integer, got {value!r}") from None
    if not math.isfinite(f) or int(f) != f:
        raise ValueError(f"sampler option {name} must be an integer, got {value!r}")
    if minimum is not None and f < minimum:
        raise ValueError(f"sampler option {name} must be >= {minimum}, got {value!r}")
    return int(f)


def as_float(name: str, value, *, minimum: float | None = None, maximum: float | None = None,
             strict: bool = False) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"sampler option {name} must be a number, got {value!r}") from None
    if not math.isfinite(f):
        raise ValueError(f"sampler option {name} must be finite, got {value!r}")
    if minimum is not None and (f <= minimum if strict else f < minimum):
        raise ValueError(f"sampler option {name} must be {'>' if strict else '>='} {minimum}, got {value!r}")
    if maximum is not None and f > maximum:
        raise ValueError(f"sampler option {name} must be <= {maximum}, got {value!r}")
    return f


def as_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"sampler option {name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value


def as_bool(name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.lower() in ("true", "1", "yes")
    if value in (0, 1):
        return bool(value)
    raise ValueError(f"sampler option {name} must be true or false, got {value!r}")


def check_residual(points: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
    """Validate a squared residual ``(n,)`` against ``points`` ``(n, d)``; return it detached and flat."""
    residual = residual.detach().reshape(-1)
    if residual.shape[0] != points.shape[0]:
        raise ValueError(f"residual has {residual.shape[0]} entries but there are {points.shape[0]} points")
    return residual


def residual_in_chunks(residual_fn, points: torch.Tensor, chunk: int) -> torch.Tensor:
    """Evaluate ``residual_fn`` (points ``(m, d)`` -> squared residual ``(m,)``) in chunks; detached ``(n,)``."""
    out = [residual_fn(points[i:i + chunk]).detach().reshape(-1) for i in range(0, points.shape[0], chunk)]
    return torch.cat(out) if out else points.new_zeros(0)


class StatefulSampler(AbstractSampler):
    """Adds the generator's state and subclass scalars to ``state_dict`` so a resume is exact."""

    def _extra_state(self) -> dict[str, torch.Tensor]:
        return {}

    def _load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        pass

    def state_dict(self):
        out = dict(super().state_dict())
        if self.generator is not None:
            out["generator_state"] = self.generator.get_state()
        out.update(self._extra_state())
        return out

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if self._residual is not None:
            self._residual = self._residual.to(self._points.device)
        if "generator_state" in state and self.generator is not None:
            self.generator.set_state(state["generator_state"].cpu())
        self._load_extra_state(state)

    def _uniform(self, m: int) -> torch.Tensor:
        return self.domain.sample_interior(m, generator=self.generator, device=self.device, dtype=self.dtype)

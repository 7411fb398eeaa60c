"""Input embeddings and the input map shared by the MLP models.

The input map turns raw coordinates ``x`` ``(N, d)`` into the first layer's input:

1. normalisation ``xn = x * scale + offset`` maps the bounding box onto ``[-1, 1]^d``
   (identity when ``normalize=False``);
2. each embedding *claims* some coordinates and turns them into features;
   :class:`PeriodicEmbedding` reads the **raw** coordinates (so the period is the true one),
   :class:`FourierFeatures` reads the **normalised** ones (so its ``scale`` does not depend
   on the size of the domain);
3. unclaimed coordinates pass through normalised; the result is
   ``cat([xn[:, unclaimed], features_1, features_2, ...], dim=1)`` of shape ``(N, k)``.

Column selections are fixed matrices applied with ``torch.nn.functional.linear`` so
that the forward pass uses only ``linear``, ``cos``, ``sin``, ``cat``, ``*`` and ``+``.
Constants derived from the architecture (normalisation, selections, periodic frequencies)
are :class:`~pde.models.base.ExactBuffers`: recast from float64 on every ``.to()`` and
not in the state dict; the random Fourier matrix ``B`` is in the state dict.

Embeddings are described by ``{"type": ..., "options": {...}}`` dicts (see :func:`make_embedding`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .base import ExactBuffers

__all__ = ["AbstractEmbedding", "FourierFeatures", "PeriodicEmbedding", "EMBEDDINGS", "make_embedding",
           "InputMap"]


def _selection(cols: Sequence[int], d: int) -> torch.Tensor:
    """``(len(cols), d)`` 0/1 matrix with ``F.linear(x, S) == x[:, cols]``."""
    s = torch.zeros(len(cols), d, dtype=torch.float64)
    for i, c in enumerate(cols):
        s[i, c] = 1.0
    return s


class AbstractEmbedding(ExactBuffers, ABC):
    """Maps some coordinates to features. ``coords``: claimed names (None: all unclaimed ones)."""

    type_name: ClassVar[str]
    coords: tuple[str, ...] | None

    @abstractmethod
    def build(self, names: tuple[str, ...], lower: list[float], upper: list[float], cols: list[int]) -> int:
        """Create buffers for the claimed columns ``cols`` of ``names``; return the number of features."""

    @abstractmethod
    def forward(self, x: torch.Tensor, xn: torch.Tensor) -> torch.Tensor:
        """Features ``(N, k)`` from raw ``x`` and normalised ``xn`` coordinates (both ``(N, d)``)."""

    @abstractmethod
    def options(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""

    def spec(self) -> dict[str, Any]:
        return {"type": self.type_name, "options": self.options()}

    def satisfies(self, names, lower, upper) -> tuple[str, ...]:
        """Names of conditions this embedding makes the model satisfy exactly."""
        return ()


class FourierFeatures(AbstractEmbedding):
    """Random Fourier features ``[cos(2 pi xn B^T), sin(2 pi xn B^T)]`` (Tancik et al. 2020).

    ``xn`` ``(N, k)`` are the normalised claimed coordinates (in ``[-1, 1]``), ``B``
    ``(n_features, k)`` has i.i.d. ``N(0, scale^2)`` entries, drawn at build time from the
    global torch RNG (``torch.manual_seed`` makes it reproducible) and kept fixed as the
    buffer ``B`` (saved in the state dict). Output: ``(N, 2 * n_features)``.
    ``coords``: the coordinate names to embed (default: every coordinate no other embedding claims).
    """

    type_name = "fourier"

    def __init__(self, n_features: int = 64, scale: float = 1.0, coords: Sequence[str] | None = None):
        super().__init__()
        if int(n_features) != n_features or n_features < 1:
            raise ValueError(f"FourierFeatures n_features must be a positive integer, got {n_features}")
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"FourierFeatures scale must be positive and finite, got {scale}")
        self.n_features, self.scale = int(n_features), float(scale)
        self.coords = None if coords is None else tuple(coords)

    def options(self):
        return {"n_features": self.n_features, "scale": self.scale,
                "coords": None if self.coords is None else list(self.coords)}

    def build(self, names, lower, upper, cols):
        self.register_buffer("B", torch.randn(self.n_features, len(cols)) * self.scale)
        self.exact_buffer("select", _selection(cols, len(names)))
        return 2 * self.n_features

    def forward(self, x, xn):
        z = F.linear(xn, (2.0 * math.pi) * (self.B @ self.select))
        return torch.cat([torch.cos(z), torch.sin(z)], dim=1)


class PeriodicEmbedding(AbstractEmbedding):
    """Exact periodicity: coordinate ``c`` with period ``P`` becomes
    ``[cos(2 pi k x_c / P), sin(2 pi k x_c / P)]`` for ``k = 1..n_harmonics`` (raw ``x_c``).

    Output ``(N, 2 * n_harmonics * len(periods))``: all cosines, then all sines, ordered
    by coordinate then harmonic. A model using it is exactly ``P``-periodic in ``x_c``, with all
    derivatives; when the domain length in ``c`` is a multiple of ``P`` it satisfies the
    :class:`~pde.conditions.Periodic` condition of default name ``periodic_<c>``.
    """

    type_name = "periodic"

    def __init__(self, periods: Mapping[str, float] | None = None, n_harmonics: int = 1):
        super().__init__()
        periods = dict(periods if periods is not None else {"x": 2.0})
        if not periods:
            raise ValueError("PeriodicEmbedding needs at least one coordinate in periods, e.g. {'x': 2.0}")
        for c, p in periods.items():
            if not (math.isfinite(p) and p > 0):
                raise ValueError(f"period of coordinate {c!r} must be positive and finite, got {p}")
        if int(n_harmonics) != n_harmonics or n_harmonics < 1:
            raise ValueError(f"PeriodicEmbedding n_harmonics must be a positive integer, got {n_harmonics}")
        self.periods = {str(c): float(p) for c, p in periods.items()}
        self.n_harmonics = int(n_harmonics)
        self.coords = tuple(self.periods)

    def options(self):
        return {"periods": dict(self.periods), "n_harmonics": self.n_harmonics}

    def build(self, names, lower, upper, cols):
        d = len(names)
        w = torch.zeros(len(cols) * self.n_harmonics, d, dtype=torch.float64)
        row = 0
        for c, col in zip(self.coords, cols, strict=True):
            for k in range(1, self.n_harmonics + 1):
                w[row, col] = 2.0 * math.pi * k / self.periods[c]
                row += 1
        self.exact_buffer("freq", w)
        return 2 * w.shape[0]

    def forward(self, x, xn):
        z = F.linear(x, self.freq)
        return torch.cat([torch.cos(z), torch.sin(z)], dim=1)

    def satisfies(self, names, lower, upper):
        out = []
        for c in self.coords:
            i = names.index(c)
            r = (upper[i] - lower[i]) / self.periods[c]
            if round(r) >= 1 and abs(r - round(r)) <= 1e-9 * r:
                out.append(f"periodic_{c}")
        return tuple(out)


#: Embedding classes by name.
EMBEDDINGS: dict[str, type[AbstractEmbedding]] = {"fourier": FourierFeatures, "periodic": PeriodicEmbedding}


def make_embedding(spec) -> AbstractEmbedding:
    """A fresh embedding from an instance (copied through its options) or a ``{"type", "options"}`` dict."""
    if isinstance(spec, AbstractEmbedding):
        spec = spec.spec()
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise ValueError(f"an embedding must be a FourierFeatures/PeriodicEmbedding instance or a dict "
                         f"{{'type': ..., 'options': {{...}}}}, got {spec!r}")
    cls = EMBEDDINGS.get(spec["type"])
    if cls is None:
        raise ValueError(f"unknown embedding type {spec['type']!r}; allowed: {', '.join(EMBEDDINGS)}")
    return cls(**spec.get("options", {}))


def embedding_list(embedding) -> list[AbstractEmbedding]:
    """Normalise the ``embedding`` argument of a model: None, one embedding/spec, or a sequence of them."""
    if embedding is None:
        return []
    if isinstance(embedding, (AbstractEmbedding, Mapping)):
        embedding = [embedding]
    return [make_embedding(e) for e in embedding]


class InputMap(ExactBuffers):
    """Normalisation plus embeddings: raw coordinates ``(N, d)`` to first-layer input ``(N, k)``."""

    def __init__(self, embeddings: Sequence[AbstractEmbedding] = (), normalize: bool = True):
        super().__init__()
        self.embeddings = nn.ModuleList(embeddings)
        self.normalize = bool(normalize)

    def build(self, names, lower, upper) -> int:
        """Create buffers; return the number of input features ``k``."""
        d = len(names)
        if self.normalize:
            scale = [2.0 / (b - a) for a, b in zip(lower, upper, strict=True)]
            offset = [-(a + b) / (b - a) for a, b in zip(lower, upper, strict=True)]
        else:
            scale, offset = [1.0] * d, [0.0] * d
        self.exact_buffer("scale", scale)
        self.exact_buffer("offset", offset)
        claimed: dict[str, str] = {}
        rest = None
        for e in self.embeddings:
            if e.coords is None:
                if rest is not None:
                    raise ValueError("at most one embedding may take the remaining coordinates (coords=None); "
                                     "give the others explicit coords")
                rest = e
                continue
            for c in e.coords:
                if c not in names:
                    raise ValueError(f"{type(e).__name__} refers to coordinate {c!r}; the domain has "
                                     f"{', '.join(names)}")
                if c in claimed:
                    raise ValueError(f"coordinate {c!r} is claimed by two embeddings ({claimed[c]} and "
                                     f"{type(e).__name__})")
                claimed[c] = type(e).__name__
        free = [c for c in names if c not in claimed]
        if rest is not None:
            if not free:
                raise ValueError(f"{type(rest).__name__}(coords=None) has no coordinate left to embed")
            rest.coords_resolved = tuple(free)
            free = []
        k = len(free)
        self.has_pass = bool(free) and bool(self.embeddings)
        if self.has_pass:
            self.exact_buffer("select", _selection([names.index(c) for c in free], d))
        for e in self.embeddings:
            coords = e.coords if e.coords is not None else e.coords_resolved
            k += e.build(names, lower, upper, [names.index(c) for c in coords])
        return k

    def satisfies(self, names, lower, upper) -> tuple[str, ...]:
        return tuple(s for e in self.embeddings for s in e.satisfies(names, lower, upper))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xn = x * self.scale + self.offset if self.normalize else x
        if not self.embeddings:
            return xn
        parts = [F.linear(xn, self.select)] if self.has_pass else []
        parts += [e(x, xn) for e in self.embeddings]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

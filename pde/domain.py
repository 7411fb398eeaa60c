"""Domains with named coordinates.

A domain knows its coordinate names, its bounding box, which points lie inside,
and how to sample its interior and its boundary (with outward unit normals).
Time-dependent problems use :class:`SpaceTime`, the product of a spatial domain
and a :class:`TimeInterval`; its boundary is the lateral boundary
``(spatial boundary) x [t0, t1]`` and it also samples its initial slice ``t = t0``.

Shapes: points are ``(N, d)`` tensors whose columns follow ``domain.names``;
normals are ``(N, d)`` unit vectors (zero in the time column for space-time).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch

from .sampling import unit_cube

__all__ = ["AbstractDomain", "Box", "Interval", "Ball", "Disk", "TimeInterval", "SpaceTime"]


def _names(names: Sequence[str] | None, d: int) -> tuple[str, ...]:
    if names is None:
        if d == 1:
            return ("x",)
        if d <= 3:
            return ("x", "y", "z")[:d]
        return tuple(f"x{i + 1}" for i in range(d))
    names = tuple(names)
    if len(names) != d:
        raise ValueError(f"expected {d} coordinate names, got {len(names)}: {names}")
    if len(set(names)) != d:
        raise ValueError(f"coordinate names must be distinct, got {names}")
    return names


class AbstractDomain(ABC):
    """A region of R^d with named coordinates."""

    names: tuple[str, ...]

    @property
    def dim(self) -> int:
        return len(self.names)

    @property
    @abstractmethod
    def bounds(self) -> tuple[list[float], list[float]]:
        """Lower and upper corners of the bounding box, one float per coordinate."""

    @property
    def time_dependent(self) -> bool:
        return False

    @property
    def fills_bounding_box(self) -> bool:
        """True when the domain is its (closed) bounding box, so points drawn in the box need no rejection."""
        return False

    @abstractmethod
    def inside(self, x: torch.Tensor) -> torch.Tensor:
        """Boolean ``(N,)``: which rows of ``x`` (``(N, d)``) lie in the closed domain."""

    @abstractmethod
    def sample_interior(self, n: int, *, method: str = "uniform", generator=None, device=None,
                        dtype=torch.float32) -> torch.Tensor:
        """``n`` points ``(n, d)`` in the interior."""

    @abstractmethod
    def sample_boundary(self, n: int, *, method: str = "uniform", generator=None, device=None,
                        dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` boundary points ``(n, d)`` and their outward unit normals ``(n, d)``."""

    def _constant(self, key: str, values, device, dtype) -> torch.Tensor:
        """``torch.tensor(values)`` on ``(device, dtype)``, made once per domain, device and dtype.

        The sampling and ``inside`` methods run in every training step; building their constants (bounds,
        centre, face probabilities) from Python floats each time would be a host-to-device copy per call on a
        GPU. ``values`` must depend only on the domain's (fixed) definition. The cached tensor is shared: never
        modify it in place. Nothing is cached while ``torch.compile`` traces (the constant is traced instead).
        ``values`` may be a callable returning them (called only when the constant is built).
        """
        if torch.compiler.is_compiling():
            return torch.tensor(values() if callable(values) else values, device=device, dtype=dtype)
        device = torch.device(device) if device is not None else torch.device("cpu")
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        cache = self.__dict__.setdefault("_device_constants", {})
        k = (key, device, dtype)
        t = cache.get(k)
        if t is None:
            with torch.inference_mode(False), torch.no_grad():
                t = torch.tensor(values() if callable(values) else values, device=device, dtype=dtype)
            cache[k] = t
        return t

    def index(self, name: str) -> int:
        """Column of coordinate ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"unknown coordinate {name!r}; this domain has {', '.join(self.names)}") from None

    def grid(self, shape: int | Sequence[int], *, device=None, dtype=torch.float32):
        """Tensor-product grid over the bounding box, including its end points.

        Returns ``(axes, points, mask)``: ``axes`` maps each coordinate name to a
        1-D tensor, ``points`` is ``(prod(shape), d)`` in C order (first name varies
        slowest), ``mask`` is ``(prod(shape),)`` marking points inside the domain.
        """
        if isinstance(shape, int):
            shape = [shape] * self.dim
        shape = list(shape)
        if len(shape) != self.dim or any(s < 2 for s in shape):
            raise ValueError(f"grid shape must have {self.dim} entries >= 2, got {shape}")
        lo, hi = self.bounds
        axes = {nm: torch.linspace(a, b, s, device=device, dtype=dtype)
                for nm, a, b, s in zip(self.names, lo, hi, shape)}
        mesh = torch.meshgrid(*axes.values(), indexing="ij")
        points = torch.stack([m.reshape(-1) for m in mesh], dim=1)
        return axes, points, self.inside(points)

    def describe(self) -> dict:
        """JSON-able description."""
        lo, hi = self.bounds
        out = {"type": type(self).__name__, "names": list(self.names), "lower": lo, "upper": hi}
        name = getattr(self, "name", None) if isinstance(self, Box) else None
        return out if name is None else {**out, "name": name}

    # constructive geometry (pde.csg): a - b, a | b (or a + b), a & b; space * TimeInterval
    def __sub__(self, other):
        from .csg import Difference

        return Difference(self, other)

    def __or__(self, other):
        from .csg import Union

        return Union(self, other)

    __add__ = __or__

    def __and__(self, other):
        from .csg import Intersection

        return Intersection(self, other)

    def __mul__(self, other):
        if isinstance(other, TimeInterval):
            return SpaceTime(self, other)
        return NotImplemented


def cumulative_shares(weights) -> list[float]:
    """Cumulative normalised ``weights`` (positive), the last exactly 1: the CDF of picking piece ``i`` with
    probability ``weights[i] / sum(weights)`` (faces of a box by area, edges of a polygon by length)."""
    total, acc, out = sum(weights), 0.0, []
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return out


class Box(AbstractDomain):
    """Axis-aligned box ``[lower_1, upper_1] x ... x [lower_d, upper_d]`` (any d, thousands included)."""

    def __init__(self, lower: Sequence[float], upper: Sequence[float], names: Sequence[str] | None = None,
                 name: str | None = None):
        self.name = name  # the name of its boundary part in a composite (pde.csg)
        lower = [float(v) for v in lower]
        upper = [float(v) for v in upper]
        if len(lower) != len(upper) or not lower:
            raise ValueError(f"lower and upper must have the same non-zero length, got {len(lower)} and {len(upper)}")
        for i, (a, b) in enumerate(zip(lower, upper)):
            if not (math.isfinite(a) and math.isfinite(b) and a < b):
                raise ValueError(f"box side {i} must satisfy lower < upper (finite), got [{a}, {b}]")
        self.lower, self.upper = lower, upper
        self.names = _names(names, len(lower))

    @classmethod
    def cube(cls, d: int, lower: float = 0.0, upper: float = 1.0, names=None) -> Box:
        return cls([lower] * d, [upper] * d, names)

    @property
    def bounds(self):
        return list(self.lower), list(self.upper)

    @property
    def fills_bounding_box(self) -> bool:
        return True

    @property
    def volume(self) -> float:
        return math.prod(b - a for a, b in zip(self.lower, self.upper))

    def _lo_hi(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Lower and upper corners ``(d,)`` on ``like``'s device and dtype (cached, see ``_constant``)."""
        return (self._constant("lower", self.lower, like.device, like.dtype),
                self._constant("upper", self.upper, like.device, like.dtype))

    def _affine(self, u: torch.Tensor) -> torch.Tensor:
        lo, hi = self._lo_hi(u)
        return lo + u * (hi - lo)

    def inside(self, x):
        lo, hi = self._lo_hi(x)
        return ((x >= lo) & (x <= hi)).all(dim=1)

    def sample_interior(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        return self._affine(unit_cube(n, self.dim, method=method, generator=generator, device=device, dtype=dtype))

    def _face_cdf(self) -> list[float]:
        """Cumulative face-pair probabilities ``(d,)`` (face pair i has area ``volume / side_i``), last = 1."""
        return cumulative_shares([1.0 / (b - a) for a, b in zip(self.lower, self.upper)])

    def sample_boundary(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        d = self.dim
        u = unit_cube(n, d + 1, method=method, generator=generator, device=device, dtype=dtype)
        if d == 1:
            side = (u[:, 1] < 0.5).long()  # 1 -> upper end
            x = torch.where(side.bool(), torch.full_like(u[:, 0], self.upper[0]),
                            torch.full_like(u[:, 0], self.lower[0]))[:, None]
            return x, (2.0 * side.to(dtype) - 1.0)[:, None]
        # faces weighted by their (d-1)-volume: face i has area volume / side_i, two of each
        cdf = self._constant("face_cdf", self._face_cdf, u.device, u.dtype)
        start_all = self._constant("face_start", lambda: [0.0] + self._face_cdf()[:-1], u.device, u.dtype)
        # the last column picks the face; where it falls inside that face's bin picks lower or upper
        w = u[:, d].contiguous()
        face = torch.searchsorted(cdf, w, right=True).clamp_(max=d - 1)
        start = start_all[face]
        upper_side = (w - start) >= 0.5 * (cdf[face] - start)
        x = self._affine(u[:, :d])
        rows = torch.arange(n, device=x.device)
        lo, hi = self._lo_hi(x)
        x[rows, face] = torch.where(upper_side, hi[face], lo[face])
        normals = torch.zeros_like(x)
        normals[rows, face] = torch.where(upper_side, 1.0, -1.0).to(x.dtype)
        return x, normals


class Interval(Box):
    """The interval ``[a, b]`` with coordinate ``name`` (default ``x``)."""

    def __init__(self, a: float, b: float, name: str = "x"):
        super().__init__([a], [b], [name])

    def describe(self):
        return {"type": "Interval", "names": list(self.names), "lower": self.lower, "upper": self.upper}


class Ball(AbstractDomain):
    """Closed ball ``|x - center| <= radius`` in R^d (``Disk`` for d = 2).

    ``radial``: how interior points are spread along the radius: ``"volume"`` (default; uniform in the
    ball, ``r = R u^(1/d)``) or ``"uniform"`` (``r = R u``, uniform radius and direction, density
    ``~ |x - center|^(1 - d)``; the high-dimensional PINN papers' sampling, which keeps points off the sphere).
    """

    RADIAL = ("volume", "uniform")

    def __init__(self, center: Sequence[float], radius: float, names: Sequence[str] | None = None,
                 radial: str = "volume", name: str | None = None):
        self.name = name  # the name of its boundary part in a composite (pde.csg)
        self.center = [float(c) for c in center]
        if not self.center:
            raise ValueError("ball center must have at least one coordinate")
        if not (math.isfinite(radius) and radius > 0):
            raise ValueError(f"ball radius must be positive and finite, got {radius}")
        if radial not in self.RADIAL:
            raise ValueError(f"ball radial sampling must be one of {', '.join(self.RADIAL)}, got {radial!r}")
        self.radius = float(radius)
        self.radial = radial
        self.names = _names(names, len(self.center))

    @property
    def bounds(self):
        return [c - self.radius for c in self.center], [c + self.radius for c in self.center]

    def _c(self, x):
        return self._constant("center", self.center, x.device, x.dtype)

    def inside(self, x):
        return ((x - self._c(x)) ** 2).sum(dim=1) <= self.radius ** 2 * (1 + 1e-6)

    def _directions(self, u: torch.Tensor) -> torch.Tensor:
        # inverse-CDF Gaussian keeps quasi-random structure; clamp avoids infinities at 0 and 1
        eps = torch.finfo(u.dtype).eps
        z = math.sqrt(2.0) * torch.erfinv((2.0 * u - 1.0).clamp(-1 + eps, 1 - eps))
        return z / z.norm(dim=1, keepdim=True).clamp_min(torch.finfo(u.dtype).tiny)

    def sample_interior(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        u = unit_cube(n, self.dim + 1, method=method, generator=generator, device=device, dtype=dtype)
        r = self.radius * (u[:, -1:] if self.radial == "uniform" else u[:, -1:] ** (1.0 / self.dim))
        return self._c(u) + r * self._directions(u[:, :-1])

    def sample_boundary(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        u = unit_cube(n, self.dim, method=method, generator=generator, device=device, dtype=dtype)
        nrm = self._directions(u)
        return self._c(u) + self.radius * nrm, nrm

    def describe(self):
        out = {"type": "Ball", "names": list(self.names), "center": self.center, "radius": self.radius}
        out = out if self.radial == "volume" else {**out, "radial": self.radial}
        return out if self.name is None else {**out, "name": self.name}


def Disk(center=(0.0, 0.0), radius: float = 1.0, names=("x", "y"), name: str | None = None) -> Ball:
    """The disk ``|(x, y) - center| <= radius`` (``name``: its boundary part's name in a composite)."""
    return Ball(center, radius, names, name=name)


class TimeInterval(Interval):
    """The time interval ``[t0, t1]`` with coordinate ``t``."""

    def __init__(self, t0: float, t1: float, name: str = "t"):
        super().__init__(t0, t1, name)


class SpaceTime(AbstractDomain):
    """Product ``space x [t0, t1]``; time is the last coordinate."""

    def __init__(self, space: AbstractDomain, time: TimeInterval):
        if isinstance(space, SpaceTime):
            raise ValueError("space of a SpaceTime must not itself be time dependent")
        self.space, self.time = space, time
        self.names = tuple(space.names) + tuple(time.names)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"coordinate names must be distinct, got {self.names}")

    @property
    def time_dependent(self) -> bool:
        return True

    @property
    def fills_bounding_box(self) -> bool:
        return self.space.fills_bounding_box

    @property
    def t0(self) -> float:
        return self.time.lower[0]

    @property
    def t1(self) -> float:
        return self.time.upper[0]

    @property
    def bounds(self):
        lo, hi = self.space.bounds
        return lo + [self.t0], hi + [self.t1]

    def inside(self, x):
        t = x[:, -1]
        return self.space.inside(x[:, :-1]) & (t >= self.t0) & (t <= self.t1)

    def _times(self, n, method, generator, device, dtype):
        return self.time.sample_interior(n, method=method, generator=generator, device=device, dtype=dtype)

    def sample_interior(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        if method == "uniform":
            xs = self.space.sample_interior(n, generator=generator, device=device, dtype=dtype)
            return torch.cat([xs, self._times(n, method, generator, device, dtype)], dim=1)
        if isinstance(self.space, Box):  # joint quasi-random draw keeps low discrepancy in space-time
            box = self.__dict__.get("_box")
            if box is None:
                box = self.__dict__["_box"] = Box(*self.bounds, names=self.names)
            return box.sample_interior(
                n, method=method, generator=generator, device=device, dtype=dtype)
        xs = self.space.sample_interior(n, method=method, generator=generator, device=device, dtype=dtype)
        return torch.cat([xs, self._times(n, method, generator, device, dtype)], dim=1)

    def sample_boundary(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        xs, nrm = self.space.sample_boundary(n, method=method, generator=generator, device=device, dtype=dtype)
        t = self._times(n, method, generator, device, dtype)
        return torch.cat([xs, t], dim=1), torch.cat([nrm, torch.zeros_like(t)], dim=1)

    def sample_initial(self, n, *, method="uniform", generator=None, device=None, dtype=torch.float32):
        """``n`` points ``(n, d)`` on the slice ``t = t0``."""
        xs = self.space.sample_interior(n, method=method, generator=generator, device=device, dtype=dtype)
        return torch.cat([xs, torch.full_like(xs[:, :1], self.t0)], dim=1)

    def describe(self):
        return {"type": "SpaceTime", "names": list(self.names), "space": self.space.describe(),
                "time": [self.t0, self.t1]}

"""The derivative API: residuals ask for named derivatives; engines compute them.

A residual is written once against :class:`AbstractDerivatives`::

    def residual(self, d):
        return d("u", "t") + d["u"] * d("u", "x") - self.nu * d("u", "x", "x")

``d["u"]`` is the field value, ``d("u", "x", "x")`` the partial derivative
``u_xx``, ``d.coord("x")`` the coordinate column, ``d.grad``, ``d.div`` and
``d.laplacian`` the usual operators. All returned tensors have shape ``(N,)``
(``grad``: ``(N, k)``). Mixed partials commute, so ``d("u", "x", "y")`` and
``d("u", "y", "x")`` are the same request, computed once.

An engine (:class:`AbstractDerivativeEngine`) turns requests into numbers. The
training loop first runs the residual once on a :class:`RecordingDerivatives`
to learn its requests, so engines that compute several derivatives in one pass
(Taylor mode) can plan; engines must still answer any request lazily.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

import torch

__all__ = ["AbstractDerivatives", "AbstractDerivativeEngine", "RecordingDerivatives", "Request",
           "UnsupportedDerivative", "UnsupportedOperation"]

#: A derivative request: (field name, sorted tuple of coordinate names). ``("u", ())`` is the value.
Request = tuple[str, tuple[str, ...]]


class UnsupportedDerivative(ValueError):
    """Raised when an engine cannot compute a requested derivative."""


class UnsupportedOperation(UnsupportedDerivative, NotImplementedError):
    """Raised when a model applies an operation that Taylor-mode jets have no rule for (names the op)."""


class AbstractDerivatives(ABC):
    """Derivatives of a model's fields at ``points`` (``(N, d)``), columns named ``names``."""

    def __init__(self, points: torch.Tensor, names: Sequence[str], fields: Sequence[str],
                 normals: torch.Tensor | None = None):
        self.points = points
        self.names = tuple(names)
        self.fields = tuple(fields)
        self.normals = normals
        self._col = {n: i for i, n in enumerate(self.names)}
        self._field = {f: i for i, f in enumerate(self.fields)}
        #: the one cache of every engine: ``(operator, field, over) -> (N,)`` tensor. Partial derivatives
        #: are ``("partial", field, wrt)``; operators ``("laplacian", field, over)`` and so on; engines may
        #: keep intermediate results under their own operator names (e.g. autograd's gradient rows).
        self._cache: dict[tuple[str, str, tuple], torch.Tensor] = {}

    # -- requests -------------------------------------------------------------------------
    def key(self, field: str, wrt: Sequence[str]) -> Request:
        if field not in self._field:
            raise ValueError(f"unknown field {field!r}; the fields are {', '.join(self.fields)}")
        for c in wrt:
            if c not in self._col:
                raise ValueError(f"unknown coordinate {c!r} in derivative of {field!r}; "
                                 f"coordinates are {', '.join(self.names)}")
        return field, tuple(sorted(wrt, key=self._col.__getitem__))

    def __getitem__(self, field: str) -> torch.Tensor:
        """Value of ``field``, shape ``(N,)``."""
        return self.derivative(*self.key(field, ()))

    def __call__(self, field: str, *wrt: str) -> torch.Tensor:
        """Partial derivative of ``field`` with respect to the coordinates ``wrt``, shape ``(N,)``."""
        return self.derivative(*self.key(field, wrt))

    def coord(self, name: str) -> torch.Tensor:
        """Coordinate column ``name`` of the points, shape ``(N,)`` (no gradient)."""
        if name not in self._col:
            raise ValueError(f"unknown coordinate {name!r}; coordinates are {', '.join(self.names)}")
        return self.points[:, self._col[name]].detach()

    @property
    def n(self) -> int:
        return self.points.shape[0]

    # -- the cache --------------------------------------------------------------------------
    def cached(self, op: str, field: str, over: Sequence, compute: Callable[[], dict]) -> torch.Tensor:
        """The value of operator ``op`` of ``field`` over ``over``, computed at most once.

        ``compute()`` returns ``{field: tensor}`` for every field its pass produced (one jet pass
        serves all fields at once); each is stored under ``(op, field, over)``. Every engine keys
        every cached quantity on (operator, field, over), so the same operator over other
        coordinates is never served from a stale entry.
        """
        key = (op, field, tuple(over))
        hit = self._cache.get(key)
        if hit is None:
            for f, v in compute().items():
                self._cache[(op, f, key[2])] = v
            hit = self._cache[key]
        return hit

    def is_cached(self, op: str, field: str, over: Sequence) -> bool:
        return (op, field, tuple(over)) in self._cache

    def derivative(self, field: str, wrt: tuple[str, ...]) -> torch.Tensor:
        """One request (``wrt`` already sorted), from the cache or :meth:`_partials`."""
        return self.cached("partial", field, wrt, lambda: self._partials(field, wrt))

    @abstractmethod
    def _partials(self, field: str, wrt: tuple[str, ...]) -> dict:
        """Compute ``d field / d wrt``; returns ``{field: (N,)}`` (may fill more of the cache itself)."""

    # -- operators ------------------------------------------------------------------------
    def _over(self, over: Sequence[str] | None) -> tuple[str, ...]:
        if over is None:
            return tuple(n for n in self.names if n != "t")
        return tuple(over)

    def grad(self, field: str, over: Sequence[str] | None = None) -> torch.Tensor:
        """Gradient ``(N, k)`` over ``over`` (default: all coordinates but ``t``)."""
        return torch.stack([self(field, c) for c in self._over(over)], dim=1)

    def laplacian(self, field: str, over: Sequence[str] | None = None) -> torch.Tensor:
        """Laplacian ``sum_i d^2 field / d x_i^2`` over ``over`` (default: all but ``t``), shape ``(N,)``."""
        cols = self._over(over)
        out = self(field, cols[0], cols[0])
        for c in cols[1:]:
            out = out + self(field, c, c)
        return out

    def biharmonic(self, field: str, over: Sequence[str] | None = None) -> torch.Tensor:
        """Biharmonic ``sum_{i,j} d^4 field / dx_i^2 dx_j^2`` over ``over`` (default: all but ``t``), ``(N,)``.

        Engines with a cheaper route (Taylor mode, STDE) override it; this default asks for
        every ``field_iijj`` (``d (d + 1) / 2`` requests).
        """
        cols = self._over(over)
        out = None
        for i, a in enumerate(cols):
            term = self(field, a, a, a, a)
            for b in cols[i + 1:]:
                term = term + 2 * self(field, a, a, b, b)
            out = term if out is None else out + term
        return out

    def div(self, fields: Sequence[str], over: Sequence[str] | None = None) -> torch.Tensor:
        """Divergence ``sum_i d fields[i] / d over[i]``, shape ``(N,)``."""
        cols = self._over(over)
        if len(fields) != len(cols):
            raise ValueError(f"divergence needs one field per coordinate, got {list(fields)} over {list(cols)}")
        out = self(fields[0], cols[0])
        for f, c in zip(fields[1:], cols[1:]):
            out = out + self(f, c)
        return out

    def normal_derivative(self, field: str) -> torch.Tensor:
        """``grad(field) . n`` at boundary points with normals, shape ``(N,)``."""
        if self.normals is None:
            raise ValueError("normal derivative requested at points without normals")
        out = 0.0
        for i, c in enumerate(self.names):
            out = out + self(field, c) * self.normals[:, i]
        return out


class RecordingDerivatives(AbstractDerivatives):
    """Answers every request with zeros and records it (used to plan an engine)."""

    def __init__(self, points, names, fields, normals=None):
        super().__init__(points, names, fields, normals)
        self.requests: set[Request] = set()

    def derivative(self, field, wrt):
        self.requests.add((field, wrt))
        return torch.zeros(self.n, device=self.points.device, dtype=self.points.dtype)

    def _partials(self, field, wrt):  # not used: derivative() is overridden
        raise NotImplementedError


class AbstractDerivativeEngine(ABC):
    """Computes derivatives of ``model`` (``(N, d) -> (N, m)``) at points.

    Subclasses set ``name`` (used by ``--derivatives NAME``) and implement
    :meth:`derivatives`. ``requests`` is the planned set of requests of the
    residual or condition that will read the result (may be ``None``).
    """

    name: str = "abstract"
    #: whether ``torch.compile`` can differentiate a loss built on this engine with respect to the
    #: parameters (nested reverse mode cannot: AOTAutograd has no double backward)
    compilable: bool = True

    @abstractmethod
    def derivatives(self, model: torch.nn.Module, points: torch.Tensor, names: Sequence[str],
                    fields: Sequence[str], *, normals: torch.Tensor | None = None,
                    requests: set[Request] | None = None, create_graph: bool = True) -> AbstractDerivatives:
        """Return a derivatives object for ``model`` at ``points`` ``(N, d)``."""

    #: whether the engine draws random numbers (STDE estimators): such an engine's state must be in
    #: the checkpoint, and an L-BFGS phase evaluates it inside :meth:`frozen`
    stochastic: bool = False

    def describe(self) -> dict:
        return {"name": self.name}

    # -- state (the trainer stores it in the checkpoint) ----------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue bit-exactly after a resume; ``{}`` for deterministic engines."""
        return {}

    def load_state_dict(self, state: dict, device=None) -> None:
        """Restore :meth:`state_dict`; a deterministic engine accepts only ``{}``."""
        if state:
            raise ValueError(f"the {self.name!r} engine is deterministic and has no state; got keys "
                             f"{sorted(state)} (a checkpoint of another engine?)")

    def reseed(self, seed: int) -> None:
        """Restart the engine's random streams from ``seed`` (no-op for deterministic engines)."""
        del seed

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Within the block every evaluation sees the same random draws (no-op when deterministic)."""
        yield

    # -- per-device constants (no host-to-device copy in a steady-state step) --------------
    def constant(self, key, device, dtype, build: Callable[[], object]) -> torch.Tensor:
        """A tensor built once per ``(key, device, dtype)`` from ``build()`` (nested lists), then reused.

        The first call copies host data to the device; every later step reads the cached tensor,
        so the training loop does no host-to-device copy for index or direction tables.
        """
        cache = self.__dict__.setdefault("_constants", {})
        k = (key, torch.device(device), dtype)
        t = cache.get(k)
        if t is None:
            t = cache[k] = torch.tensor(build(), dtype=dtype, device=device)
        return t

"""Stochastic Taylor derivative estimators (STDE; Shi, Hu, Lin, Kawaguchi, NeurIPS 2024).

One forward pass of jets along randomly constructed input tangents gives an unbiased
estimate of a contraction of the derivative tensor. With ``V = n_directions`` draws per
point and ``d`` coordinates in the operator (``over``, default all but ``t``):

* Laplacian, ``kind="sparse"``: ``d/V sum_{j in J} D^2u[e_j, e_j]`` with ``J`` ``V`` coordinates
  drawn without replacement (``D^2u[e_j,e_j] = 2 c_2(e_j)``). The first layer is a column
  lookup of its weight, not a matmul.
* Laplacian, ``kind="dense_rademacher"`` / ``"dense_gaussian"`` (Hutchinson):
  ``1/V sum_v D^2u[v, v]``, ``E[v v^T] = I``. Rademacher has the lowest variance.
* Biharmonic ``Delta^2 u = sum_ij u_iijj``: ``dense_gaussian``: ``1/3 E[D^4u[v]^4]``, ``v ~ N(0, I)``
  (Gaussian 4th moments). ``sparse``: ``d^2`` times the mean over ordered coordinate pairs
  ``(i, j)`` of ``u_iijj = (D^4u[e_i+e_j]^4 + D^4u[e_i-e_j]^4 - 2 D^4u[e_i]^4 - 2 D^4u[e_j]^4) / 12``.
  Rademacher directions are biased for it and raise.
* Sum of fourth derivatives ``sum_i u_iiii``: sparse only (dense jets cannot estimate it).
* Mixed operator of order 3, ``d/dx_c Delta u = sum_i u_iic``: the 7th-order jet with input
  tangents ``(0, v, e_c, 0, ...)`` (derivative convention) has ``J_7 = 105 D^3u[v, v, e_c]``
  (Faa di Bruno: only partitions of 7 into blocks 2+2+3, 7!/(2!2!3!2!) = 105 of them).

Directions are drawn **per point** by default (``per_point=True``): each collocation point
gets its own ``V`` directions, so errors do not correlate across the batch (the public
reference code draws one set per step, shared by all points). Every estimate records the
variance of the returned mean, estimated from its ``V`` draws, in ``d.variance[name]``
(``(N,)``, detached). Explicit partial derivatives (``d("u", "t")``) are computed exactly by
Taylor mode unless ``exact_requests=False``, in which case they raise.

Randomness and checkpoints: the engine's generators (one per device, from ``seed``) are its
state: :meth:`STDE.state_dict` / :meth:`STDE.load_state_dict` save and restore them (a state
saved on another device type is refused with a ``ValueError``), :meth:`STDE.reseed` restarts
them, and inside ``with engine.frozen():`` every evaluation draws the same directions (a
deterministic objective, e.g. for L-BFGS). ``deterministic=True`` makes the collapsed sparse
Laplacian reduce its directions without atomics (same bits on every run on a GPU).

Loss: squaring a stochastic residual gives a *biased* loss (``biased_loss``; the paper's
reported numbers use it). ``unbiased_loss(r1, r2)`` multiplies two residuals computed from
independent draws (``E[r1 r2] = r^2``).
"""

from __future__ import annotations

import contextlib
import math

import torch

from .base import AbstractDerivativeEngine, UnsupportedDerivative
from .jet import Jet, OneHot
from .jetpass import JetDerivatives

__all__ = ["STDE", "biased_loss", "unbiased_loss", "independent_derivatives"]

KINDS = ("sparse", "dense_rademacher", "dense_gaussian")


def biased_loss(residual: torch.Tensor) -> torch.Tensor:
    """``mean(r^2)`` of a stochastic residual: biased upward by the estimator variance (paper's choice)."""
    return residual.pow(2).mean()


def unbiased_loss(residual_a: torch.Tensor, residual_b: torch.Tensor) -> torch.Tensor:
    """``mean(r_a r_b)`` from two residuals with independent draws: unbiased for ``mean(r^2)``."""
    return (residual_a * residual_b).mean()


def independent_derivatives(engine: STDE, model, points, names, fields, **kw):
    """Two derivative objects at the same points with independent directions (for :func:`unbiased_loss`).

    Inside ``engine.frozen()`` the two still differ from each other (two fixed streams).
    """
    if isinstance(engine, STDE):
        return tuple(engine.derivatives(model, points, names, fields, _stream=s, **kw) for s in (0, 1))
    return (engine.derivatives(model, points, names, fields, **kw),
            engine.derivatives(model, points, names, fields, **kw))


class _STDEDerivatives(JetDerivatives):
    def __init__(self, engine, model, points, names, fields, normals, requests, create_graph=True,
                 generator=None):
        super().__init__(engine, model, points, names, fields, normals, None, create_graph)
        self.variance: dict[str, torch.Tensor] = {}
        self._gen = generator

    def derivative(self, field, wrt):
        if wrt and not self._engine.exact_requests:
            raise UnsupportedDerivative(
                f"STDE engine (exact_requests=False) cannot serve the explicit derivative "
                f"d^{len(wrt)} {field}/d{' d'.join(wrt)}; it estimates laplacian, biharmonic, "
                f"sum_fourth and laplacian_derivative")
        return super().derivative(field, wrt)

    # -- sampling -------------------------------------------------------------------------
    def _generator(self) -> torch.Generator:
        if self._gen is None:
            self._gen = self._engine._generator(self.points.device)
        return self._gen

    def _cols(self, over):
        cols = self._over(over)
        for c in cols:
            if c not in self._col:
                raise ValueError(f"unknown coordinate {c!r} in over; coordinates are {', '.join(self.names)}")
        idx = [self._col[c] for c in cols]
        return cols, self._engine.constant(("columns", tuple(idx)), self.points.device, torch.long, lambda: idx)

    def _sample_coords(self, m: int, V: int) -> torch.Tensor:
        """``(V, N or 1)`` indices in ``[0, m)``, without replacement within a point."""
        g, dev = self._generator(), self.points.device
        n = self.n if self._engine.per_point else 1
        if V > m:
            return torch.randint(0, m, (V, n), generator=g, device=dev)
        # Floyd's algorithm, vectorised over points: a uniform V-subset of range(m) in O(n V^2)
        sel = torch.empty(V, n, dtype=torch.long, device=dev)
        for r, j in enumerate(range(m - V, m)):
            t = (torch.rand(n, generator=g, device=dev) * (j + 1)).long().clamp_(max=j)
            dup = (sel[:r] == t).any(0) if r else torch.zeros(n, dtype=torch.bool, device=dev)
            sel[r] = torch.where(dup, torch.full_like(t, j), t)
        return sel

    def _dense_dirs(self, cols_idx, V, kind):
        g, dev, dt = self._generator(), self.points.device, self.points.dtype
        n = self.n if self._engine.per_point else 1
        m = len(cols_idx)
        if kind == "dense_gaussian":
            z = torch.randn(V, n, m, generator=g, device=dev, dtype=dt)
        else:
            z = torch.randint(0, 2, (V, n, m), generator=g, device=dev).to(dt) * 2 - 1
        if m == len(self.names):
            return z
        v = torch.zeros(V, n, len(self.names), device=dev, dtype=dt)
        v[..., cols_idx] = z
        return v

    def _jet(self, tangents: dict[int, object], order: int, collapsed: bool = False) -> Jet:
        """Input jet with normalised coefficients ``c_k = tangents[k] / k!`` (derivative convention)."""
        coeffs = [self.points]
        for k in range(1, order + 1):
            t = tangents.get(k)
            if t is None:
                coeffs.append(None)  # structurally zero
            elif isinstance(t, OneHot):
                coeffs.append(t.with_scale(t.scale / math.factorial(k)))
            else:
                coeffs.append(t / math.factorial(k))
        return Jet(coeffs, collapsed)

    def _run(self, tangents, order, collapsed: bool = False) -> torch.Tensor:
        out = self._forward(self._jet(tangents, order, collapsed))
        return out.derivative(order)  # (V, N or 1, m): J_order per direction

    def _finish(self, label, samples, population: int | None = None) -> dict:
        """samples ``(V, N, m)`` of unbiased draws: ``{field: mean (N,)}``; records the variance of the mean.

        ``population``: the draws are without replacement from this many coordinates; the
        variance of the mean then carries the finite-population factor ``1 - V/population``
        (zero when every coordinate is used: the estimate is exact).
        """
        samples = samples.expand(samples.shape[0], self.n, samples.shape[-1])
        est = samples.mean(0)
        V = samples.shape[0]
        var = samples.detach().var(0, unbiased=True) / V if V > 1 else torch.full_like(est.detach(), float("nan"))
        if population is not None and V <= population:
            var = var * (1 - V / population) if V > 1 else var
        for f, i in self._field.items():
            self.variance[f"{label}({f})"] = var[:, i]
        return {f: est[:, i] for f, i in self._field.items()}

    def _onehot(self, cols_idx, V):
        idx = cols_idx[self._sample_coords(len(cols_idx), V)]
        return OneHot(idx, len(self.names), 1.0, self.points.dtype, deterministic=self._engine.deterministic), idx

    @staticmethod
    def _label(name, cols, over, extra=""):
        inner = ",".join(x for x in ([extra] if extra else []) + (list(cols) if over is not None else []))
        return f"{name}[{inner}]" if inner else name

    # -- estimators -----------------------------------------------------------------------
    def laplacian(self, field, over=None):
        """Unbiased estimate of ``sum_i d^2 field/dx_i^2`` over ``over`` (default all but ``t``), ``(N,)``."""
        self._field_check(field)
        cols, idx = self._cols(over)

        def compute():
            V, kind, m = self._engine.n_directions, self._engine.kind, len(cols)
            dirs = self._onehot(idx, V)[0] if kind == "sparse" else self._dense_dirs(idx, V, kind)
            scale = m if kind == "sparse" else 1
            if not self._engine.variance:  # collapsed: only the sum over directions of c_2 is propagated
                est = scale / V * self._run({1: dirs}, 2, collapsed=True)
                est = est.expand(self.n, est.shape[-1])
                return {f: est[:, i] for f, i in self._field.items()}
            return self._finish(self._label("laplacian", cols, over), scale * self._run({1: dirs}, 2),
                                m if kind == "sparse" else None)
        return self.cached("laplacian", field, cols, compute)

    def biharmonic(self, field, over=None):
        """Unbiased estimate of ``Delta^2 field = sum_ij field_iijj`` over ``over``, ``(N,)``."""
        self._field_check(field)
        cols, idx = self._cols(over)
        V, kind, m = self._engine.n_directions, self._engine.kind, len(cols)
        if kind == "dense_rademacher":
            raise UnsupportedDerivative("STDE kind='dense_rademacher' cannot estimate the biharmonic (its 4th "
                                        "moments are not Gaussian); use kind='dense_gaussian' or 'sparse'")

        def compute():
            if kind == "dense_gaussian":
                samples = self._run({1: self._dense_dirs(idx, V, kind)}, 4) / 3
            else:
                g, dev = self._generator(), self.points.device
                n = self.n if self._engine.per_point else 1
                i = idx[torch.randint(0, m, (V, n), generator=g, device=dev)]
                j = idx[torch.randint(0, m, (V, n), generator=g, device=dev)]
                d, dt = len(self.names), self.points.dtype
                ei = torch.nn.functional.one_hot(i, d).to(dt)
                ej = torch.nn.functional.one_hot(j, d).to(dt)
                dirs = torch.cat([ei + ej, ei - ej, ei, ej])
                J = self._run({1: dirs}, 4)
                a, b, c, e = J.split(V)
                samples = m * m * (a + b - 2 * c - 2 * e) / 12
            return self._finish(self._label("biharmonic", cols, over), samples)
        return self.cached("biharmonic", field, cols, compute)

    def sum_fourth(self, field, over=None):
        """Unbiased estimate of ``sum_i d^4 field/dx_i^4`` over ``over`` (sparse kind only), ``(N,)``."""
        self._field_check(field)
        cols, idx = self._cols(over)
        if self._engine.kind != "sparse":
            raise UnsupportedDerivative(f"STDE kind={self._engine.kind!r} cannot estimate sum_fourth "
                                        f"(sum_i d^4 {field}/dx_i^4): dense jets cannot; use kind='sparse'")

        def compute():
            oh, _ = self._onehot(idx, self._engine.n_directions)
            return self._finish(self._label("sum_fourth", cols, over), len(cols) * self._run({1: oh}, 4),
                                len(cols))
        return self.cached("sum_fourth", field, cols, compute)

    def laplacian_derivative(self, field, coord, over=None):
        """Unbiased estimate of ``d/d coord (Delta field) = sum_i field_{i i coord}``, ``(N,)`` (order-7 jets)."""
        self._field_check(field)
        cols, idx = self._cols(over)
        if coord not in self._col:
            raise ValueError(f"unknown coordinate {coord!r}; coordinates are {', '.join(self.names)}")

        def compute():
            V, kind, m, d = self._engine.n_directions, self._engine.kind, len(cols), len(self.names)
            c = self._col[coord]
            ec = self._engine.constant(("unit", c, d), self.points.device, self.points.dtype,
                                       lambda: [[[1.0 if j == c else 0.0 for j in range(d)]]])  # (1, 1, d)
            if kind == "sparse":
                v, scale = self._onehot(idx, V)[0], m
            else:
                v, scale = self._dense_dirs(idx, V, kind), 1
            samples = scale * self._run({2: v, 3: ec}, 7) / 105
            return self._finish(self._label("laplacian_derivative", cols, over, coord), samples,
                                m if kind == "sparse" else None)
        return self.cached(f"laplacian_derivative[{coord}]", field, cols, compute)

    def _field_check(self, field):
        if field not in self._field:
            raise ValueError(f"unknown field {field!r}; the fields are {', '.join(self.fields)}")


def _device_key(device) -> torch.device:
    device = torch.device(device)
    return device if device.index is not None or device.type == "cpu" else torch.device(device.type, 0)


class STDE(AbstractDerivativeEngine):
    """Stochastic Taylor derivative estimators (see :mod:`pde.derivatives.stde`).

    ``n_directions``: draws ``V`` per point (``|J|`` in the paper); ``kind``: ``"sparse"``
    (coordinate directions, scaled by ``d/V``), ``"dense_rademacher"`` or ``"dense_gaussian"``;
    ``per_point``: independent directions for every point (default) or one set shared by the
    batch; ``seed`` or ``generator``: the randomness (a generator is created per device from
    ``seed``); ``exact_requests``: serve explicit partials (``d("u","t")``) exactly by Taylor mode;
    ``variance``: record the estimator variance (per-direction coefficients); ``False`` propagates
    the Laplacian's second coefficients *collapsed* (summed over directions: cheaper, no variance);
    ``deterministic``: the collapsed sparse Laplacian sums its directions in a fixed order without
    atomics (``scatter_add`` of all ``V`` at once is not bit-reproducible on a GPU).
    """

    name = "stde"
    stochastic = True

    def __init__(self, n_directions: int = 16, kind: str = "sparse", *, per_point: bool = True, seed: int = 0,
                 generator: torch.Generator | None = None, exact_requests: bool = True, max_order: int = 4,
                 variance: bool = True, deterministic: bool = False):
        if n_directions < 1:
            raise ValueError(f"n_directions must be >= 1, got {n_directions}")
        if kind not in KINDS:
            raise ValueError(f"unknown STDE kind {kind!r}; allowed: {', '.join(KINDS)}")
        if isinstance(seed, bool) or int(seed) != seed:
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.n_directions, self.kind, self.per_point = int(n_directions), kind, bool(per_point)
        self.seed, self.exact_requests, self.max_order = int(seed), bool(exact_requests), int(max_order)
        self.variance, self.deterministic = bool(variance), bool(deterministic)
        self._gens: dict = {}
        self._saved: dict[str, torch.Tensor] = {}  # loaded states not yet given to a generator
        self._freezes = 0  # frozen() blocks entered so far (each gets its own fixed streams)
        self._frozen: int | None = None  # index of the active frozen block
        if generator is not None:
            self._gens[_device_key(generator.device)] = generator

    # -- randomness ---------------------------------------------------------------------------
    def _generator(self, device) -> torch.Generator:
        key = _device_key(device)
        g = self._gens.get(key)
        if g is None:
            g = torch.Generator(device=key).manual_seed(self.seed)
            saved = self._saved.pop(str(key), None)
            if saved is None:
                self._check_saved_device(key)
                saved = next((self._saved.pop(k) for k in list(self._saved)
                              if torch.device(k).type == key.type), None)
            if saved is not None:
                g.set_state(saved)
            self._gens[key] = g
        return g

    def _check_saved_device(self, device: torch.device):
        other = [k for k in self._saved if torch.device(k).type != device.type]
        if other and not any(torch.device(k).type == device.type for k in self._saved):
            raise ValueError(f"STDE generator state saved on {other[0]} cannot be loaded into a run on {device}; "
                             f"resume on {torch.device(other[0]).type} or re-seed the engine (reseed) explicitly")

    def _stream_generator(self, device, stream: int) -> torch.Generator:
        """The generator one derivatives object draws from: the engine's, or a fixed one when frozen."""
        if self._frozen is None:
            return self._generator(device)
        seed = (self.seed * 1_000_003 + 7_919 * (self._frozen + 1) + 104_729 * stream) % (2 ** 63)
        return torch.Generator(device=_device_key(device)).manual_seed(seed)

    def reseed(self, seed: int) -> None:
        """Restart every random stream from ``seed`` (e.g. the run's ``--seed``); drops loaded states."""
        if isinstance(seed, bool) or int(seed) != seed:
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.seed = int(seed)
        self._saved.clear()
        self._freezes = 0
        for g in self._gens.values():
            g.manual_seed(self.seed)

    @contextlib.contextmanager
    def frozen(self, block: int | None = None):
        """Within the block every ``derivatives()`` call draws the same directions (a fixed objective).

        Each block has its own fixed streams (derived from ``seed`` and the block's index, kept in
        :meth:`state_dict`); the engine's main streams are not advanced inside it. Yields the block's index;
        ``block`` re-enters a block by its index (a resumed L-BFGS phase continues on the same directions).
        """
        if self._frozen is not None:  # nested: keep the outer block's streams
            yield self._frozen
            return
        if block is not None and (int(block) != block or block < 0):
            raise ValueError(f"block must be a non-negative integer, got {block!r}")
        self._frozen = self._freezes if block is None else int(block)
        self._freezes = max(self._freezes, self._frozen + 1)
        try:
            yield self._frozen
        finally:
            self._frozen = None

    def state_dict(self) -> dict:
        """``{"seed", "freezes", "generators": {device string: CPU uint8 state}}``."""
        gens = {k: v.clone() for k, v in self._saved.items()}
        gens.update({str(k): g.get_state().clone() for k, g in self._gens.items()})
        return {"seed": self.seed, "freezes": self._freezes, "generators": gens}

    def load_state_dict(self, state: dict, device=None) -> None:
        """Restore :meth:`state_dict`. ``device`` (optional): the run's device, checked now.

        A generator state saved on another device type (a CUDA state into a CPU run) raises
        ``ValueError`` naming both devices, here when ``device`` is given, else at the first draw.
        """
        if not isinstance(state, dict) or not {"seed", "generators"} <= set(state):
            raise ValueError(f"not an STDE engine state: expected keys seed, generators; got "
                             f"{sorted(state) if isinstance(state, dict) else type(state).__name__}")
        saved = {}
        for k, v in dict(state["generators"]).items():
            torch.device(k)  # a valid device string
            t = torch.as_tensor(v)
            if t.dtype != torch.uint8 or t.ndim != 1:
                raise ValueError(f"STDE generator state for {k} must be a 1-D uint8 tensor, got "
                                 f"{t.dtype} of shape {tuple(t.shape)}")
            saved[k] = t.to("cpu").clone()
        if device is not None:
            dev = _device_key(device)
            other = [k for k in saved if torch.device(k).type != dev.type]
            if other:
                raise ValueError(f"STDE generator state saved on {other[0]} cannot be loaded into a run on {dev}; "
                                 f"resume on {torch.device(other[0]).type} or re-seed the engine (reseed) explicitly")
        self.seed = int(state["seed"])
        self._freezes = int(state.get("freezes", 0))
        user = dict(self._gens)
        self._gens.clear()
        self._saved = saved
        for key, g in user.items():  # a user-supplied generator keeps its identity
            s = self._saved.pop(str(key), None)
            if s is None:
                self._check_saved_device(key)
                g.manual_seed(self.seed)
            else:
                g.set_state(s)
            self._gens[key] = g

    # -- engine ---------------------------------------------------------------------------------
    def derivatives(self, model, points, names, fields, *, normals=None, requests=None, create_graph=True,
                    _stream: int = 0):
        gen = self._stream_generator(points.device, _stream) if self._frozen is not None else None
        return _STDEDerivatives(self, model, points.detach(), names, fields, normals, requests, create_graph,
                                generator=gen)

    def describe(self):
        return {"name": self.name, "n_directions": self.n_directions, "kind": self.kind,
                "per_point": self.per_point, "seed": self.seed, "exact_requests": self.exact_requests,
                "variance": self.variance, "deterministic": self.deterministic}

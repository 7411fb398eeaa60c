"""Taylor-mode derivative engine: exact derivatives from one forward pass of jets.

For every planned request the engine picks input directions: a pure derivative
``d^k u / dx_i^k`` is ``k! c_k`` along ``e_i``; a mixed partial of order ``k`` comes from
the polarisation identity for the symmetric tensor ``D^k u``::

    D^k u[e_{i1}, ..., e_{ik}] = 1/k! sum_{S nonempty subset of 1..k} (-1)^{k-|S|} D^k u[v_S]^k,
    v_S = sum_{s in S} e_{is},

and ``D^k u[v]^k = k! c_k(v)``, so the partial is ``sum_S (-1)^{k-|S|} c_k(v_S)``. Directions
that are multiples of each other are merged (``c_k(a v) = a^k c_k(v)``). All directions of a
request set go through the model in *one* batched jet pass (order = the highest order
asked). Unplanned requests are answered lazily with one more pass. The Laplacian uses a
collapsed jet (only the sum of the second coefficients over ``e_i`` is propagated).

Cost per point: about ``1 + K V`` matrix-vector products per layer for ``V`` directions of
order ``K``.
"""

from __future__ import annotations

import itertools
import math
from functools import reduce

import torch

from .base import AbstractDerivativeEngine, AbstractDerivatives, UnsupportedDerivative
from .jet import Jet

__all__ = ["Taylor", "polarization"]

Direction = tuple[int, ...]


def _primitive(v: tuple[int, ...]) -> tuple[Direction, int]:
    """Write the integer vector ``v`` as ``a * w`` with ``w`` primitive, first nonzero entry > 0."""
    g = reduce(math.gcd, (abs(x) for x in v if x), 0)
    first = next(x for x in v if x)
    a = g if first > 0 else -g
    return tuple(x // a for x in v), a


def polarization(idx: tuple[int, ...], d: int) -> dict[Direction, float]:
    """Weights ``w`` with ``D^k u[e_idx0, ..., e_idxk-1] = sum_v w[v] c_k(v)``.

    ``c_k(v)`` is the k-th normalised Taylor coefficient of ``u(x + t v)``; ``k = len(idx)``.
    """
    k = len(idx)
    if len(set(idx)) == 1:
        e = [0] * d
        e[idx[0]] = 1
        return {tuple(e): float(math.factorial(k))}  # D^k u[e]^k = k! c_k(e)
    weights: dict[Direction, float] = {}
    for r in range(1, k + 1):
        for S in itertools.combinations(range(k), r):
            v = [0] * d
            for s in S:
                v[idx[s]] += 1
            w, a = _primitive(tuple(v))
            weights[w] = weights.get(w, 0.0) + (-1) ** (k - r) * float(a) ** k
    return {w: c for w, c in weights.items() if c != 0}


def _input_jet(points: torch.Tensor, dirs: torch.Tensor, order: int, collapsed: bool = False) -> Jet:
    """Jet of the line ``points + t dirs[v]``; ``dirs`` ``(V, 1, d)`` or ``(V, N, d)``."""
    return Jet([points, dirs] + [None] * (order - 1), collapsed)  # None: structurally zero coefficient


def _check_output(out, fields):
    if not isinstance(out, Jet):
        raise UnsupportedDerivative("the model returned a plain tensor for a jet input: it does not depend on "
                                    "its input through supported torch operations")
    if out.ndim != 2 or out.shape[1] != len(fields):
        raise ValueError(f"model output must have shape (N, {len(fields)}) for fields {tuple(fields)}, "
                         f"got {tuple(out.shape)}")


class _TaylorDerivatives(AbstractDerivatives):
    def __init__(self, engine, model, points, names, fields, normals, requests, create_graph=True):
        super().__init__(points, names, fields, normals)
        self._engine, self._model = engine, model
        self._grad = bool(create_graph)  # False: no graph to the parameters (evaluation), less memory
        self._values: dict = {}
        self._primal = None
        self._pending: set = set(r for r in (requests or ()) if r[1])
        self._ops: dict = {}  # cached operators (laplacian, ...)

    # -- passes ---------------------------------------------------------------------------
    def _forward(self, jet: Jet) -> Jet:
        with torch.set_grad_enabled(torch.is_grad_enabled() and self._grad):
            out = self._model(jet)
        _check_output(out, self.fields)
        if self._primal is None:
            self._primal = out.primal
        return out

    def _value(self) -> torch.Tensor:
        if self._primal is None:
            with torch.set_grad_enabled(torch.is_grad_enabled() and self._grad):
                out = self._model(self.points)
            if out.ndim != 2 or out.shape[1] != len(self.fields):
                raise ValueError(f"model output must have shape (N, {len(self.fields)}) for fields "
                                 f"{tuple(self.fields)}, got {tuple(out.shape)}")
            self._primal = out
        return self._primal

    def _compute(self, requests) -> None:
        """One batched jet pass for all ``requests`` (each with at least one coordinate)."""
        d = len(self.names)
        plans, need, order = {}, {}, 1
        for field, wrt in requests:
            k = len(wrt)
            if k > self._engine.max_order:
                raise UnsupportedDerivative(f"Taylor engine: derivative d^{k} {field}/d{' d'.join(wrt)} has order "
                                            f"{k} > max_order={self._engine.max_order}")
            order = max(order, k)
            w = polarization(tuple(self._col[c] for c in wrt), d)
            plans[(field, wrt)] = w
            for v in w:
                need[v] = max(need.get(v, 0), k)
        # directions sorted by the order they need: coefficient k is only carried for the first counts[k]
        ordered = sorted(need, key=lambda v: -need[v])
        dirs = {v: i for i, v in enumerate(ordered)}
        counts = [None] + [sum(1 for v in ordered if need[v] >= k) for k in range(1, order + 1)]
        vecs = torch.tensor(ordered, dtype=self.points.dtype, device=self.points.device)
        jet = _input_jet(self.points, vecs[:, None, :], order)
        jet.counts = tuple(counts)
        out = self._forward(jet)
        for (field, wrt), w in plans.items():
            f, k = self._field[field], len(wrt)
            ck = out.coeffs[k]
            val = None
            for v, c in w.items():
                term = ck[dirs[v], :, f] * c if ck.shape[0] > 1 else ck[0, :, f] * c
                val = term if val is None else val + term
            self._values[(field, wrt)] = val.expand(self.n) if val.shape[0] != self.n else val

    def derivative(self, field, wrt):
        key = (field, wrt)
        val = self._values.get(key)
        if val is not None:
            return val
        if not wrt:
            val = self._value()[:, self._field[field]]
            self._values[key] = val
            return val
        todo = self._pending | {key}
        self._pending = set()
        self._compute(sorted(todo))
        return self._values[key]

    # -- operators ------------------------------------------------------------------------
    def laplacian(self, field, over=None):
        cols = self._over(over)
        pure = [(field, (c, c)) for c in cols]
        if all(p in self._values for p in pure):
            return super().laplacian(field, cols)
        key = ("laplacian", field, cols)
        if key not in self._ops:
            self._pending -= set(pure)  # served by the collapsed pass unless asked for separately
            idx = torch.tensor([self._col[c] for c in cols], device=self.points.device)
            e = torch.zeros(len(cols), 1, len(self.names), dtype=self.points.dtype, device=self.points.device)
            e[torch.arange(len(cols)), 0, idx] = 1
            out = self._forward(_input_jet(self.points, e, 2, collapsed=True))
            for f, i in self._field.items():
                self._ops[("laplacian", f, cols)] = (2 * out.coeffs[2][..., i]).expand(self.n)
        return self._ops[key]


    def biharmonic(self, field, over=None):
        """Exact ``Delta^2 field = sum_i u_iiii + 2 sum_{i<j} u_iijj``, ``(N,)``, one order-4 pass.

        ``u_iijj = (D^4u[e_i+e_j]^4 + D^4u[e_i-e_j]^4 - 2 D^4u[e_i]^4 - 2 D^4u[e_j]^4) / 12`` with
        ``D^4u[v]^4 = 24 c_4(v)``: ``d^2`` directions.
        """
        cols = self._over(over)
        key = ("biharmonic", field, cols)
        if key not in self._ops:
            idx = [self._col[c] for c in cols]
            m, D = len(idx), len(self.names)
            eye = torch.eye(D, dtype=self.points.dtype, device=self.points.device)[idx]  # (m, D)
            iu, ju = torch.triu_indices(m, m, 1, device=self.points.device)
            dirs = torch.cat([eye, eye[iu] + eye[ju], eye[iu] - eye[ju]])
            out = self._forward(_input_jet(self.points, dirs[:, None, :], 4))
            c4 = 24 * out.coeffs[4]  # (V, N, m_fields)
            pure, plus, minus = c4[:m], c4[m:m + len(iu)], c4[m + len(iu):]
            mixed = (plus + minus - 2 * pure[iu] - 2 * pure[ju]) / 12
            total = pure.sum(0) + 2 * mixed.sum(0)
            for f, i in self._field.items():
                self._ops[("biharmonic", f, cols)] = total[..., i].expand(self.n)
        return self._ops[key]


class Taylor(AbstractDerivativeEngine):
    """Exact derivatives by forward Taylor mode (jets through the model; see :mod:`pde.derivatives.taylor`).

    ``max_order``: highest derivative order served (polarisation of a fully mixed partial of
    order k uses up to 2^k - 1 directions). The model must be written with torch operations
    that :class:`~pde.derivatives.jet.Jet` supports; others raise ``UnsupportedDerivative``.
    """

    name = "taylor"

    def __init__(self, max_order: int = 6):
        if max_order < 1:
            raise ValueError(f"max_order must be >= 1, got {max_order}")
        self.max_order = int(max_order)

    def derivatives(self, model, points, names, fields, *, normals=None, requests=None, create_graph=True):
        pts = points.detach()
        return _TaylorDerivatives(self, model, pts, names, fields, normals, requests, create_graph)

    def describe(self):
        return {"name": self.name, "max_order": self.max_order}

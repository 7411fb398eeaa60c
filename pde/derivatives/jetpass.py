"""What the Taylor and STDE engines share: exact partials from one batched jet pass.

:class:`JetDerivatives` answers every planned request ``d^k field / dx_{i1} ... dx_{ik}`` from
one forward pass of jets through the model. A pure derivative ``d^k u / dx_i^k`` is ``k! c_k``
along ``e_i``; a mixed partial of order ``k`` comes from the polarisation identity for the
symmetric tensor ``D^k u``::

    D^k u[e_{i1}, ..., e_{ik}] = 1/k! sum_{S nonempty subset of 1..k} (-1)^{k-|S|} D^k u[v_S]^k,
    v_S = sum_{s in S} e_{is},

and ``D^k u[v]^k = k! c_k(v)``, so the partial is ``sum_S (-1)^{k-|S|} c_k(v_S)``. Directions
that are multiples of each other are merged (``c_k(a v) = a^k c_k(v)``). Results live in the
base-class cache (:meth:`~pde.derivatives.base.AbstractDerivatives.cached`); the direction
table ``(V, 1, d)`` is a per-device constant of the engine (built once, no host-to-device copy
in later steps).
"""

from __future__ import annotations

import itertools
import math
from functools import reduce

import torch

from .base import AbstractDerivatives, UnsupportedDerivative
from .jet import Jet, check_output

__all__ = ["JetDerivatives", "input_jet", "polarization"]

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


def input_jet(points: torch.Tensor, dirs, order: int, collapsed: bool = False) -> Jet:
    """Jet of the line ``points + t dirs[v]``; ``dirs`` ``(V, 1, d)`` or ``(V, N, d)`` (or a OneHot)."""
    return Jet([points, dirs] + [None] * (order - 1), collapsed)  # None: structurally zero coefficient


class JetDerivatives(AbstractDerivatives):
    """Exact partial derivatives by batched jet passes (base of the Taylor and STDE derivatives).

    ``engine`` must have ``max_order``; ``requests`` (planned, may be None) are computed together
    in the first pass that any of them triggers. ``create_graph=False``: no graph to the
    parameters (evaluation, less memory).
    """

    def __init__(self, engine, model, points, names, fields, normals, requests, create_graph=True):
        super().__init__(points, names, fields, normals)
        self._engine, self._model = engine, model
        self._grad = bool(create_graph)
        self._primal = None
        self._pending: set = set(r for r in (requests or ()) if r[1])

    # -- passes ---------------------------------------------------------------------------
    def _forward(self, jet: Jet) -> Jet:
        with torch.set_grad_enabled(torch.is_grad_enabled() and self._grad):
            out = self._model(jet)
        check_output(out, self.fields)
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
        """One batched jet pass for all ``requests`` (each with at least one coordinate); fills the cache."""
        d = len(self.names)
        plans, need, order = {}, {}, 1
        for field, wrt in requests:
            k = len(wrt)
            if k > self._engine.max_order:
                raise UnsupportedDerivative(f"{self._engine.name} engine: derivative d^{k} {field}/d"
                                            f"{' d'.join(wrt)} has order {k} > max_order={self._engine.max_order}")
            order = max(order, k)
            w = polarization(tuple(self._col[c] for c in wrt), d)
            plans[(field, wrt)] = w
            for v in w:
                need[v] = max(need.get(v, 0), k)
        # directions sorted by the order they need: coefficient k is only carried for the first counts[k]
        ordered = tuple(sorted(need, key=lambda v: (-need[v], v)))
        dirs = {v: i for i, v in enumerate(ordered)}
        counts = [None] + [sum(1 for v in ordered if need[v] >= k) for k in range(1, order + 1)]
        vecs = self._engine.constant(("directions", ordered), self.points.device, self.points.dtype,
                                     lambda: [[list(v)] for v in ordered])  # (V, 1, d)
        jet = input_jet(self.points, vecs, order)
        jet.counts = tuple(counts)
        out = self._forward(jet)
        for (field, wrt), w in plans.items():
            f, k = self._field[field], len(wrt)
            ck = out.coeffs[k]
            if not isinstance(ck, torch.Tensor):
                ck = out._full(k)
            val = None
            for v, c in w.items():
                term = ck[dirs[v], :, f] * c if ck.shape[0] > 1 else ck[0, :, f] * c
                val = term if val is None else val + term
            self._cache[("partial", field, wrt)] = val.expand(self.n) if val.shape[0] != self.n else val

    def _partials(self, field, wrt):
        if not wrt:
            v = self._value()
            return {f: v[:, i] for f, i in self._field.items()}
        todo = {r for r in self._pending if not self.is_cached("partial", *r)} | {(field, wrt)}
        self._pending = set()
        self._compute(sorted(todo))
        return {field: self._cache[("partial", field, wrt)]}

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

import torch

from .base import AbstractDerivativeEngine
from .jetpass import JetDerivatives, input_jet, polarization

__all__ = ["Taylor", "polarization"]


class _TaylorDerivatives(JetDerivatives):
    """Exact partials (:class:`~pde.derivatives.jetpass.JetDerivatives`) plus one-pass operators."""

    def laplacian(self, field, over=None):
        """Exact ``sum_i d^2 field/dx_i^2`` over ``over``, ``(N,)``: one collapsed order-2 pass (all fields)."""
        cols = self._over(over)
        self.key(field, cols)  # validates the field and every coordinate
        pure = [(field, (c, c)) for c in cols]
        if all(self.is_cached("partial", *p) for p in pure):
            return super().laplacian(field, cols)

        def compute():
            self._pending -= set(pure)  # served by the collapsed pass unless asked for separately
            idx = [self._col[c] for c in cols]
            d = len(self.names)
            e = self._engine.constant(("laplacian", tuple(idx), d), self.points.device, self.points.dtype,
                                      lambda: [[[1.0 if j == i else 0.0 for j in range(d)]] for i in idx])
            out = self._forward(input_jet(self.points, e, 2, collapsed=True))
            c2 = out._full(2)
            return {f: (2 * c2[..., i]).expand(self.n) for f, i in self._field.items()}
        return self.cached("laplacian", field, cols, compute)

    def biharmonic(self, field, over=None):
        """Exact ``Delta^2 field = sum_i u_iiii + 2 sum_{i<j} u_iijj``, ``(N,)``, one order-4 pass.

        ``u_iijj = (D^4u[e_i+e_j]^4 + D^4u[e_i-e_j]^4 - 2 D^4u[e_i]^4 - 2 D^4u[e_j]^4) / 12`` with
        ``D^4u[v]^4 = 24 c_4(v)``: ``d^2`` directions.
        """
        cols = self._over(over)
        self.key(field, cols)  # validates the field and every coordinate

        def compute():
            idx = [self._col[c] for c in cols]
            m, D = len(idx), len(self.names)
            iu, ju = [a for a in range(m) for b in range(a + 1, m)], [b for a in range(m) for b in range(a + 1, m)]

            def table():
                eye = [[1.0 if j == i else 0.0 for j in range(D)] for i in idx]
                plus = [[x + y for x, y in zip(eye[a], eye[b])] for a, b in zip(iu, ju)]
                minus = [[x - y for x, y in zip(eye[a], eye[b])] for a, b in zip(iu, ju)]
                return [[row] for row in eye + plus + minus]
            dirs = self._engine.constant(("biharmonic", tuple(idx), D), self.points.device, self.points.dtype,
                                         table)  # (m + 2 P, 1, D)
            out = self._forward(input_jet(self.points, dirs, 4))
            c4 = 24 * out._full(4)  # (V, N, m_fields)
            P = len(iu)
            pure, plus, minus = c4[:m], c4[m:m + P], c4[m + P:]
            total = pure.sum(0)
            if P:
                sel_i = self._engine.constant(("biharmonic_i", m), self.points.device, torch.long, lambda: iu)
                sel_j = self._engine.constant(("biharmonic_j", m), self.points.device, torch.long, lambda: ju)
                mixed = (plus + minus - 2 * pure[sel_i] - 2 * pure[sel_j]) / 12
                total = total + 2 * mixed.sum(0)
            return {f: total[..., i].expand(self.n) for f, i in self._field.items()}
        return self.cached("biharmonic", field, cols, compute)


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

"""Reverse-mode autograd derivative engine (the baseline every other engine is tested against)."""

from __future__ import annotations

import torch

from .base import AbstractDerivativeEngine, AbstractDerivatives

__all__ = ["Autograd"]


class _AutogradDerivatives(AbstractDerivatives):
    """Nested reverse mode with a cache of full gradient rows.

    The gradient of ``D(field, prefix)`` with respect to all coordinates is one
    ``autograd.grad`` call and serves every request ``D(field, prefix + (c,))``,
    so ``u_x``, ``u_t`` and ``u`` cost one backward pass together and
    ``u_xx`` one more.
    """

    def __init__(self, points, names, fields, output, normals, create_graph):
        super().__init__(points, names, fields, normals)
        self._output = output
        self._create_graph = create_graph
        self._values: dict = {}
        self._rows: dict = {}

    def derivative(self, field, wrt):
        key = (field, wrt)
        val = self._values.get(key)
        if val is not None:
            return val
        if not wrt:
            val = self._output[:, self._field[field]]
        else:
            prefix = (field, wrt[:-1])
            row = self._rows.get(prefix)
            if row is None:
                base = self.derivative(*prefix)
                if base.requires_grad:
                    (row,) = torch.autograd.grad(base, self.points, torch.ones_like(base),
                                                 create_graph=self._create_graph, allow_unused=True)
                else:
                    row = None
                if row is None:  # base does not depend on the points: derivative is zero
                    row = torch.zeros_like(self.points)
                self._rows[prefix] = row
            val = row[:, self._col[wrt[-1]]]
        self._values[key] = val
        return val


class Autograd(AbstractDerivativeEngine):
    """Exact derivatives by nested reverse-mode automatic differentiation.

    Cost: one backward pass per distinct (field, lower-order derivative) that is
    differentiated further; a Laplacian in d dimensions costs d of them.
    """

    name = "autograd"
    compilable = False  # torch.compile's AOTAutograd does not support double backward

    def derivatives(self, model, points, names, fields, *, normals=None, requests=None, create_graph=True):
        pts = points.detach().requires_grad_(True)
        out = model(pts)
        if out.ndim != 2 or out.shape[1] != len(fields):
            raise ValueError(f"model output must have shape (N, {len(fields)}) for fields {tuple(fields)}, "
                             f"got {tuple(out.shape)}")
        return _AutogradDerivatives(pts, names, fields, out, normals, create_graph)

"""Reverse-mode autograd derivative engine (the baseline every other engine is tested against)."""

from __future__ import annotations

import torch

from .base import AbstractDerivativeEngine, AbstractDerivatives

__all__ = ["Autograd"]


def _label(field: str, wrt: tuple[str, ...]) -> str:
    """``u_xx`` for one-letter coordinates, ``d^2 u/dx1 dx2`` otherwise."""
    if all(len(c) == 1 for c in wrt):
        return f"{field}_{''.join(wrt)}"
    return f"d^{len(wrt)} {field}/" + " ".join(f"d{c}" for c in wrt)


class _AutogradDerivatives(AbstractDerivatives):
    """Nested reverse mode with a cache of full gradient rows.

    The gradient of ``D(field, prefix)`` with respect to all coordinates is one
    ``autograd.grad`` call and serves every request ``D(field, prefix + (c,))``,
    so ``u_x``, ``u_t`` and ``u`` cost one backward pass together and
    ``u_xx`` one more. Rows are kept in the base-class cache under ``("row", field, prefix)``.

    A value without an autograd graph is taken as independent of the points (derivative 0)
    only when that is the truth: when it was computed with gradients on and, for a derivative,
    with ``create_graph=True``. Otherwise (``torch.no_grad()``, ``create_graph=False``) asking
    for its derivative raises ``RuntimeError`` naming the derivative and the reason.
    """

    def __init__(self, points, names, fields, output, normals, create_graph, grad_at_model):
        super().__init__(points, names, fields, normals)
        self._output = output
        self._create_graph = create_graph
        #: why a value has no graph although it may depend on the points: (field, wrt) -> reason
        self._no_graph: dict = {}
        if not grad_at_model:
            for f in self.fields:
                self._no_graph[(f, ())] = "the model was evaluated under torch.no_grad()"

    def _row(self, field, prefix):
        base = self.derivative(field, prefix)
        if base.requires_grad:
            grad_on = torch.is_grad_enabled()
            (row,) = torch.autograd.grad(base, self.points, torch.ones_like(base),
                                         create_graph=self._create_graph, allow_unused=True)
            if row is None:  # base has a graph but none of it leads to the points: derivative zero
                row = torch.zeros_like(self.points)
            elif not row.requires_grad and not self._create_graph:
                self._mark(field, prefix, "the first derivative was computed without create_graph" if not prefix
                           else f"the derivatives of {_label(field, prefix)} were computed without create_graph")
            elif not row.requires_grad and not grad_on:
                self._mark(field, prefix, "it was computed under torch.no_grad()")
            return row
        reason = self._no_graph.get((field, prefix))
        if reason is not None:
            return reason
        # no graph, made with gradients on: base genuinely does not depend on the points
        return torch.zeros_like(self.points)

    def _mark(self, field, prefix, reason):
        for c in self.names:
            self._no_graph[(field, tuple(sorted(prefix + (c,), key=self._col.__getitem__)))] = reason

    def _partials(self, field, wrt):
        if not wrt:  # slicing keeps the output's graph even when asked under torch.no_grad()
            with torch.enable_grad():
                return {f: self._output[:, i] for f, i in self._field.items()}
        prefix = wrt[:-1]
        row = self.cached("row", field, prefix, lambda: {field: self._row(field, prefix)})
        if isinstance(row, str):
            raise RuntimeError(
                f"autograd engine: cannot compute {_label(field, wrt)}: "
                f"{_label(field, prefix) if prefix else field} has no autograd graph because {row}; "
                f"evaluate the derivatives with gradients enabled and create_graph=True "
                f"(a derivative of a value without a graph is not taken as 0)")
        with torch.enable_grad():
            return {field: row[:, self._col[wrt[-1]]]}


class Autograd(AbstractDerivativeEngine):
    """Exact derivatives by nested reverse-mode automatic differentiation.

    Cost: one backward pass per distinct (field, lower-order derivative) that is
    differentiated further; a Laplacian in d dimensions costs d of them.
    """

    name = "autograd"
    compilable = False  # torch.compile's AOTAutograd does not support double backward

    def derivatives(self, model, points, names, fields, *, normals=None, requests=None, create_graph=True):
        pts = points.detach().requires_grad_(True)
        grad_on = torch.is_grad_enabled()
        out = model(pts)
        if out.ndim != 2 or out.shape[1] != len(fields):
            raise ValueError(f"model output must have shape (N, {len(fields)}) for fields {tuple(fields)}, "
                             f"got {tuple(out.shape)}")
        return _AutogradDerivatives(pts, names, fields, out, normals, create_graph, grad_on)

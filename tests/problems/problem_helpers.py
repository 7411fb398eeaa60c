"""Shared helpers for the problem-library tests."""

from __future__ import annotations

import torch

from pde.derivatives import Autograd


class ExactModel(torch.nn.Module):
    """A "model" whose output is the problem's exact solution (so the real engine differentiates it)."""

    def __init__(self, problem):
        super().__init__()
        self.problem = problem

    def forward(self, points):
        return self.problem.exact(points)


class TransformedModel(torch.nn.Module):
    """``problem.output_transform(points, mlp(points))`` with a small random float64 MLP."""

    def __init__(self, problem, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        d = problem.domain.dim
        self.problem = problem
        self.net = torch.nn.Sequential(torch.nn.Linear(d, 16), torch.nn.Tanh(),
                                       torch.nn.Linear(16, len(problem.fields))).double()

    def forward(self, points):
        return self.problem.output_transform(points, self.net(points))


def derivatives(model, problem, points, normals=None):
    return Autograd().derivatives(model, points, problem.domain.names, problem.fields, normals=normals)


def residual_at(problem, model, points):
    r = problem.residual(derivatives(model, problem, points))
    if isinstance(r, dict):
        r = torch.cat([v.reshape(points.shape[0], -1) for v in r.values()], dim=1)
    return r.detach()


def condition_residuals(problem, model, n=256, seed=0):
    """``{condition name: max |residual|}`` at ``n`` sampled points of each condition (float64)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for c in problem.conditions():
        pts, nrm = c.sample(problem.domain, n, generator=g, dtype=torch.float64)
        r = c.residual(derivatives(model, problem, pts, nrm))
        out[c.name] = float(r.detach().abs().max())
    return out

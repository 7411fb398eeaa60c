"""Causal weighting of a PDE system: one set of weights from all residuals, not one per residual."""

import math

import torch

from pde import Interval, SpaceTime, TimeInterval, define
from pde.derivatives import Autograd
from pde.training.losses import CausalWeighting, LossTerms


class Field(torch.nn.Module):
    """u = 0 everywhere, v = t: residual "a" (u_t) vanishes, residual "b" (v_t - 0) is 1 at every time."""

    def forward(self, p):
        return torch.stack([0.0 * p[:, 0], p[:, 1]], dim=1)


def test_one_set_of_causal_weights_from_all_residuals():
    dom = SpaceTime(Interval(0, 1), TimeInterval(0, 1))
    prob = define("system", dom, lambda d: {"a": d("u", "t"), "b": d("v", "t") * (1.0 - d.points[:, 1])},
                  fields=("u", "v"))
    causal = CausalWeighting(eps=1.0, bins=4)
    losses = LossTerms(prob, Autograd(), [], causal=causal)
    t = torch.tensor([0.1, 0.3, 0.6, 0.9], dtype=torch.float64)
    pts = torch.stack([torch.full_like(t, 0.5), t], dim=1).repeat(8, 1).requires_grad_(True)
    total, terms, _, cw = losses(Field().double(), pts, [])
    assert cw.shape == (4,)
    # residual "a" is zero; the weights follow residual "b" (1 - t)^2 summed over earlier slices
    sl = (1.0 - t) ** 2
    expect = torch.exp(-(torch.cumsum(sl, 0) - sl))
    assert torch.allclose(cw, expect)
    assert terms[0] == 0.0 and math.isclose(float(terms[1]), float((expect * sl).mean()), rel_tol=1e-12)
    # weights given (the L-BFGS phase) are used for every residual
    fixed = torch.ones(4, dtype=torch.float64)
    _, terms2, _, cw2 = losses(Field().double(), pts, [], causal_weights=fixed)
    assert torch.equal(cw2, fixed) and math.isclose(float(terms2[1]), float(sl.mean()), rel_tol=1e-12)

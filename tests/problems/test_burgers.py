"""Burgers: the Cole-Hopf quadrature is exact to 1e-8."""

from __future__ import annotations

import math

import numpy as np
import torch
from problem_helpers import ExactModel, residual_at

from problems import Burgers, cole_hopf

NU = 0.01 / math.pi


def _trapezoid(x, t, nu, h=0.01, half_width=14.0):
    """Independent evaluation: trapezoid rule in z (spectrally accurate for this smooth, fast-decaying integrand)."""
    z = np.arange(-half_width, half_width + h / 2, h)
    s = np.sqrt(4 * nu * t)
    y = x[:, None] - s[:, None] * z
    e = -np.cos(np.pi * y) / (2 * np.pi * nu) - z ** 2
    e -= e.max(axis=1, keepdims=True)
    p = np.exp(e)
    return -(np.sin(np.pi * y) * p).sum(1) / p.sum(1)


def _grid():
    X, T = np.meshgrid(np.linspace(-1, 1, 256), np.linspace(0, 0.99, 100), indexing="ij")
    return X.ravel(), T.ravel()


def test_quadrature_converged_to_1e8():
    x, t = _grid()
    u150 = cole_hopf(torch.from_numpy(x), torch.from_numpy(t), NU, 150).numpy()
    u250 = cole_hopf(torch.from_numpy(x), torch.from_numpy(t), NU, 250).numpy()
    u50 = cole_hopf(torch.from_numpy(x), torch.from_numpy(t), NU, 50).numpy()
    assert np.abs(u150 - u250).max() < 1e-12
    sub = np.zeros((256, 100), bool)
    sub[::5, ::3] = True  # an independent rule agrees (on a subgrid that includes the shock, to save time)
    sub[120:136, :] = True
    sub = sub.ravel()
    assert np.abs(u150[sub] - _trapezoid(x[sub], t[sub], NU)).max() < 1e-12
    assert np.abs(u50 - u150).max() > 1e-8  # too few nodes is detectably wrong: the check can fail
    # the shock: steep but bounded, antisymmetric in x
    assert np.abs(u150).max() < 1.0 + 1e-12
    np.testing.assert_allclose(u150.reshape(256, 100), -u150.reshape(256, 100)[::-1], atol=1e-13)


def test_formula_solves_burgers_through_autograd():
    p = Burgers()
    g = torch.Generator().manual_seed(0)
    x = 2 * torch.rand(2000, generator=g, dtype=torch.float64) - 1
    t = 0.02 + 0.97 * torch.rand(2000, generator=g, dtype=torch.float64)
    x[:50] = 0.01 * (x[:50])  # crowd some points into the shock, where |u_x| reaches ~140
    r = residual_at(p, ExactModel(p), torch.stack([x, t], 1))
    assert float(r.abs().max()) < 1e-11
    # a different viscosity leaves an O(1) residual there: the check can fail
    wrong = ExactModel(Burgers(nu=0.02 / math.pi))
    assert float(residual_at(p, wrong, torch.stack([x, t], 1)).abs().max()) > 1e-2


def test_initial_and_boundary_values():
    x = torch.linspace(-1, 1, 201, dtype=torch.float64)
    u0 = -torch.sin(math.pi * x)
    torch.testing.assert_close(cole_hopf(x, torch.zeros_like(x), NU), u0, atol=1e-15, rtol=0)
    # small t: first-order Taylor expansion from the PDE, error O(t^2)
    tau = 1e-6
    ut = -u0 * (-math.pi * torch.cos(math.pi * x)) + NU * math.pi ** 2 * torch.sin(math.pi * x)
    torch.testing.assert_close(cole_hopf(x, torch.full_like(x, tau), NU), u0 + tau * ut, atol=1e-9, rtol=0)
    t = torch.linspace(0, 0.99, 50, dtype=torch.float64)
    for side in (-1.0, 1.0):
        assert float(cole_hopf(torch.full_like(t, side), t, NU).abs().max()) < 1e-13


def test_exact_dtype_device_and_reference():
    p = Burgers()
    pts = torch.tensor([[0.5, 0.3], [-0.2, 0.9]], dtype=torch.float32)
    out = p.exact(pts)
    assert out.shape == (2, 1) and out.dtype == torch.float32 and out.device == pts.device
    ref = p.reference()
    assert ref.shape == (256, 100) and ref.values.shape == (25600, 1) and ref.points.shape == (25600, 2)
    np.testing.assert_allclose(ref.axes["t"][[0, -1]], [0.0, 0.99])
    again = Burgers(quad_nodes=250).exact(torch.from_numpy(ref.points)).numpy()
    assert np.abs(ref.values - again).max() < 1e-8

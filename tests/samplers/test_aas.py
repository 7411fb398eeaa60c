import math

import pytest
import torch
from torch.nn.functional import softplus

from pde import Box
from samplers import AAS, CouplingFlow


def _random_flow(d, seed=0, std=0.3, **kw):
    torch.manual_seed(seed)
    f = CouplingFlow(d, **kw).double()
    for layer in f.layers:
        torch.nn.init.normal_(layer.net[-1].weight, std=std)
        torch.nn.init.normal_(layer.net[-1].bias, std=std)
    return f


def _mass_on_unit_square(f, h, half_width):
    """Total probability of the 2-D flow ``f`` by midpoint quadrature in logit coordinates ``y`` (``u = sigmoid(y)``),
    where the integrand is smooth with exponential tails, over ``[-half_width, half_width]^2``."""
    a = torch.arange(-half_width, half_width, h, dtype=torch.float64) + h / 2
    y = torch.stack(torch.meshgrid(a, a, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        lp = f.log_prob_logit(y) + (-softplus(y) - softplus(-y)).sum(1)
    return float(lp.exp().sum()) * h * h


def test_flow_starts_uniform():
    f = CouplingFlow(3).double()
    u = torch.rand(100, 3, dtype=torch.float64)
    assert torch.allclose(f.log_prob(u), torch.zeros(100, dtype=torch.float64), atol=1e-9)


def test_flow_density_integrates_to_one_2d():
    assert abs(_mass_on_unit_square(_random_flow(2), 0.15, 25) - 1.0) < 2e-3


@pytest.mark.parametrize("scale", [0.7, 1.5])
def test_gaussian_base_flow_integrates_to_one_and_matches_its_closed_form_at_start(scale):
    # at initialisation (identity couplings) u = sigmoid(z), z ~ N(0, s^2): p(u) = N(logit u; 0, s^2) / (u (1 - u))
    f0 = CouplingFlow(2, base="gaussian", base_scale=scale).double()
    u = torch.rand(50, 2, dtype=torch.float64) * 0.98 + 0.01
    z = torch.logit(u)
    expect = (-0.5 * (z / scale) ** 2 - math.log(scale * math.sqrt(2 * math.pi)) - torch.log(u * (1 - u))).sum(1)
    with torch.no_grad():
        assert torch.allclose(f0.log_prob(u), expect, atol=1e-10)
    f = _random_flow(2, seed=3, base="gaussian", base_scale=scale)
    assert abs(_mass_on_unit_square(f, 0.1, 30) - 1.0) < 2e-3
    u, lp_fwd = f.sample(30, torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(f.log_prob(u), lp_fwd, atol=1e-6)


def test_gaussian_base_starts_centred_and_bad_base_is_refused():
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        u, _ = CouplingFlow(10, base="gaussian").sample(4000, g)
    assert abs(float(u.std()) - 0.21) < 0.02 and abs(float(u.mean()) - 0.5) < 0.01
    with pytest.raises(ValueError, match="base"):
        CouplingFlow(2, base="normal")
    with pytest.raises(ValueError, match="base_scale"):
        CouplingFlow(2, base="gaussian", base_scale=0.0)
    with pytest.raises(ValueError, match="base"):
        AAS(base="cauchy")


def test_flow_log_density_change_of_variables():
    f = _random_flow(2, seed=1)
    g = torch.Generator().manual_seed(0)
    u, lp_fwd = f.sample(20, g)
    assert torch.allclose(f.log_prob(u), lp_fwd, atol=1e-6)  # inverse consistent with forward
    # Jacobian of the full map u0 -> u: log p(u) = -log|det du/du0| (uniform base)
    for _i in range(3):
        u0 = torch.rand(1, 2, dtype=torch.float64, generator=g)

        def push(v):
            z = torch.logit(v)
            y, _ = f._push(z)
            return torch.sigmoid(y)

        jac = torch.autograd.functional.jacobian(push, u0).reshape(2, 2)
        uu = push(u0)
        assert math.isclose(float(f.log_prob(uu)[0].detach()), -math.log(abs(float(torch.det(jac)))), abs_tol=1e-6)


def test_flow_10d_samples_inside_and_log_prob_finite():
    f = _random_flow(10, std=0.2)
    u, lp = f.sample(2000, torch.Generator().manual_seed(0))
    assert ((u >= 0) & (u <= 1)).all() and torch.isfinite(lp).all()
    # Monte Carlo: E_uniform[p(u)] = 1
    with torch.no_grad():
        pu = f.log_prob(torch.rand(50_000, 10, dtype=torch.float64)).exp()
    assert abs(float(pu.mean()) - 1) < 5 * float(pu.std()) / math.sqrt(pu.numel()) + 1e-3


@pytest.mark.parametrize("d,scale,lr,beta,factor", [(2, 20.0, 5e-3, 1e-3, 0.2), (10, 1.0, 1e-3, 1e-4, 0.97)])
def test_aas_moves_toward_residual_peak_and_stays_inside(d, scale, lr, beta, factor):
    dom = Box([-1.0] * d, [1.0] * d)
    s = AAS(n=400, flow_steps=60, flow_lr=lr, n_penalty=256, beta=beta)
    updates = 4
    s.setup(dom, generator=torch.Generator().manual_seed(0))
    x0 = torch.full((d,), 0.5)

    def resid(x):
        return torch.exp(-scale * ((x - x0) ** 2).sum(1))

    def spread(p):
        return float(((p - x0) ** 2).sum(1).mean())

    before = spread(s.sample_flow(2000))
    for step in range(updates):
        s.update_with_model(step, resid)
    after_pts = s.sample_flow(2000)
    assert dom.inside(s.points()).all() and dom.inside(after_pts).all()
    assert spread(after_pts) < factor * before
    assert s.points().shape == (400, d)
    with torch.no_grad():
        lp = s.log_density(s.points())
        assert torch.isfinite(lp).all()
        # box density = unit-cube density / volume
        assert torch.allclose(lp, s.flow.log_prob(s.to_unit(s.points())) - d * math.log(2.0), atol=1e-5)


def test_aas_on_a_domain_with_a_hole_keeps_its_points_inside():
    """AAS on a CSG domain (square minus a disk): every point it trains on lies in the composite."""
    from pde import Box, Dirichlet, Disk, define, solve

    plate = Box([0, 0], [1, 1]) - Disk((0.5, 0.5), 0.2)
    problem = define("plate", plate, lambda d: d.laplacian("u") + 1.0, conditions=[Dirichlet(0.0)])
    sampler = AAS(n=256, update_every=5, flow_steps=3, n_layers=2, hidden=8, n_penalty=16)
    run = solve(problem, sampler=sampler, steps=20, lbfgs_steps=0, quiet=True, device="cpu", n_boundary=64)
    points = sampler.points()
    assert run.status == "finished" and points.shape == (256, 2)
    assert bool(plate.inside(points).all())
    assert bool(((points - 0.5).norm(dim=1) >= 0.2).all())  # none in the hole

"""High-dimensional problems: closed-form sources against autograd/Taylor derivatives of the exact solution."""

import math

import pytest
import torch

from pde.derivatives import STDE, Autograd, Taylor
from problems.highdim import BiharmonicBall, InseparableAllenCahn, InseparablePoisson, InseparableSineGordon, biharmonic

DT = torch.float64


def _nested_autograd_laplacian(f, x):
    """``sum_j d^2 f / dx_j^2`` of a scalar field ``f(x) -> (N,)`` by nested reverse mode, ``(N,)``."""
    x = x.clone().requires_grad_(True)
    g = torch.autograd.grad(f(x).sum(), x, create_graph=True)[0]
    return sum(torch.autograd.grad(g[:, j].sum(), x, retain_graph=True)[0][:, j] for j in range(x.shape[1]))


def _points(dim, n, seed):
    """Points inside the unit ball, drawn independently of the problem's own sampler."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, dim, generator=g, dtype=DT)
    return 0.95 * torch.rand(n, 1, generator=g, dtype=DT) * z / z.norm(dim=1, keepdim=True)


class Exact(torch.nn.Module):
    def __init__(self, problem):
        super().__init__()
        self.problem = problem

    def forward(self, x):
        return self.problem.exact(x)


@pytest.mark.parametrize("cls", [InseparablePoisson, InseparableAllenCahn, InseparableSineGordon])
@pytest.mark.parametrize("body", [2, 3])
def test_exact_solution_has_zero_residual(cls, body):
    p = cls(d=6, body=body, seed=1)
    pts = p.domain.sample_interior(20, generator=torch.Generator().manual_seed(0), dtype=DT)
    names = p.domain.names
    for eng in (Autograd(), Taylor()):
        d = eng.derivatives(Exact(p), pts, names, ("u",))
        r = p.residual(d)
        assert r.shape == (20,)
        assert r.abs().max() < 1e-10 * (1 + p.source(pts).abs().max())
    bnd, _ = p.domain.sample_boundary(10, dtype=DT)
    assert p.exact(bnd).abs().max() < 1e-12
    assert p.exact(pts).shape == (20, 1)


def test_stde_residual_of_exact_solution_is_unbiased():
    p = InseparablePoisson(d=8, seed=2)
    pts = p.domain.sample_interior(4, generator=torch.Generator().manual_seed(0), dtype=DT)
    eng = STDE(n_directions=3, kind="sparse", seed=0)
    rs = torch.stack([p.residual(eng.derivatives(Exact(p), pts, p.domain.names, ("u",))) for _ in range(200)])
    assert (rs.mean(0).abs() <= 5 * rs.std(0) / 200 ** 0.5 + 1e-12).all()


def test_biharmonic_problem():
    p = BiharmonicBall(d=3, n_waves=3, seed=0)
    pts = p.domain.sample_interior(10, generator=torch.Generator().manual_seed(0), dtype=DT)
    for eng in (Autograd(), Taylor()):
        d = eng.derivatives(Exact(p), pts, p.domain.names, ("u",))
        assert p.residual(d).abs().max() < 1e-9 * p.source(pts).abs().max()
    bnd, nrm = p.domain.sample_boundary(7, dtype=DT)
    d = Autograd().derivatives(Exact(p), bnd, p.domain.names, ("u",), normals=nrm)
    assert torch.allclose(d.normal_derivative("u"), p.normal_derivative(bnd), atol=1e-12)
    assert [c.name for c in p.conditions()] == ["bc", "neumann"]
    assert biharmonic(Taylor().derivatives(Exact(p), pts, p.domain.names, ("u",))).shape == (10,)


def test_validation_and_transform():
    with pytest.raises(ValueError, match="dim"):
        InseparablePoisson(d=1)
    with pytest.raises(ValueError, match="body"):
        InseparableAllenCahn(d=5, body=4)
    p = InseparableSineGordon(d=5)
    x = torch.randn(3, 5, dtype=DT)
    x = x / x.norm(dim=1, keepdim=True)
    assert p.output_transform(x, torch.ones(3, 1, dtype=DT)).abs().max() < 1e-12 and p.hard_satisfies == ("bc",)
    assert p.reference().values.shape == (p.eval_random_points, 1)


@pytest.mark.parametrize("body", [2, 3])
def test_exact_solution_is_the_paper_formula_with_seeded_normal_coefficients(body):
    d, seed = 5, 3
    p = InseparablePoisson(d=d, body=body, seed=seed)
    c = torch.randn(d, generator=torch.Generator().manual_seed(seed), dtype=DT)  # first d - body + 1 are used
    x = _points(d, 7, 0)
    want = []
    for xk in x.tolist():
        if body == 2:
            s = sum(c[i].item() * math.sin(xk[i] + math.cos(xk[i + 1]) + xk[i + 1] * math.cos(xk[i]))
                    for i in range(d - 1))
        else:
            s = sum(c[i].item() * math.exp(xk[i] * xk[i + 1] * xk[i + 2]) for i in range(d - 2))
        want.append((1 - sum(v * v for v in xk)) * s)
    assert p.coefficients.shape == (d - body + 1,)
    assert torch.allclose(p.exact(x)[:, 0], torch.tensor(want, dtype=DT), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("body", [2, 3])
def test_closed_form_laplacian_matches_nested_autograd(body):
    p = InseparablePoisson(d=5, body=body, seed=4)
    x = _points(5, 16, 1)
    ref = _nested_autograd_laplacian(lambda y: p.exact(y)[:, 0], x)
    assert torch.allclose(p.exact_laplacian(x), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("body", [2, 3])
def test_sources_follow_the_stated_equations(body):
    """``-Delta u = g`` (Poisson), ``Delta u + u - u^3 = g`` (Allen-Cahn), ``Delta u + sin u = g`` (Sine-Gordon)."""
    x = _points(5, 16, 2)
    ops = {InseparablePoisson: lambda u, lap: -lap,
           InseparableAllenCahn: lambda u, lap: lap + u - u ** 3,
           InseparableSineGordon: lambda u, lap: lap + torch.sin(u)}
    for cls, op in ops.items():
        p = cls(d=5, body=body, seed=5)
        u = p.exact(x)[:, 0]
        want = op(u, _nested_autograd_laplacian(lambda y, p=p: p.exact(y)[:, 0], x))
        assert torch.allclose(p.source(x), want, rtol=1e-12, atol=1e-12), cls.__name__


def test_interior_points_have_uniform_radius_like_the_papers():
    p = InseparableAllenCahn(d=50)
    x = p.domain.sample_interior(4000, generator=torch.Generator().manual_seed(0), dtype=DT)
    r = x.norm(dim=1)
    assert (r <= 1).all()
    # radius ~ U[0, 1]: its quartiles sit near 0.25, 0.5, 0.75 (volume-uniform would put them all above 0.97)
    q = torch.quantile(r, torch.tensor([0.25, 0.5, 0.75], dtype=DT))
    assert torch.allclose(q, torch.tensor([0.25, 0.5, 0.75], dtype=DT), atol=0.03)
    ref = torch.as_tensor(p.reference().points).norm(dim=1)
    assert abs(ref.mean().item() - 0.5) < 0.02
    vol = InseparableAllenCahn(d=50, sampling="volume").domain.sample_interior(
        1000, generator=torch.Generator().manual_seed(0), dtype=DT).norm(dim=1)
    assert vol.min() > 0.8 and (vol <= 1 + 1e-12).all()
    with pytest.raises(ValueError, match="sampling"):
        InseparablePoisson(d=5, sampling="cube")


def test_dimension_is_d_with_dim_a_deprecated_alias():
    """One name for the dimension across problems (``poisson_nd`` and ``heat`` call it ``d``)."""
    import dataclasses

    from problems import PoissonND

    assert "d" in {f.name for f in dataclasses.fields(PoissonND)}
    for cls in (InseparablePoisson, InseparableAllenCahn, InseparableSineGordon, BiharmonicBall):
        p = cls(d=5)
        assert p.d == 5 and p.domain.dim == 5 and p.params()["d"] == 5 and "dim" not in p.params()
        with pytest.warns(DeprecationWarning, match=r"use .*\(d=6\)"):
            old = cls(dim=6)
        assert old.d == 6 and old.domain.dim == 6
        with pytest.raises(ValueError, match="disagree"):
            cls(d=5, dim=6)
        assert dataclasses.replace(p, seed=3).d == 5  # no warning: dim follows d

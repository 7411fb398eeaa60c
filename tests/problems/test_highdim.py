"""High-dimensional problems: closed-form sources against autograd/Taylor derivatives of the exact solution."""

import pytest
import torch

from pde.derivatives import STDE, Autograd, Taylor
from problems.highdim import BiharmonicBall, InseparableAllenCahn, InseparablePoisson, InseparableSineGordon, biharmonic

DT = torch.float64


class Exact(torch.nn.Module):
    def __init__(self, problem):
        super().__init__()
        self.problem = problem

    def forward(self, x):
        return self.problem.exact(x)


@pytest.mark.parametrize("cls", [InseparablePoisson, InseparableAllenCahn, InseparableSineGordon])
@pytest.mark.parametrize("body", [2, 3])
def test_exact_solution_has_zero_residual(cls, body):
    p = cls(dim=6, body=body, seed=1)
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
    p = InseparablePoisson(dim=8, seed=2)
    pts = p.domain.sample_interior(4, generator=torch.Generator().manual_seed(0), dtype=DT)
    eng = STDE(n_directions=3, kind="sparse", seed=0)
    rs = torch.stack([p.residual(eng.derivatives(Exact(p), pts, p.domain.names, ("u",))) for _ in range(200)])
    assert (rs.mean(0).abs() <= 5 * rs.std(0) / 200 ** 0.5 + 1e-12).all()


def test_biharmonic_problem():
    p = BiharmonicBall(dim=3, n_waves=3, seed=0)
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
        InseparablePoisson(dim=1)
    with pytest.raises(ValueError, match="body"):
        InseparableAllenCahn(dim=5, body=4)
    p = InseparableSineGordon(dim=5)
    x = torch.randn(3, 5, dtype=DT)
    x = x / x.norm(dim=1, keepdim=True)
    assert p.output_transform(x, torch.ones(3, 1, dtype=DT)).abs().max() < 1e-12 and p.hard_satisfies == ("bc",)
    assert p.reference().values.shape == (p.eval_random_points, 1)

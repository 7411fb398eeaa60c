import pytest
import torch

from pde.derivatives import Autograd, RecordingDerivatives


class Analytic(torch.nn.Module):
    """u = sin(2x) cos(y) exp(t/2) + x^3 y,  v = x y t."""

    def forward(self, p):
        x, y, t = p.unbind(1)
        u = torch.sin(2 * x) * torch.cos(y) * torch.exp(0.5 * t) + x**3 * y
        return torch.stack([u, x * y * t], 1)


def expected(p):
    x, y, t = p.unbind(1)
    s, c, e = torch.sin(2 * x), torch.cos(y), torch.exp(0.5 * t)
    return {
        ("u", ()): s * c * e + x**3 * y,
        ("u", ("x",)): 2 * torch.cos(2 * x) * c * e + 3 * x**2 * y,
        ("u", ("x", "x")): -4 * s * c * e + 6 * x * y,
        ("u", ("x", "y")): -2 * torch.cos(2 * x) * torch.sin(y) * e + 3 * x**2,
        ("u", ("x", "x", "y")): 4 * s * torch.sin(y) * e + 6 * x,
        ("u", ("x", "x", "x", "x")): 16 * s * c * e,
        ("u", ("y", "y")): -s * c * e,
        ("u", ("t",)): 0.5 * s * c * e,
        ("u", ("t", "t")): 0.25 * s * c * e,
        ("v", ("x", "y", "t")): torch.ones_like(x),
        ("v", ("x", "x")): torch.zeros_like(x),
    }


def test_autograd_matches_analytic_float64(device):
    p = torch.randn(64, 3, dtype=torch.float64, device=device)
    d = Autograd().derivatives(Analytic(), p, ("x", "y", "t"), ("u", "v"))
    for (f, wrt), val in expected(p).items():
        got = d(f, *wrt)
        torch.testing.assert_close(got, val, rtol=1e-12, atol=1e-12)
    # mixed partials commute and are cached: same tensor object
    assert d("u", "y", "x") is d("u", "x", "y")
    torch.testing.assert_close(d.laplacian("u", over=("x", "y")),
                               expected(p)[("u", ("x", "x"))] + expected(p)[("u", ("y", "y"))])
    torch.testing.assert_close(d.grad("u", over=("x", "t"))[:, 1], expected(p)[("u", ("t",))])
    torch.testing.assert_close(d.div(("u", "v"), over=("x", "y")),
                               expected(p)[("u", ("x",))] + p[:, 0] * p[:, 2])


def test_derivatives_are_differentiable_wrt_parameters():
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    p = torch.rand(16, 2, dtype=torch.float64)
    d = Autograd().derivatives(net, p, ("x", "t"), ("u",))
    loss = (d("u", "t") - d("u", "x", "x")).square().mean()
    loss.backward()
    # every weight matters for the derivatives (the output bias does not)
    assert all(q.grad.abs().sum() > 0 for name, q in net.named_parameters() if name != "2.bias")


def test_constant_in_a_coordinate_gives_zero():
    class OnlyX(torch.nn.Module):
        def forward(self, p):
            return p[:, :1] ** 2

    d = Autograd().derivatives(OnlyX(), torch.rand(5, 2, dtype=torch.float64), ("x", "t"), ("u",))
    assert torch.equal(d("u", "t", "t"), torch.zeros(5, dtype=torch.float64))
    torch.testing.assert_close(d("u", "x", "x"), torch.full((5,), 2.0, dtype=torch.float64))


def test_errors_name_the_bad_value():
    d = Autograd().derivatives(Analytic(), torch.rand(4, 3), ("x", "y", "t"), ("u", "v"))
    with pytest.raises(ValueError, match="unknown field 'w'"):
        d["w"]
    with pytest.raises(ValueError, match="unknown coordinate 'z'"):
        d("u", "z")
    with pytest.raises(ValueError, match=r"shape \(N, 1\)"):
        Autograd().derivatives(Analytic(), torch.rand(4, 3), ("x", "y", "t"), ("u",))


def test_recording_collects_requests():
    rec = RecordingDerivatives(torch.zeros(3, 2), ("x", "t"), ("u",))
    _ = rec("u", "t") + rec["u"] * rec("u", "x") - rec.laplacian("u")
    assert rec.requests == {("u", ("t",)), ("u", ()), ("u", ("x",)), ("u", ("x", "x"))}

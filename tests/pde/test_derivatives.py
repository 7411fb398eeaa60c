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


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()


def test_second_derivative_without_create_graph_raises():
    """create_graph=False used to give u_xx = 0 silently (issue 14); now it names the derivative and why."""
    d = Autograd().derivatives(_mlp(), torch.rand(5, 2, dtype=torch.float64), ("x", "t"), ("u",),
                               create_graph=False)
    assert d("u", "x").abs().sum() > 0  # first derivatives are fine
    with pytest.raises(RuntimeError, match=r"u_xx.*without create_graph"):
        d("u", "x", "x")


def test_derivative_under_no_grad_raises():
    """Under torch.no_grad() u_x used to be 0 silently; now it raises naming torch.no_grad()."""
    with torch.no_grad():
        d = Autograd().derivatives(_mlp(), torch.rand(5, 2, dtype=torch.float64), ("x", "t"), ("u",))
        assert d["u"].shape == (5,)  # the value itself is fine
        with pytest.raises(RuntimeError, match=r"u_x.*torch\.no_grad\(\)"):
            d("u", "x")
    # derivatives object made with gradients on, derivatives asked under no_grad: create_graph keeps
    # the graph, so they are right (not zero)
    pts = torch.rand(5, 2, dtype=torch.float64)
    ref = Autograd().derivatives(_mlp(), pts, ("x", "t"), ("u",))
    d = Autograd().derivatives(_mlp(), pts, ("x", "t"), ("u",))
    with torch.no_grad():
        uxx = d("u", "x", "x")
    assert uxx.abs().sum() > 0
    torch.testing.assert_close(uxx, ref("u", "x", "x"), rtol=1e-13, atol=1e-13)


def test_field_independent_of_points_still_gives_zero():
    """A parameter-free output that does not depend on the points (grad enabled) keeps u_x = u_xx = 0."""

    class Linear2x(torch.nn.Module):
        def forward(self, p):
            return 2 * p[:, :1] + 0 * p[:, 1:]

    class Const(torch.nn.Module):
        def forward(self, p):
            return torch.ones(p.shape[0], 1, dtype=p.dtype)

    d = Autograd().derivatives(Linear2x(), torch.rand(5, 2, dtype=torch.float64), ("x", "t"), ("u",))
    torch.testing.assert_close(d("u", "x"), torch.full((5,), 2.0, dtype=torch.float64))
    assert torch.equal(d("u", "x", "x"), torch.zeros(5, dtype=torch.float64))
    d = Autograd().derivatives(Const(), torch.rand(5, 2, dtype=torch.float64), ("x", "t"), ("u",))
    assert torch.equal(d("u", "t"), torch.zeros(5, dtype=torch.float64))

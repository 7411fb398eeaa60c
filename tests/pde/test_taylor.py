"""Taylor-mode engine and jets against nested autograd in float64 (relative error < 1e-10)."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pde.derivatives import ENGINES, Autograd, Taylor, UnsupportedDerivative
from pde.derivatives.jet import Jet, activation_derivatives, compose
from pde.derivatives.taylor import polarization

DT = torch.float64
TOL = 1e-10


class Act(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


ACTS = {
    "tanh": torch.tanh, "sin": torch.sin, "cos": torch.cos, "exp": lambda x: torch.exp(0.3 * x),
    "softplus": F.softplus, "softplus_beta": lambda x: F.softplus(x, beta=2.0, threshold=1.5),
    "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
    "sigmoid": torch.sigmoid, "method_tanh": lambda x: x.tanh(), "square": lambda x: x * x / 3 + x,
    "div": lambda x: x / (2 + x * x), "pow": lambda x: (1 + x * x) ** 0.5,
}


def mlp(d_in, act, width=12, m=2):
    return nn.Sequential(nn.Linear(d_in, width), Act(act), nn.Linear(width, width), Act(act),
                         nn.Linear(width, m)).to(DT)


class ModifiedMLP(nn.Module):
    """Products of branches (Wang et al.): h <- (1 - z) * U + z * V."""

    def __init__(self, d_in, width=10, m=1):
        super().__init__()
        self.u, self.v, self.l1 = nn.Linear(d_in, width), nn.Linear(d_in, width), nn.Linear(d_in, width)
        self.l2, self.out = nn.Linear(width, width), nn.Linear(width, m)

    def forward(self, x):
        U, V = torch.tanh(self.u(x)), torch.tanh(self.v(x))
        z = torch.tanh(self.l1(x))
        h = (1 - z) * U + z * V
        z = torch.tanh(self.l2(h))
        h = (1 - z) * U + z * V
        return self.out(h)


class Fourier(nn.Module):
    def __init__(self, d_in, nf=6, m=1):
        super().__init__()
        self.register_buffer("B", torch.randn(d_in, nf, dtype=DT))
        self.net = mlp(2 * nf, torch.tanh, m=m)

    def forward(self, x):
        p = x @ self.B
        return self.net(torch.cat([torch.cos(p), torch.sin(p)], dim=1))


class Periodic(nn.Module):
    """Periodic in column 0 (period 2), other columns passed through; residual connection inside."""

    def __init__(self, d_in, m=1):
        super().__init__()
        self.l1, self.l2, self.out = nn.Linear(d_in + 1, 10), nn.Linear(10, 10), nn.Linear(10, m)

    def forward(self, x):
        w = math.pi
        e = torch.cat([torch.cos(w * x[:, 0:1]), torch.sin(w * x[:, 0:1]), x[:, 1:]], dim=-1)
        h = torch.tanh(self.l1(e))
        h = h + torch.sin(self.l2(h))  # residual connection
        return self.out(h)


class HardBall(nn.Module):
    def __init__(self, d_in, m=1):
        super().__init__()
        self.net = mlp(d_in, torch.tanh, m=m)

    def forward(self, x):
        return (1 - (x * x).sum(dim=1, keepdim=True)) * self.net(x) + (x * (1 - x)).prod(dim=1, keepdim=True)


MODELS = {
    **{f"mlp_{k}": (lambda d, m, a=a: mlp(d, a, m=m)) for k, a in ACTS.items()},
    "modified": lambda d, m: ModifiedMLP(d, m=m).to(DT),
    "fourier": lambda d, m: Fourier(d, m=m).to(DT),
    "periodic": lambda d, m: Periodic(d, m=m).to(DT),
    "hard_ball": lambda d, m: HardBall(d, m=m).to(DT),
}

NAMES, FIELDS = ("x", "y", "t"), ("u", "v")


def all_requests(order, names=NAMES, fields=FIELDS):
    return {(f, w) for k in range(order + 1) for w in itertools.combinations_with_replacement(names, k)
            for f in fields}


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_partial_up_to_order_4(model):
    torch.manual_seed(hash(model) % 1000)
    net = MODELS[model](3, 2)
    x = torch.rand(6, 3, dtype=DT) * 0.8 + 0.1  # fresh random inputs, inside (0, 1)
    reqs = all_requests(4)
    ref = Autograd().derivatives(net, x, NAMES, FIELDS)
    got = Taylor().derivatives(net, x, NAMES, FIELDS, requests=reqs)
    for f, w in sorted(reqs):
        assert rel(got(f, *w), ref(f, *w)) < TOL, (model, f, w)
    assert rel(got.laplacian("u"), ref.laplacian("u")) < TOL


@pytest.mark.parametrize("model", ["mlp_tanh", "modified", "fourier", "hard_ball"])
def test_lazy_requests_laplacian_and_biharmonic(model):
    torch.manual_seed(1)
    net = MODELS[model](4, 1)
    names = ("a", "b", "c", "e")
    x = torch.rand(5, 4, dtype=DT) * 0.8 + 0.1
    ref = Autograd().derivatives(net, x, names, ("u",))
    got = Taylor().derivatives(net, x, names, ("u",))  # no plan: everything lazy
    assert rel(got.laplacian("u"), ref.laplacian("u")) < TOL  # collapsed pass
    assert rel(got("u", "a", "c", "c"), ref("u", "a", "c", "c")) < TOL
    assert rel(got["u"], ref["u"]) < TOL
    bih = sum(ref("u", i, i, j, j) for i in names for j in names)
    assert rel(got.biharmonic("u", names), bih) < TOL


def test_gradient_wrt_parameters_matches_autograd():
    torch.manual_seed(2)
    net = ModifiedMLP(2).to(DT)
    x = torch.rand(8, 2, dtype=DT)
    grads = []
    for eng in (Autograd(), Taylor()):
        net.zero_grad()
        d = eng.derivatives(net, x, ("x", "t"), ("u",), requests={("u", ("t",)), ("u", ("x", "x"))})
        loss = (d("u", "t") + d["u"] * d("u", "x") - 0.1 * d("u", "x", "x")).pow(2).mean()
        loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in net.parameters()]))
    assert rel(grads[1], grads[0]) < TOL


def test_output_shape_and_unsupported_op_is_named():
    net = nn.Sequential(nn.Linear(2, 4), nn.ELU(), nn.Linear(4, 1)).to(DT)
    d = Taylor().derivatives(net, torch.rand(3, 2, dtype=DT), ("x", "y"), ("u",))
    with pytest.raises(UnsupportedDerivative, match="elu"):
        d("u", "x")
    bad = Taylor().derivatives(nn.Linear(2, 2).to(DT), torch.rand(3, 2, dtype=DT), ("x", "y"), ("u",))
    with pytest.raises(ValueError, match="shape"):
        bad("u", "x")


def test_engines_registry():
    assert set(ENGINES) >= {"autograd", "taylor", "stde"}
    assert ENGINES["taylor"]().name == "taylor" and ENGINES["stde"]().name == "stde"


# -- prefactors ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tanh", "sigmoid", "sin", "cos", "exp", "log", "sqrt", "rsqrt", "reciprocal",
                                  "ndtr"])
def test_activation_derivatives_match_autograd(name):
    fn = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "sin": torch.sin, "cos": torch.cos, "exp": torch.exp,
          "log": torch.log, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal,
          "ndtr": torch.special.ndtr}[name]
    x = (torch.rand(7, dtype=DT) + 0.2).requires_grad_(True)
    ds = activation_derivatives(name, x.detach(), 5)
    y = fn(x)
    for k in range(6):
        assert rel(ds[k], y.detach()) < TOL, (name, k)
        (y,) = torch.autograd.grad(y.sum(), x, create_graph=True)


def test_faa_di_bruno_prefactors_order_4():
    """y_k for f(x0 + x1 t + ... ) written out by hand (normalised coefficients)."""
    x = [torch.tensor(v, dtype=DT) for v in (0.3, 0.7, -0.2, 0.5, 1.1)]
    f = [torch.tensor(v, dtype=DT) for v in (1.0, 2.0, 3.0, 5.0, 7.0)]
    y = compose(Jet([x[0]] + [c[None] for c in x[1:]]), f).coeffs
    x1, x2, x3, x4 = x[1:]
    want = [f[0], f[1] * x1, f[1] * x2 + f[2] / 2 * x1 ** 2,
            f[1] * x3 + f[2] * x1 * x2 + f[3] / 6 * x1 ** 3,
            f[1] * x4 + f[2] * (x1 * x3 + x2 ** 2 / 2) + f[3] / 2 * x1 ** 2 * x2 + f[4] / 24 * x1 ** 4]
    for k in range(5):
        assert abs(float(y[k].reshape(-1)[0]) - float(want[k])) < 1e-14, k


def test_polarization_weights():
    # u_xy = c_2(e_x + e_y) - c_2(e_x) - c_2(e_y); pure: k! c_k(e)
    assert polarization((0, 1), 2) == {(1, 1): 1.0, (1, 0): -1.0, (0, 1): -1.0}
    assert polarization((1, 1, 1), 2) == {(0, 1): 6.0}
    # check on the polynomial u = x^2 y^2 (u_xxyy = 4): c_4(a, b) = a^2 b^2
    w = polarization((0, 0, 1, 1), 2)
    assert abs(sum(c * v[0] ** 2 * v[1] ** 2 for v, c in w.items()) - 4.0) < 1e-12


def test_collapsed_jet_matches_sum_of_directions():
    torch.manual_seed(3)
    net = ModifiedMLP(3).to(DT)
    x = torch.rand(4, 3, dtype=DT)
    v = torch.randn(5, 1, 3, dtype=DT)
    zero = torch.zeros(1, 1, 3, dtype=DT)
    full = net(Jet([x, v, zero, zero]))
    coll = net(Jet([x, v, zero, torch.zeros(1, 3, dtype=DT)], collapsed=True))
    assert rel(coll.coeffs[3], full.coeffs[3].sum(0)) < TOL
    assert rel(coll.coeffs[2], full.coeffs[2]) < TOL


@pytest.mark.parametrize("kw", [dict(), dict(arch="modified", activation="sin"), dict(fourier_features=4),
                                dict(periodic={"x": 1.0}, activation="gelu"), dict(activation="silu")])
def test_pdekit_models(kw):
    """The package's own PINN models carry jets without model-specific code."""
    factory = pytest.importorskip("pde.models.factory")
    from pde.domain import Box
    torch.manual_seed(4)
    net = factory.PINN(width=8, depth=2, **kw).build(Box([0, 0], [1, 2], names=("x", "t")), 1).double()
    x = torch.rand(5, 2, dtype=DT)
    reqs = all_requests(4, ("x", "t"), ("u",))
    ref = Autograd().derivatives(net, x, ("x", "t"), ("u",))
    got = Taylor().derivatives(net, x, ("x", "t"), ("u",), requests=reqs)
    for f, w in sorted(reqs):
        assert rel(got(f, *w), ref(f, *w)) < TOL, (kw, w)


def test_create_graph_false_builds_no_graph():
    net = mlp(2, torch.tanh, m=1)
    x = torch.rand(4, 2, dtype=DT)
    d = Taylor().derivatives(net, x, ("x", "y"), ("u",), create_graph=False)
    assert not d("u", "x", "y").requires_grad and not d.laplacian("u").requires_grad
    ref = Autograd().derivatives(net, x, ("x", "y"), ("u",))
    assert rel(d("u", "x", "y"), ref("u", "x", "y").detach()) < TOL


def test_tanh_taylor_coefficients():
    from pde.derivatives.jet import _tanh_taylor
    x = torch.rand(9, dtype=DT) * 4 - 2
    for K in (1, 2, 3, 4, 6):
        want = activation_derivatives("tanh", x, K)
        got = _tanh_taylor(x, K)
        for j in range(K + 1):
            assert rel(got[j] * math.factorial(j), want[j]) < 1e-13, (K, j)


def test_constants_mixed_with_jets_match_autograd():
    """``x - 2.0``, ``1 - x**2``, ``0.5 - t`` and ``ones_like`` inside a model (hard-constraint style code)."""
    from pde.derivatives import Autograd, Taylor

    class WithConstants(torch.nn.Module):
        def forward(self, p):
            x, t = p[:, :1], p[:, 1:2]
            return ((x - 2.0) * torch.tanh(t) + (1 - x**2) * 3.0 - (0.5 - t)
                    + (t - torch.ones_like(x)) * x * torch.sin(x))

    p = torch.rand(7, 2, dtype=torch.float64)
    reqs = {("u", ("x", "x")), ("u", ("t",)), ("u", ("x", "t")), ("u", ("x", "x", "x"))}
    a = Autograd().derivatives(WithConstants(), p, ("x", "t"), ("u",))
    t = Taylor().derivatives(WithConstants(), p, ("x", "t"), ("u",), requests=reqs)
    for _, wrt in reqs:
        torch.testing.assert_close(t("u", *wrt), a("u", *wrt), rtol=1e-12, atol=1e-12)

"""STDE: prefactors in float64 and unbiasedness of every estimator (fixed seeds, z-score bound)."""

import math

import pytest
import torch
from torch import nn

from pde.derivatives import STDE, Autograd, UnsupportedDerivative, biased_loss, independent_derivatives, unbiased_loss
from pde.derivatives.jet import Jet

DT = torch.float64
D = 5
NAMES = tuple(f"x{i}" for i in range(D))
Z = 5.0  # |mean - exact| <= Z standard errors (two-sided p ~ 6e-7 per point under the CLT)


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(D, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)).to(DT)
    x = torch.rand(3, D, dtype=DT) * 0.8
    A = Autograd().derivatives(net, x, NAMES, ("u",))
    exact = {
        "laplacian": A.laplacian("u").detach(),
        "biharmonic": sum(A("u", a, a, b, b) for a in NAMES for b in NAMES).detach(),
        "sum_fourth": sum(A("u", a, a, a, a) for a in NAMES).detach(),
        "laplacian_derivative": sum(A("u", a, a, "x1") for a in NAMES).detach(),
    }
    return net, x, exact


def call(d, op):
    return d.laplacian_derivative("u", "x1") if op == "laplacian_derivative" else getattr(d, op)("u")


CASES = [("sparse", "laplacian"), ("dense_rademacher", "laplacian"), ("dense_gaussian", "laplacian"),
         ("sparse", "biharmonic"), ("dense_gaussian", "biharmonic"), ("sparse", "sum_fourth"),
         ("sparse", "laplacian_derivative"), ("dense_rademacher", "laplacian_derivative"),
         ("dense_gaussian", "laplacian_derivative")]


@pytest.mark.parametrize("kind,op", CASES)
def test_unbiased(setup, kind, op):
    net, x, exact = setup
    eng = STDE(n_directions=2, kind=kind, seed=7)
    R = 300
    draws, reported = [], []
    for _ in range(R):
        d = eng.derivatives(net, x, NAMES, ("u",))
        draws.append(call(d, op).detach())
        reported.append(next(iter(d.variance.values())))
    draws = torch.stack(draws)
    se = draws.std(0) / math.sqrt(R)
    assert ((draws.mean(0) - exact[op]).abs() <= Z * se + 1e-12).all(), (kind, op)
    # the reported variance of one estimate matches the spread of the estimates (within 35%)
    ratio = torch.stack(reported).mean(0) / draws.var(0)
    assert ((ratio > 0.65) & (ratio < 1.35)).all(), ratio


class HardBall(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return (1 - (x * x).sum(dim=1, keepdim=True)) * self.net(x) + x.sum(-1, keepdim=True) ** 3


@pytest.mark.parametrize("hard", [False, True])
def test_all_directions_sparse_is_exact(setup, hard):
    """|J| = d: the sparse estimators are exact (also through sparse one-hot products of a hard constraint)."""
    net, x, exact = setup
    if hard:
        net = HardBall(net)
        A = Autograd().derivatives(net, x, NAMES, ("u",))
        exact = {"laplacian": A.laplacian("u"), "sum_fourth": sum(A("u", a, a, a, a) for a in NAMES),
                 "laplacian_derivative": sum(A("u", a, a, "x1") for a in NAMES)}
    d = STDE(n_directions=D, kind="sparse").derivatives(net, x, NAMES, ("u",))
    for op in ("laplacian", "sum_fourth", "laplacian_derivative"):
        assert torch.allclose(call(d, op), exact[op], rtol=1e-10, atol=1e-12), op
        assert d.variance[next(k for k in d.variance if k.startswith(op))].abs().max() < 1e-20


def test_j7_prefactor_mixed_third_order():
    """u_{x_i x_i x_j} = J_7 / 105 along input tangents (0, e_i, e_j, 0, ...), on u = x^2 y (u_xxy = 2)."""
    x0 = torch.tensor([[0.3, -0.4]], dtype=DT)
    c = [x0, torch.zeros(1, 1, 2, dtype=DT), torch.tensor([[[1.0, 0.0]]], dtype=DT) / 2,
         torch.tensor([[[0.0, 1.0]]], dtype=DT) / 6] + [torch.zeros(1, 1, 2, dtype=DT)] * 4
    j = Jet(c)
    u = j[:, 0:1] * j[:, 0:1] * j[:, 1:2]
    assert abs(float(u.derivative(7)) / 105 - 2.0) < 1e-12


def test_fourth_order_prefactor():
    """J_4 = D^4u[v]^4 = 24 |v|^4 for u = |x|^4; with E|v|^4 = d (d + 2) for Gaussian v, (1/3) E[J_4] =
    8 d (d + 2) = Delta^2 |x|^4: the 1/3 of the dense biharmonic estimator."""
    torch.manual_seed(0)
    x0, v = torch.randn(2, 4, dtype=DT), torch.randn(3, 1, 4, dtype=DT)
    zero = torch.zeros(1, 1, 4, dtype=DT)
    j = Jet([x0, v, zero, zero, zero])
    u = (j * j).sum(dim=1, keepdim=True) ** 2
    want = 24 * (v * v).sum(-1, keepdim=True) ** 2
    assert torch.allclose(u.derivative(4), want.expand(3, 2, 1), rtol=1e-13)


def test_errors_name_the_derivative(setup):
    net, x, _ = setup
    dense = STDE(kind="dense_rademacher").derivatives(net, x, NAMES, ("u",))
    with pytest.raises(UnsupportedDerivative, match="sum_fourth"):
        dense.sum_fourth("u")
    with pytest.raises(UnsupportedDerivative, match="biharmonic"):
        dense.biharmonic("u")
    strict = STDE(exact_requests=False).derivatives(net, x, NAMES, ("u",))
    with pytest.raises(UnsupportedDerivative, match="x0"):
        strict("u", "x0", "x0")
    with pytest.raises(ValueError, match="kind"):
        STDE(kind="banana")


def test_seed_reproducible_and_per_point(setup):
    net, x, _ = setup
    a = STDE(n_directions=2, seed=3).derivatives(net, x, NAMES, ("u",)).laplacian("u")
    b = STDE(n_directions=2, seed=3).derivatives(net, x, NAMES, ("u",)).laplacian("u")
    assert torch.equal(a, b)
    shared = STDE(n_directions=1, seed=3, per_point=False, kind="dense_rademacher")
    assert shared.derivatives(net, x, NAMES, ("u",)).laplacian("u").shape == (3,)


def test_losses(setup):
    net, x, exact = setup
    eng = STDE(n_directions=1, kind="dense_rademacher", seed=5)
    target = exact["laplacian"]
    b, u = [], []
    for _ in range(400):
        r1 = eng.derivatives(net, x, NAMES, ("u",)).laplacian("u").detach()
        r2 = eng.derivatives(net, x, NAMES, ("u",)).laplacian("u").detach()
        b.append(biased_loss(r1))
        u.append(unbiased_loss(r1, r2))
    b, u = torch.stack(b), torch.stack(u)
    true = target.pow(2).mean()
    assert abs(u.mean() - true) <= Z * u.std() / 20 + 1e-12
    assert b.mean() > true  # biased upward by the variance


def test_gradients_flow_to_parameters(setup):
    net, x, _ = setup
    d = STDE(n_directions=2).derivatives(net, x, NAMES, ("u",))
    biased_loss(d.laplacian("u") + d["u"]).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()


def test_sparse_sampling_is_uniform_without_replacement():
    from pde.derivatives.stde import _STDEDerivatives
    d = _STDEDerivatives(STDE(n_directions=3, seed=0), None, torch.zeros(20000, 7), [f"x{i}" for i in range(7)],
                         ("u",), None, None)
    s = d._sample_coords(7, 3)  # (V, N)
    assert s.shape == (3, 20000)
    assert ((s[0] != s[1]) & (s[0] != s[2]) & (s[1] != s[2])).all()
    freq = torch.bincount(s.flatten(), minlength=7).double() / s.numel()
    # each coordinate has probability 1/7 per slot; binomial standard error sqrt(p (1 - p) / 60000) ~ 1.4e-3
    assert (freq - 1 / 7).abs().max() < 5 * math.sqrt((1 / 7) * (6 / 7) / s.numel())


@pytest.mark.parametrize("kind", ["sparse", "dense_rademacher"])
def test_collapsed_laplacian_equals_per_direction_mean(setup, kind):
    """variance=False propagates the summed second coefficient: same estimate for the same draws."""
    net, x, _ = setup
    hard = HardBall(net)
    a = STDE(n_directions=3, kind=kind, seed=11).derivatives(hard, x, NAMES, ("u",)).laplacian("u")
    b = STDE(n_directions=3, kind=kind, seed=11, variance=False).derivatives(hard, x, NAMES, ("u",)).laplacian("u")
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["laplacian", "biharmonic", "sum_fourth", "laplacian_derivative"])
def test_cache_is_keyed_on_over(setup, op):
    """A second call with another ``over`` used to return the first result (sum_fourth, laplacian_derivative)."""
    net, x, _ = setup
    d = STDE(n_directions=2, kind="sparse", seed=0).derivatives(net, x, NAMES, ("u",))
    A = Autograd().derivatives(net, x, NAMES, ("u",))
    for over in (NAMES[:2], NAMES[2:4]):
        if op == "laplacian_derivative":
            got, want = d.laplacian_derivative("u", "x1", over=over), sum(A("u", a, a, "x1") for a in over)
        elif op == "sum_fourth":
            got, want = d.sum_fourth("u", over=over), sum(A("u", a, a, a, a) for a in over)
        elif op == "laplacian":
            got, want = d.laplacian("u", over=over), A.laplacian("u", over=over)
        else:
            got = d.biharmonic("u", over=over)
            assert got.shape == (3,)
            continue  # sparse biharmonic samples pairs with replacement: not exact, shape only
        # V = |over|: all coordinates are drawn without replacement, so the estimate is exact
        torch.testing.assert_close(got, want.detach(), rtol=1e-10, atol=1e-10)
    assert d.is_cached(op if op != "laplacian_derivative" else "laplacian_derivative[x1]", "u", NAMES[2:4])


def _draw(eng, net, x, op="laplacian"):
    return getattr(eng.derivatives(net, x, NAMES, ("u",)), op)("u").detach()


def test_state_dict_round_trip_gives_identical_draws(setup):
    net, x, _ = setup
    eng = STDE(n_directions=2, seed=7)
    _draw(eng, net, x)
    state = eng.state_dict()
    assert state["generators"]["cpu"].dtype == torch.uint8 and state["generators"]["cpu"].device.type == "cpu"
    a = [_draw(eng, net, x), _draw(eng, net, x, "sum_fourth")]
    other = STDE(n_directions=2, seed=123)
    other.load_state_dict(state)
    b = [_draw(other, net, x), _draw(other, net, x, "sum_fourth")]
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not torch.equal(a[0], _draw(STDE(n_directions=2, seed=7), net, x))  # state, not just the seed
    # a fresh engine that never drew: state of the seed, loaded before first use
    fresh = STDE(n_directions=2, seed=9)
    s0 = fresh.state_dict()
    fresh2 = STDE(n_directions=2)
    fresh2.load_state_dict(s0)
    assert torch.equal(_draw(fresh, net, x), _draw(fresh2, net, x))


def test_load_state_from_another_device_type_raises_one_line(setup):
    net, x, _ = setup
    state = STDE().state_dict()
    state["generators"] = {"cuda:0": torch.zeros(16, dtype=torch.uint8)}
    eng = STDE()
    with pytest.raises(ValueError, match=r"cuda:0.*cpu") as e:
        eng.load_state_dict(state, device="cpu")
    assert "\n" not in str(e.value)
    eng.load_state_dict(state)  # without device: checked at the first draw
    with pytest.raises(ValueError, match=r"cuda:0.*cpu"):
        _draw(eng, net, x)
    eng.reseed(0)  # an explicit re-seed drops the foreign state
    assert torch.equal(_draw(eng, net, x), _draw(STDE(), net, x))
    with pytest.raises(ValueError, match="not an STDE engine state"):
        eng.load_state_dict({"x": 1})


def test_reseed_reproducible(setup):
    net, x, _ = setup
    eng = STDE(n_directions=2, seed=0)
    _draw(eng, net, x)
    eng.reseed(42)
    a = _draw(eng, net, x)
    assert torch.equal(a, _draw(STDE(n_directions=2, seed=42), net, x))
    eng.reseed(42)
    assert torch.equal(a, _draw(eng, net, x))
    assert not torch.equal(a, _draw(STDE(n_directions=2, seed=43), net, x))


def test_frozen_reuses_directions(setup):
    net, x, _ = setup
    eng = STDE(n_directions=2, seed=0)
    assert eng.stochastic
    with eng.frozen():
        a, b = _draw(eng, net, x), _draw(eng, net, x)
        c, e = _draw(eng, net, x, "biharmonic"), _draw(eng, net, x, "biharmonic")
        r1, r2 = [d.laplacian("u").detach() for d in independent_derivatives(eng, net, x, NAMES, ("u",))]
    assert torch.equal(a, b) and torch.equal(c, e)
    assert not torch.equal(r1, r2)  # the two independent streams still differ inside frozen()
    # outside: draws move on again; the main stream was not advanced by the frozen block
    ref = STDE(n_directions=2, seed=0)
    assert torch.equal(_draw(eng, net, x), _draw(ref, net, x))
    assert not torch.equal(_draw(eng, net, x), _draw(eng, net, x))


def test_deterministic_engines_have_empty_state():
    from pde.derivatives import Taylor
    for eng in (Autograd(), Taylor()):
        assert eng.stochastic is False and eng.state_dict() == {}
        eng.load_state_dict({})
        eng.reseed(3)
        with eng.frozen():
            pass
        with pytest.raises(ValueError, match="deterministic"):
            eng.load_state_dict({"seed": 0, "generators": {}})


@pytest.mark.parametrize("per_point", [True, False])
def test_deterministic_collapsed_laplacian_equals_scatter(setup, per_point):
    net, x, _ = setup
    hard = HardBall(net)
    kw = dict(n_directions=4, kind="sparse", seed=5, variance=False, per_point=per_point)
    a = STDE(**kw).derivatives(hard, x, NAMES, ("u",)).laplacian("u")
    b = STDE(deterministic=True, **kw).derivatives(hard, x, NAMES, ("u",)).laplacian("u")
    torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)
    assert STDE(deterministic=True).describe()["deterministic"] is True

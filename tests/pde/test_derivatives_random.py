"""Taylor mode against nested autograd on random small models built from every supported op (float64).

Each seed draws a chain of ops (broadcasts against larger plain tensors, sums over the last
axis with and without ``keepdim``, products and quotients of branches, ``cat``, ``where``,
indexing, and every activation of :data:`pde.models.ACTIVATIONS`); every partial derivative
up to order 3 of the ``(N, 2)`` output must agree with nested ``torch.autograd`` to 1e-10.
"""

import itertools
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pde.derivatives import Autograd, Taylor, UnsupportedDerivative
from pde.models import ACTIVATIONS

DT = torch.float64
TOL = 1e-10
NAMES = ("x", "y", "t")
FIELDS = ("u", "v")


def _rel(a, b):
    """Error relative to ``max(|b|, 1)``: relative for large values, absolute near zero (e.g. u_yy of u linear in y)."""
    return ((a - b).abs().max() / b.abs().max().clamp(min=1.0)).item()


class RandomNet(nn.Module):
    """A random chain of supported ops mapping ``(N, 3) -> (N, 2)``; ``seed`` fixes ops and weights."""

    def __init__(self, seed: int, width: int = 4, n_ops: int = 8):
        super().__init__()
        self.rng = random.Random(seed)
        g = torch.Generator().manual_seed(seed)
        self.width = width
        self.l0 = nn.Linear(3, width).to(DT)
        self.l1 = nn.Linear(width, width).to(DT)
        self.out = nn.Linear(width, 2).to(DT)
        for p in self.parameters():
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=g, dtype=DT) * 0.6)
        self.big = torch.randn(1, 3, width, generator=g, dtype=DT)  # broadcast partner with a larger shape
        acts = list(ACTIVATIONS.values()) + [torch.sigmoid, torch.cos, torch.exp, lambda z: z.tanh()]
        kinds = ["act", "add_big", "mul_big", "sum_keep", "sum_nokeep", "product", "div", "cat", "index",
                 "where", "sub_big", "pow", "mean"]
        self.ops = [(self.rng.choice(kinds), self.rng.choice(acts)) for _ in range(n_ops)]
        # every activation appears at least once across the whole chain
        self.ops += [("act", a) for a in acts]
        self.rng.shuffle(self.ops)

    def forward(self, x):
        N = x.shape[0]
        h = torch.tanh(self.l0(x))  # (N, w)
        y = x[:, 1:2]
        for kind, act in self.ops:
            if kind == "act":
                if act is F.relu:  # relu: smooth away from 0 only; shift so values stay positive
                    h = act(h + 3.0)
                else:
                    h = act(0.5 * h)
            elif kind in ("add_big", "sub_big", "mul_big"):
                z = torch.zeros(N, 3, self.width, dtype=DT) + self.big  # (N, 3, w), larger than h
                hh = h[:, None, :]  # (N, 1, w): broadcasts against z
                if kind == "add_big":
                    h = (hh + z).sum(1) / 3
                elif kind == "sub_big":
                    h = (z - hh).mean(1)
                else:
                    h = (hh * (1 + 0.1 * z)).sum(1)
            elif kind == "sum_keep":
                h = h + (h * h).sum(-1, keepdim=True)
            elif kind == "sum_nokeep":
                h = h * 0.5 + h.sum(-1)[:, None] * y
            elif kind == "product":
                h = h * torch.sin(self.l1(h))
            elif kind == "div":
                h = h / (2.0 + h * h)
            elif kind == "cat":
                h = torch.cat([h[:, : self.width // 2], torch.tanh(h[:, self.width // 2:]) * x[:, :1]], dim=-1)
            elif kind == "index":
                h = h[:, [1, 0] + list(range(2, self.width))] + h[..., 0:1]
            elif kind == "where":
                mask = torch.arange(self.width) % 2 == 0
                h = torch.where(mask, h, 2 * h)
            elif kind == "pow":
                h = (1.0 + h * h) ** 0.5
            elif kind == "mean":
                h = h - h.mean(-1, keepdim=True) * x[:, 2:3]
        return self.out(h)


def _check(model, pts, order=3):
    ad = Autograd().derivatives(model, pts, NAMES, FIELDS)
    tm = Taylor().derivatives(model, pts, NAMES, FIELDS)
    worst = 0.0
    for k in range(order + 1):
        for wrt in itertools.combinations_with_replacement(NAMES, k):
            for f in FIELDS:
                a, b = ad(f, *wrt), tm(f, *wrt)
                assert a.shape == b.shape == (pts.shape[0],), (f, wrt, a.shape, b.shape)
                err = _rel(b, a)
                assert err < TOL, f"d{f}/d{''.join(wrt)}: rel. error {err:.2e}"
                worst = max(worst, err)
    return worst


@pytest.mark.parametrize("seed", range(6))
def test_random_models_match_autograd(seed):
    torch.manual_seed(seed)
    model = RandomNet(seed)
    pts = torch.rand(5, 3, dtype=DT, generator=torch.Generator().manual_seed(100 + seed)) * 2 - 1
    _check(model, pts)


def test_broadcast_add_then_sum_reproducer():
    """``h = tanh(x)**2 + zeros(N, 3); u = h.sum(-1, keepdim=True) * y`` (issue 14: Taylor gave 1/3)."""

    class M(nn.Module):
        def forward(self, p):
            x, y = p[:, :1], p[:, 1:2]
            h = torch.tanh(x) ** 2 + torch.zeros(p.shape[0], 3, dtype=p.dtype)
            u = h.sum(-1, keepdim=True) * y
            return torch.cat([u, h.mean(-1, keepdim=True) + x], dim=1)

    pts = torch.rand(7, 3, dtype=DT, generator=torch.Generator().manual_seed(0))
    _check(M(), pts)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "rsub", "where", "cat_dim0", "sum_dim0"])
def test_every_binary_handler_broadcasts_coefficients(op):
    """A jet of shape (N, 1) combined with a larger plain tensor (N, 4): coefficients take the value's shape."""
    big = torch.linspace(0.5, 1.5, 4, dtype=DT).expand(6, 4).contiguous()

    class M(nn.Module):
        def forward(self, p):
            a = torch.tanh(p[:, :1]) * p[:, 1:2]  # (N, 1)
            if op == "add":
                h = a + big
            elif op == "sub":
                h = big - a
            elif op == "mul":
                h = a * big
            elif op == "div":
                h = big / (2 + a)
            elif op == "rsub":
                h = torch.rsub(a, big)
            elif op == "where":
                h = torch.where(big > 1.0, a, big)
            elif op == "cat_dim0":
                h = torch.cat([a.expand(6, 4), big], dim=0)[:6] + torch.cat([a, a, a, a], dim=1) * 0
            else:
                h = torch.stack([a.expand(6, 4) * 0 + a, big], dim=0).sum(0)
            u = h.sum(-1, keepdim=True) * p[:, 1:2]
            return torch.cat([u, (h * h).sum(-1, keepdim=True)], dim=1)

    pts = torch.rand(6, 3, dtype=DT, generator=torch.Generator().manual_seed(1))
    _check(M(), pts, order=2)


def test_unsupported_op_raises_naming_it():
    """An op without a handler raises NotImplementedError naming it (dropout used to be the identity)."""

    class M(nn.Module):
        def forward(self, p):
            return F.dropout(torch.tanh(p), 0.5, training=True)[:, :2]

    pts = torch.rand(4, 3, dtype=DT)
    d = Taylor().derivatives(M(), pts, NAMES, FIELDS)
    with pytest.raises(NotImplementedError, match="dropout"):
        d("u", "x")
    with pytest.raises(UnsupportedDerivative, match="dropout"):
        d("u", "x", "x")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("bad", ["dropout", "abs", "erf", "layer_norm"])
def test_random_model_with_an_unsupported_op_raises_naming_it(seed, bad):
    """A random model with one op that has no Taylor rule raises NotImplementedError naming it."""
    ops = {"dropout": lambda h: F.dropout(h, 0.1, training=True), "abs": torch.abs, "erf": torch.erf,
           "layer_norm": lambda h: F.layer_norm(h, h.shape[-1:])}
    inner = RandomNet(seed)

    class WithBad(nn.Module):
        def forward(self, p):
            return inner(ops[bad](p * 0.5))

    pts = torch.rand(4, 3, dtype=DT)
    d = Taylor().derivatives(WithBad(), pts, NAMES, FIELDS)
    if bad != "dropout":  # the value itself is a plain forward pass
        torch.testing.assert_close(d["u"], WithBad()(pts)[:, 0])
    with pytest.raises(NotImplementedError, match=bad):
        d("u", "x")


def test_dispatch_is_on_the_function_object_not_its_name():
    """A user's op that shares torch.sin's __name__ must not be taken for torch.sin."""

    def sin(x):  # not torch.sin: x**3, with the __torch_function__ protocol
        if torch.overrides.has_torch_function((x,)):
            return torch.overrides.handle_torch_function(sin, (x,), x)
        return x ** 3

    class M(nn.Module):
        def forward(self, p):
            return torch.cat([sin(p[:, :1]), p[:, 1:2]], dim=1)

    d = Taylor().derivatives(M(), torch.rand(4, 3, dtype=DT), NAMES, FIELDS)
    with pytest.raises(NotImplementedError, match="'sin'"):
        d("u", "x")


def test_taylor_operator_cache_is_keyed_on_over():
    """One cache for every engine, keyed on (operator, field, over): other ``over`` -> other value."""
    model = RandomNet(0)
    pts = torch.rand(5, 3, dtype=DT, generator=torch.Generator().manual_seed(3))
    ad = Autograd().derivatives(model, pts, NAMES, FIELDS)
    tm = Taylor().derivatives(model, pts, NAMES, FIELDS)
    for over in (("x", "y"), ("y", "t"), ("x",)):
        for f in FIELDS:
            assert _rel(tm.laplacian(f, over=over), ad.laplacian(f, over=over)) < TOL
            assert _rel(tm.biharmonic(f, over=over), ad.biharmonic(f, over=over)) < TOL
    assert tm.is_cached("laplacian", "v", ("y", "t")) and not tm.is_cached("laplacian", "v", ("t", "y"))
    with pytest.raises(ValueError, match="unknown coordinate 'z'"):
        tm.laplacian("u", over=("x", "z"))

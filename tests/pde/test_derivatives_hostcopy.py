"""The derivative engines build their index and direction tables once per device (issue 14, item 5).

A steady-state step (same request set, same device) must not call ``torch.tensor`` /
``torch.as_tensor`` on host data: on a GPU each such call is a host-to-device copy.
"""

import pytest
import torch
from torch import nn

from pde.derivatives import STDE, Taylor

DT = torch.float64
NAMES = ("x", "y", "z", "t")


@pytest.fixture
def count_host_tensors(monkeypatch):
    calls = []
    for name in ("tensor", "as_tensor"):
        orig = getattr(torch, name)

        def wrapped(*a, _orig=orig, _name=name, **k):
            calls.append(_name)
            return _orig(*a, **k)
        monkeypatch.setattr(torch, name, wrapped)
    return calls


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).to(DT)


def _taylor_step(eng, net, x):
    reqs = {("u", ("t",)), ("u", ("x", "y")), ("u", ("x", "x"))}
    d = eng.derivatives(net, x, NAMES, ("u",), requests=reqs)
    return [d("u", "t"), d("u", "x", "y"), d.laplacian("u"), d.biharmonic("u", over=("x", "y"))]


def _stde_step(eng, net, x):
    d = eng.derivatives(net, x, NAMES, ("u",))
    out = [d("u", "t"), d.laplacian("u"), d.laplacian("u", over=("x", "y")), d.laplacian_derivative("u", "x")]
    return out + ([d.sum_fourth("u")] if eng.kind == "sparse" else [])


@pytest.mark.parametrize("engine,step", [
    (lambda: Taylor(), _taylor_step),
    (lambda: STDE(n_directions=2, kind="sparse"), _stde_step),
    (lambda: STDE(n_directions=2, kind="sparse", variance=False, deterministic=True), _stde_step),
    (lambda: STDE(n_directions=2, kind="dense_rademacher"), _stde_step),
])
def test_steady_state_step_makes_no_host_tensor(count_host_tensors, engine, step):
    eng, net = engine(), _net()
    x = torch.rand(6, 4, dtype=DT)
    first = step(eng, net, x)
    n_first = len(count_host_tensors)
    second = step(eng, net, x)
    assert len(count_host_tensors) == n_first, f"host tensors built in a steady-state step: " \
                                               f"{count_host_tensors[n_first:]}"
    assert all(a.shape == b.shape == (6,) for a, b in zip(first, second))
    assert n_first > 0  # the first step builds the tables (so the counter does see them)

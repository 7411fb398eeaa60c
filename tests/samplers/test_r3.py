import math

import pytest
import torch

from pde import Box, Interval, SpaceTime, TimeInterval
from samplers import R3, CausalR3


def test_r3_keeps_exactly_points_above_mean_and_resamples_rest():
    dom = Box([0, 0], [1, 2])
    s = R3(n=100)
    s.setup(dom, generator=torch.Generator().manual_seed(0))
    p = s.points().clone()
    # constructed |r|: 10 large, 90 small -> mean |r| = (10*5 + 90*1)/100 = 1.4
    absr = torch.ones(100)
    hot = torch.arange(0, 100, 10)
    absr[hot] = 5.0
    s.update(1, p, absr ** 2)
    q = s.points()
    assert q.shape == (100, 2)
    assert s.last_retained == 10
    assert torch.equal(q[hot], p[hot])  # retained points keep their slots
    cold = torch.ones(100, dtype=torch.bool)
    cold[hot] = False
    assert dom.inside(q).all()
    # the released points are fresh draws, none equal to an old point
    old = {tuple(r) for r in p.tolist()}
    assert all(tuple(r) not in old for r in q[cold].tolist())
    snap = s.snapshot()
    assert torch.equal(snap["residual"][hot], torch.full((10,), 25.0))
    assert torch.isnan(snap["residual"][cold]).all()


def test_r3_threshold_is_on_abs_residual_not_square():
    s = R3(n=4)
    s.setup(Interval(0, 1), generator=torch.Generator().manual_seed(0))
    p = s.points().clone()
    absr = torch.tensor([0.0, 1.0, 1.0, 3.0])  # mean |r| = 1.25 -> keep only 3; mean r^2 = 2.75 -> also only 3
    assert s.retain_mask(p, absr ** 2).tolist() == [False, False, False, True]
    absr = torch.tensor([0.0, 1.5, 1.5, 2.0])  # mean |r| = 1.25 keeps 3 points; mean r^2 = 2.125 keeps 2 (ties)
    assert s.retain_mask(p, absr ** 2).tolist() == [False, True, True, True]
    s2 = R3(n=4, fitness="squared")
    s2.setup(Interval(0, 1), generator=torch.Generator().manual_seed(0))
    assert s2.retain_mask(p, absr ** 2).tolist() == [False, True, True, True]  # 2.25 > 2.125


def test_r3_uniform_residual_releases_all():
    s = R3(n=20)
    s.setup(Box.cube(3), generator=torch.Generator().manual_seed(0))
    p = s.points().clone()
    s.update(1, p, torch.ones(20))
    assert s.last_retained == 0 and not torch.equal(p, s.points())


@pytest.mark.parametrize("cls", [R3, CausalR3])
def test_update_reads_nothing_on_the_host(cls, no_host_reads):
    s = cls(n=64)
    s.setup(SpaceTime(Interval(0, 1.0), TimeInterval(0, 1.0)), generator=torch.Generator().manual_seed(0))
    p = s.points().clone()
    res = torch.rand(64) ** 4
    with no_host_reads():
        for step in range(3):
            s.update(step, s.points(), res)
    assert 0 < s.last_retained < 64 and s.points().shape == (64, 2)
    assert not torch.equal(p, s.points())
    if cls is CausalR3:
        assert s.beta > -0.5


def _causal(**kw):
    s = CausalR3(n=200, **kw)
    s.setup(SpaceTime(Interval(0, 6.0), TimeInterval(0, 2.0)), generator=torch.Generator().manual_seed(0))
    return s


def test_causal_gate_shape_and_defaults():
    s = _causal()
    assert (s.beta, s.alpha, s.gate_type, s.beta_lr, s.tol, s.grad_clip) == (-0.5, 5.0, "tanh", 1e-3, 20.0, 0.1)
    t = torch.linspace(0, 2, 101)
    g = s.gate(t)
    assert (g[1:] <= g[:-1]).all() and (g >= 0).all() and (g <= 1).all()  # non-increasing in time
    # gate value 1/2 at t̂ = beta: shift beta to 0.5 -> t = 1.0
    s.beta = 0.5
    assert math.isclose(float(s.gate(torch.tensor([1.0]))[0]), 0.5, abs_tol=1e-6)
    assert math.isclose(float(s.gate(torch.tensor([0.0]))[0]), 0.5 * (1 - math.tanh(-2.5)), rel_tol=1e-6)
    assert torch.allclose(s.residual_weights(torch.tensor([[0.0, 1.0]])), torch.tensor([0.25]))
    s.gate_type = "relu_tanh"
    assert float(s.gate(torch.tensor([1.5]))[0]) == 0.0


def test_causal_gate_opens_when_early_residual_small_and_stays_when_large():
    s = _causal()
    p = s.points().clone()
    # tiny residual everywhere -> exp(-tol * ~0) = 1 -> clipped at 0.1 -> beta grows by 1e-4 per update
    s.update(1, p, torch.full((200,), 1e-8))
    assert math.isclose(s.beta, -0.5 + 1e-4, rel_tol=1e-9)
    # large residual at early times -> exp(-20 * big) ~ 0 -> gate does not move
    s2 = _causal()
    p2 = s2.points().clone()
    early = p2[:, 1] < 0.2
    res = torch.where(early, torch.full((200,), 1e6), torch.zeros(200))
    b = s2.beta
    s2.update(1, p2, res)
    assert s2.beta - b < 1e-12
    # a large late residual is masked by the closed gate, so the gate still opens
    s3 = _causal()
    p3 = s3.points().clone()
    s3.update(1, p3, torch.where(p3[:, 1] > 1.8, torch.full((200,), 1e2), torch.zeros(200)))
    assert s3.beta > -0.5 + 0.9e-4


def test_causal_fitness_is_gated():
    s = _causal(beta=0.5)
    # two points with equal residual: the early one (open gate) is retained, the late one (closed) released
    p = torch.tensor([[1.0, 0.1], [1.0, 1.9]] + [[2.0, 1.0]] * 198)
    res = torch.tensor([4.0, 4.0] + [0.01] * 198)  # |r| = 2, 2, 0.1, ...
    mask = s.retain_mask(p, res)
    assert mask[0] and not mask[1]


def test_causal_requires_time_domain():
    with pytest.raises(ValueError, match="time-dependent"):
        CausalR3(n=10).setup(Box.cube(2), generator=torch.Generator())

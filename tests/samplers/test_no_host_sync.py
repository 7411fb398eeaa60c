"""Sampler updates never wait on the host (issue 14, item 5): counted by the hot-loop trap of tests/conftest.py.

Each update runs once outside the trap (lazily cached constants), then again inside it: no host read, no tensor
made from host data (a host-to-device copy on a GPU) and no boolean-mask indexing.
"""

import math

import pytest
import torch
from scipy import stats

from pde import Box, Interval, SpaceTime, TimeInterval
from samplers import AAS, RAD, RARD, Sobol, Uniform
from samplers.rad import sample_without_replacement


def _residual_fn(p):
    return (torch.sin(3 * p).sum(1) + 1.0) ** 2


@pytest.mark.parametrize("make", [
    lambda: AAS(n=64, update_every=1, flow_steps=5, n_layers=2, hidden=8, n_penalty=32),
    lambda: RAD(n=32, update_every=1, n_candidates=256),
    lambda: RARD(n=32, update_every=1, n_candidates=256, n_add=4),
    lambda: Sobol(n=32, update_every=1),
    lambda: Uniform(n=32, update_every=1),
], ids=["aas", "rad", "rard", "sobol", "uniform"])
def test_update_has_no_host_sync_copy_or_mask(make, hot_loop_trap):
    s = make()
    s.setup(SpaceTime(Box([0.0], [2.0]), TimeInterval(0.0, 1.0)), generator=torch.Generator().manual_seed(0))

    def update(step):
        p = s.points()
        s.update(step, p, _residual_fn(p).detach())
        if s.needs_model:
            s.update_with_model(step, _residual_fn)

    update(1)
    before = s.points().clone()
    with hot_loop_trap() as trap:
        trap.armed = True
        update(2)
        update(3)
    assert trap.events == [], trap.report()
    after = s.points()
    assert s.domain.inside(after).all()
    assert before.shape != after.shape or not torch.equal(before, after)  # the update did something


def test_aas_objective_read_lazily():
    s = AAS(n=32, update_every=1, flow_steps=3, n_layers=2, hidden=8, n_penalty=16)
    s.setup(Box([0.0, 0.0], [1.0, 1.0]), generator=torch.Generator().manual_seed(0))
    assert math.isnan(s.last_objective)
    s.update_with_model(1, _residual_fn)
    assert isinstance(s._last_objective, torch.Tensor) and math.isfinite(s.last_objective)


def test_sample_without_replacement_distribution():
    w = torch.tensor([1.0, 2.0, 3.0, 4.0, 0.0], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    first = torch.stack([sample_without_replacement(w, 2, g) for _ in range(4000)])
    assert (first[:, 0] != first[:, 1]).all() and (first != 4).all()  # distinct; weight 0 never beats weight > 0
    # first draw ∝ w; second draw given the first = j: ∝ w with w_j removed
    counts = torch.bincount(first[:, 0], minlength=5)[:4].numpy()
    assert stats.chisquare(counts, 4000 * w[:4].numpy() / 10).pvalue > 1e-3
    p2 = sum(w[j] / 10 * w / (10 - w[j]) * (torch.arange(5) != j) for j in range(4))
    counts2 = torch.bincount(first[:, 1], minlength=5)[:4].numpy()
    assert stats.chisquare(counts2, 4000 * p2[:4].numpy()).pvalue > 1e-3
    # fewer positive weights than asked: all positive ones, then zero-weight ones
    idx = sample_without_replacement(torch.tensor([0.0, 5.0, 0.0, 0.0]), 3, g)
    assert idx[0] == 1 and len(set(idx.tolist())) == 3
    # all zero: uniform
    u = torch.stack([sample_without_replacement(torch.zeros(4), 1, g) for _ in range(2000)])
    assert stats.chisquare(torch.bincount(u[:, 0], minlength=4).numpy()).pvalue > 1e-3


def test_sobol_redraw_continues_the_sequence_and_resumes():
    dom = Interval(0.0, 1.0)
    s = Sobol(n=16, update_every=1)
    s.setup(dom, generator=torch.Generator().manual_seed(0))
    a = s.points().clone()
    state = {k: v.clone() for k, v in s.state_dict().items()}
    s.update(1, a, torch.ones(16))
    b = s.points().clone()
    # the two blocks together are the first 32 points of one scrambled sequence: one point per 1/32 bin
    assert torch.equal(torch.sort((torch.cat([a, b])[:, 0] * 32).floor()).values, torch.arange(32.0))
    r = Sobol(n=16, update_every=1)
    r.setup(dom, generator=torch.Generator().manual_seed(5))
    r.load_state_dict(state)
    r.update(1, a, torch.ones(16))
    assert torch.equal(r.points(), b)

import numpy as np
import pytest
import torch
from scipy import stats

from pde import Interval
from samplers import RAD, RARD, rad_weights


def test_rad_weights_formula():
    r2 = torch.tensor([0.0, 1.0, 4.0, 9.0])
    w = rad_weights(r2, k=1, c=1)
    assert torch.allclose(w, torch.tensor([0, 1, 2, 3]) / 1.5 + 1)
    w2 = rad_weights(r2, k=2, c=0)
    assert torch.allclose(w2, r2 / r2.mean())


def test_rad_defaults():
    assert (RAD().k, RAD().c) == (1.0, 1.0)
    assert (RARD().k, RARD().c) == (2.0, 0.0)
    assert RAD.needs_model and RARD.needs_model


@pytest.mark.parametrize("k,c", [(1.0, 1.0), (2.0, 0.0), (1.0, 0.5)])
def test_rad_density_matches_formula_ks(k, c):
    # constructed residual on [0, 1]: |r| = x, so p(x) ∝ x^k / E[x^k] + c = (k + 1) x^k + c
    s = RAD(n=3000, k=k, c=c, n_candidates=300_000)
    s.setup(Interval(0, 1), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    s.update_with_model(1, lambda p: p[:, 0] ** 2)
    x = s.points()[:, 0].numpy()
    assert x.shape == (3000,)

    def cdf(t):
        t = np.clip(t, 0, 1)
        return (t ** (k + 1) + c * t) / (1 + c)

    assert stats.kstest(x, cdf).pvalue > 1e-3
    # and it is not uniform
    assert stats.kstest(x, "uniform").pvalue < 1e-6
    res = s.snapshot()["residual"]
    assert torch.allclose(res, torch.as_tensor(x) ** 2)


def test_rard_adds_points_from_density():
    s = RARD(n=100, n_add=50, n_candidates=20_000, max_points=200)
    s.setup(Interval(0, 1), generator=torch.Generator().manual_seed(0))
    p0 = s.points().clone()
    hot = lambda p: torch.where(p[:, 0] > 0.9, 1.0, 0.0)  # noqa: E731  density only on (0.9, 1] with k=2, c=0
    s.update_with_model(1, hot)
    p = s.points()
    assert p.shape == (150, 1) and torch.equal(p[:100], p0)
    assert (p[100:, 0] > 0.9).all()
    s.update_with_model(2, hot)
    s.update_with_model(3, hot)
    assert s.points().shape == (200, 1)  # capped

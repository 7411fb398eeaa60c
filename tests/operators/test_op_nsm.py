"""Neural Spectral Methods on periodic Poisson: spectral residual loss only, no solution data."""

import pytest
import torch

from operators.models.nsm import NSM
from operators.nsm import exact_poisson, poisson_residual, poisson_sources, spectral_norm2, train_nsm_poisson


def test_exact_solution_has_zero_spectral_residual():
    s = poisson_sources(4, 8, generator=torch.Generator().manual_seed(1))
    assert spectral_norm2(poisson_residual(exact_poisson(s), s)).max() < 1e-10 * spectral_norm2(s).max()
    assert spectral_norm2(poisson_residual(torch.zeros_like(s), s)).min() > 0


def test_short_residual_training_lowers_error():
    net = NSM(1, 1, n_modes=6, hidden_channels=4, n_layers=1)
    res = train_nsm_poisson(n_modes=6, steps=150, batch=16, lr=3e-2, quiet=True, model=net, n_test=32)
    assert res["test_rel_l2"] < 0.05, res["test_rel_l2"]  # an untrained model sits at ~1.0


@pytest.mark.slow
def test_nsm_poisson_reaches_target_accuracy():
    res = train_nsm_poisson(n_modes=16, steps=5000, batch=32, lr=2e-2, quiet=True)
    assert res["test_rel_l2"] <= 1e-3, res["test_rel_l2"]

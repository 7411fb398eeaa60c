"""Training reproductions of the core issue's numbers (slow: run with ``pytest -m slow``).

Each trains with the problem's default settings (``pde solve NAME``) and asserts the error bound.
"""

import pytest

import problems
from pde import solve


def _solve(name, **kw):
    return solve(problems.REGISTRY[name](), device="cpu", quiet=True, seed=0, **kw)


def test_poisson2d_quick_convergence():
    """Default-suite check: a short run of the default Poisson setup already gets within a few percent."""
    run = _solve("poisson2d", steps=200, lbfgs_steps=150, n_interior=400)
    assert run.status == "finished"
    assert run.metrics["rel_l2"] < 5e-2, run.metrics


@pytest.mark.slow
def test_burgers_default_reaches_5e_3():
    run = _solve("burgers")
    assert run.metrics["rel_l2"] <= 5e-3, run.metrics


@pytest.mark.slow
@pytest.mark.parametrize("name", ["poisson2d", "helmholtz2d"])
def test_elliptic_defaults_reach_1e_3(name):
    run = _solve(name)
    assert run.metrics["rel_l2"] <= 1e-3, run.metrics


@pytest.mark.slow
def test_allen_cahn_causal_reaches_1e_2():
    run = _solve("allen_cahn")
    assert run.metrics["rel_l2"] <= 1e-2, run.metrics

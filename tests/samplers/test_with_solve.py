"""The samplers driven by pde.solve's training loop (short runs: interface, not accuracy)."""

import math

import pytest

from pde import solve
from pde.models import MLP
from problems import Convection, Poisson2D
from samplers import AAS, R3, RAD, CausalR3


@pytest.mark.parametrize("make", [
    lambda: R3(n=64), lambda: CausalR3(n=64), lambda: RAD(n=64, update_every=10, n_candidates=256),
    lambda: AAS(n=64, update_every=10, flow_steps=2, n_penalty=32),
])
def test_sampler_runs_in_solve(make):
    sampler = make()
    problem = Poisson2D() if isinstance(sampler, AAS) else Convection(beta=5.0)
    run = solve(problem, model=MLP(width=16, depth=2), sampler=sampler, steps=20, lbfgs_steps=0, quiet=True,
                n_boundary=32, n_initial=32, log_every=10)
    assert run.status == "finished" and math.isfinite(run.metrics["rel_l2"])
    assert problem.domain.inside(sampler.points()).all()
    if isinstance(sampler, CausalR3):
        assert sampler.beta > -0.5  # the shift moved during training

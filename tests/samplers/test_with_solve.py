"""The samplers driven by pde.solve's training loop (short runs: interface, not accuracy)."""

import math

import pytest

from pde import solve
from pde.models import MLP
from problems import Convection, Poisson2D
from samplers import AAS, R3, RAD, CausalR3, Sobol


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


@pytest.mark.parametrize("make", [lambda: Sobol(n=16, update_every=2),
                                  lambda: RAD(n=16, update_every=2, n_candidates=64),
                                  lambda: AAS(n=16, update_every=2, flow_steps=2, n_layers=2, hidden=8, n_penalty=16)],
                         ids=["sobol", "rad", "aas"])
def test_resume_continues_the_redraws_exactly(tmp_path, make):
    """Sobol's device stream position, RAD's device-side weighted draws and AAS's flow resume bit-exactly."""
    import torch

    from pde.training import resume
    from problems import Heat

    kw = dict(steps=6, lbfgs_steps=0, quiet=True, n_interior=16, n_boundary=8, n_initial=8, log_every=3,
              checkpoint_every=3, device="cpu")
    straight = solve(Heat(d=1), MLP(width=8, depth=2), sampler=make(), seed=1, **{**kw, "steps": 12})
    solve(Heat(d=1), MLP(width=8, depth=2), sampler=make(), seed=1, out=tmp_path / "r.h5", **kw)
    resumed = resume(tmp_path / "r.h5", steps=12, quiet=True)
    assert resumed.status == "finished"
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    for k in a:
        assert torch.equal(a[k], b[k]), k

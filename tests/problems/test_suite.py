"""The generic-problem suite (issue 17, problems/suite.py): plain problems, exact solutions that solve them,
and solver references that agree with the library's own (refinement-checked) ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from problem_helpers import ExactModel, condition_residuals, residual_at

from pde.problem import AbstractProblem
from problems import REGISTRY, AllenCahn, GrayScott, Kovasznay
from problems.suite import SUITE

EXACT = [name for name, cls in SUITE.items() if type(cls()).exact is not AbstractProblem.exact]
SOLVED = {"allen_cahn": AllenCahn, "gray_scott": GrayScott}


def test_suite_lists_the_eight_problems_in_order():
    assert list(SUITE) == ["wave", "klein_gordon", "convection", "reaction", "allen_cahn", "helmholtz",
                           "gray_scott", "kovasznay"]
    assert set(EXACT) == set(SUITE) - set(SOLVED)


@pytest.mark.parametrize("name", list(SUITE))
def test_suite_problem_configures_nothing_itself(name):
    cls = SUITE[name]
    assert cls.default_settings is AbstractProblem.default_settings
    assert cls.default_model is AbstractProblem.default_model
    assert not hasattr(cls, "output_transform")
    assert cls.hard_satisfies == ()
    assert cls.name not in REGISTRY
    assert all(c.n is None for c in cls().conditions())


def _interior(problem, n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    return problem.domain.sample_interior(n, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("name", EXACT)
def test_exact_solution_satisfies_residual_and_conditions(name):
    prob = SUITE[name]()
    r = residual_at(prob, ExactModel(prob), _interior(prob))
    scale = float(prob.exact(_interior(prob)).abs().max())
    assert float(r.abs().max()) < 1e-9 * max(1.0, scale)  # float64: terms of O(100) cancel to ~1e-13
    for cond, err in condition_residuals(prob, ExactModel(prob)).items():
        assert err < 1e-10, (name, cond, err)


@pytest.mark.parametrize("name", EXACT)
def test_a_perturbed_exact_solution_fails_the_residual(name):
    prob = SUITE[name]()
    model = ExactModel(prob)
    model.forward = lambda p: prob.exact(p) * (1.0 + 0.01 * p[:, :1])
    assert float(residual_at(prob, model, _interior(prob)).abs().max()) > 1e-3


def test_kovasznay_matches_the_library_flow():
    pts = _interior(Kovasznay())
    assert torch.allclose(SUITE["kovasznay"]().exact(pts), Kovasznay().exact(pts), atol=1e-14)


class _SmoothFields(torch.nn.Module):
    """A small random float64 network: any smooth fields, to compare two residuals term by term."""

    def __init__(self, d, m):
        super().__init__()
        torch.manual_seed(1)
        self.net = torch.nn.Sequential(torch.nn.Linear(d, 16), torch.nn.Tanh(), torch.nn.Linear(16, m)).double()

    def forward(self, points):
        return self.net(points)


@pytest.mark.parametrize("name", list(SOLVED))
def test_solver_problem_is_the_library_equation_with_its_reference(name):
    prob, lib = SUITE[name](), SOLVED[name]()
    model = _SmoothFields(prob.domain.dim, len(prob.fields))
    pts = _interior(prob)
    np.testing.assert_allclose(residual_at(prob, model, pts).numpy(), residual_at(lib, model, pts).numpy(),
                               rtol=1e-12, atol=1e-12)
    assert condition_residuals(prob, model).keys() == condition_residuals(lib, model).keys()
    for (_, a), (_, b) in zip(condition_residuals(prob, model).items(), condition_residuals(lib, model).items()):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14)
    ref, lib_ref = prob.reference(), lib.reference()  # the library's reference is refinement-checked in its tests
    np.testing.assert_array_equal(ref.points, lib_ref.points)
    np.testing.assert_allclose(ref.values, lib_ref.values, rtol=0, atol=1e-12)
    # the reference starts from the suite's own initial conditions
    t0 = ref.points[:, 1] == 0.0
    start = torch.from_numpy(ref.points[t0])
    for i, cond in enumerate(c for c in prob.conditions() if c.name.startswith("ic")):
        want = cond.value(start) if callable(cond.value) else cond.value
        np.testing.assert_allclose(ref.values[t0, i], want.numpy(), atol=1e-12)

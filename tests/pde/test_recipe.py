"""The generic recipe (pde.recipe) and its hard-condition wrapper (pde.models.HardConditions), rule by rule."""

import math
from dataclasses import dataclass

import pytest
import torch

from pde import solve
from pde.conditions import Dirichlet, Initial, Periodic
from pde.derivatives import Autograd, Taylor
from pde.domain import Box, Interval, SpaceTime, TimeInterval
from pde.problem import AbstractProblem
from pde.recipe import GenericRecipe, applies


class _Wave(AbstractProblem):
    """u_tt = 4 u_xx on [0, 1] x [0, 1], zero ends, a value and a zero rate at t = 0."""

    name, fields = "wave_user", ("u",)

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 1.0))

    def residual(self, d):
        return d("u", "t", "t") - 4 * d("u", "x", "x")

    def conditions(self):
        def u0(p):
            return torch.sin(math.pi * p[:, 0]) + 0.5 * torch.sin(4 * math.pi * p[:, 0])

        return [Dirichlet(0.0), Initial(u0),
                Initial(0.0, order=1)]

    def exact(self, p):
        x, t = p[:, :1], p[:, 1:2]
        return torch.sin(math.pi * x) * torch.cos(2 * math.pi * t) + \
            0.5 * torch.sin(4 * math.pi * x) * torch.cos(8 * math.pi * t)


@dataclass
class _Heat(AbstractProblem):
    """u_t = u_xx with boundary values ``g = exp(-t) (1 + x)``, u0 = 1 + x + 0.3 sin(pi x) + shift."""

    name, fields = "heat_user", ("u",)
    shift: float = 0.0

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 1.0), TimeInterval(0.0, 0.5))

    def residual(self, d):
        return d("u", "t") - d("u", "x", "x")

    def conditions(self):
        return [Dirichlet(lambda p: torch.exp(-p[:, 1]) * (1 + p[:, 0])),
                Initial(lambda p: 1 + p[:, 0] + 0.3 * torch.sin(math.pi * p[:, 0]) + self.shift)]


class _Poisson(AbstractProblem):
    """-lap u = f on [-1, 1]^2 with u = g = x^2 + y on the boundary (g extends inside)."""

    name, fields = "poisson_user", ("u",)

    @property
    def domain(self):
        return Box([-1.0, -1.0], [1.0, 1.0], names=("x", "y"))

    def residual(self, d):
        return d.laplacian("u") + 2.0

    def conditions(self):
        return [Dirichlet(lambda p: p[:, 0] ** 2 + p[:, 1])]


class _Convection(AbstractProblem):
    name, fields = "convection_user", ("u",)

    @property
    def domain(self):
        return SpaceTime(Interval(0.0, 2 * math.pi), TimeInterval(0.0, 1.0))

    def residual(self, d):
        return d("u", "t") + 3 * d("u", "x")

    def conditions(self):
        return [Initial(lambda p: torch.sin(p[:, 0])), Periodic("x", order=1, name="wrap")]

    def exact(self, p):
        return torch.sin(p[:, :1] - 3 * p[:, 1:2])


def _built(problem, dtype=torch.float64):
    plan = GenericRecipe().plan(problem)
    torch.manual_seed(0)
    return plan, plan.model.build(problem.domain, len(problem.fields)).to(dtype)


def _residual(cond, model, problem, n=300):
    p, nrm = cond.sample(problem.domain, n, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    d = Autograd().derivatives(model, p.requires_grad_(True), problem.domain.names, problem.fields, normals=nrm)
    return cond.residual(d)


def test_wave_value_rate_and_zero_ends_hold_exactly_for_random_weights():
    problem = _Wave()
    plan, model = _built(problem)
    assert set(model.satisfies) == {"bc", "ic", "ic_t"}
    for c in problem.conditions():
        assert _residual(c, model, problem).abs().max() < 1e-12, c.name
    assert not any("balancing" in r for r in plan.rules)  # a single loss term is left: nothing to balance
    assert "causal" not in plan.settings  # off by default (see the rule's measurement)
    assert "causal" in GenericRecipe(causal=True).plan(problem).settings


def test_compatible_boundary_and_initial_values_are_lifted_exactly():
    problem = _Heat()
    plan, model = _built(problem)
    assert set(model.satisfies) == {"bc", "ic"}
    for c in problem.conditions():
        assert _residual(c, model, problem).abs().max() < 1e-12, c.name


def test_incompatible_data_keep_the_boundary_condition_as_a_loss_term():
    problem = _Heat(shift=0.1)
    plan, model = _built(problem)
    assert set(model.satisfies) == {"ic"}
    assert any("'bc' as a loss term" in r and "disagree" in r for r in plan.rules)
    assert _residual(problem.conditions()[1], model, problem).abs().max() < 1e-12


def test_steady_dirichlet_values_hold_exactly_and_leave_one_loss_term():
    problem = _Poisson()
    plan, model = _built(problem)
    assert model.satisfies == ("bc",)
    assert _residual(problem.conditions()[0], model, problem).abs().max() < 1e-12
    assert "causal" not in plan.settings and "balancing" not in plan.settings


def test_periodic_condition_becomes_the_embedding_even_under_its_own_name():
    problem = _Convection()
    plan, model = _built(problem)
    assert set(model.satisfies) >= {"wrap", "ic"}
    assert _residual(problem.conditions()[1], model, problem).abs().max() < 1e-12


def test_a_part_of_the_boundary_stays_a_loss_term_and_balancing_joins_in():
    class Half(_Poisson):
        def conditions(self):
            return [Dirichlet(0.0, where=lambda p: p[:, 0] < 0), Dirichlet(1.0, name="right",
                                                                           where=lambda p: p[:, 0] >= 0)]
    plan = GenericRecipe().plan(Half())
    assert any("part of the boundary" in r for r in plan.rules)
    assert plan.settings["balancing"] == "gradient_norm"


@pytest.mark.parametrize("problem", [_Wave(), _Heat(), _Poisson(), _Convection()], ids=lambda p: p.name)
def test_taylor_derivatives_through_the_constraint_equal_autograd(problem):
    _, model = _built(problem)
    names = problem.domain.names
    pts = problem.domain.sample_interior(50, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    reqs = [("u", (c, c)) for c in names] + [("u", (names[0],))]
    a = Autograd().derivatives(model, pts.clone().requires_grad_(True), names, problem.fields)
    t = Taylor().derivatives(model, pts, names, problem.fields)
    for f, cs in reqs:
        assert torch.allclose(a(f, *cs), t(f, *cs), rtol=1e-10, atol=1e-10), cs


def test_auto_applies_only_to_problems_without_their_own_defaults():
    from problems import Burgers

    assert applies(_Wave(), None) and not applies(_Wave(), object())
    assert not applies(Burgers(), None)


def test_solve_stores_the_rules_and_load_rebuilds_the_constrained_model(tmp_path):
    import pde

    out = tmp_path / "heat.h5"
    run = solve(_Heat(), steps=3, lbfgs_steps=0, quiet=True, out=out, dtype="float64")
    assert run.config["recipe"]["name"] == "generic" and run.config["recipe"]["rules"]
    loaded = pde.load(out)
    pts = _Heat().domain.sample_interior(20, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert torch.equal(loaded.model(pts), run.model(pts))
    plain = solve(_Heat(), steps=2, lbfgs_steps=0, quiet=True, recipe=None)
    assert "recipe" not in plain.config and plain.config["model"]["type"] == "MLP"


def test_recipe_refuses_a_model_of_the_users_own():
    from pde.models import MLP

    with pytest.raises(ValueError, match="recipe chooses the model"):
        solve(_Heat(), MLP(), steps=1, quiet=True, recipe="generic")


def test_weak_scaling_drops_the_balancing_rule_instead_of_refusing_the_run():
    class Half(_Poisson):
        def conditions(self):
            return [Dirichlet(0.0, where=lambda p: p[:, 0] < 0)]

    run = solve(Half(), steps=2, lbfgs_steps=0, quiet=True, scaling="weak", n_interior=32)
    rules = run.config["recipe"]["rules"]
    assert "balancing" not in run.config["settings"] or run.config["settings"]["balancing"] is None
    assert any("no loss balancing" in r for r in rules) and not any(" balancing of " in r for r in rules)

"""Unknown parameters (pde.unknowns): declarations, transforms, problem access, every derivative engine."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch
from inverse_helpers import Diffusion

from pde import AbstractProblem, Interval, define
from pde.derivatives.autograd import Autograd
from pde.derivatives.stde import STDE
from pde.derivatives.taylor import Taylor
from pde.training.losses import LossTerms
from pde.unknowns import Unknown, declared_unknowns, restore_params, unknown_parameters


@pytest.mark.parametrize("kw", [{}, {"positive": True}, {"positive": True, "transform": "exp"},
                                {"bounds": (-1.0, 2.0)}])
def test_the_transform_starts_at_init_and_has_a_gradient(kw):
    u = Unknown(init=0.3, **kw)
    raw = torch.tensor(u.raw_init(), dtype=torch.float64, requires_grad=True)
    v = u.value(raw)
    assert v.item() == pytest.approx(0.3, rel=1e-12)
    v.backward()
    assert raw.grad.item() != 0


def test_positive_and_bounded_values_stay_in_range_for_any_raw_value():
    raw = torch.linspace(-50, 50, 101, dtype=torch.float64)
    assert (Unknown(init=1.0, positive=True).value(raw) >= 0).all()
    b = Unknown(init=0.5, bounds=(0.2, 0.9)).value(raw)
    assert (b >= 0.2).all() and (b <= 0.9).all()


@pytest.mark.parametrize("kw, needle", [
    ({"init": 2.0, "bounds": (0.0, 1.0)}, "exclude its initial value 2"),
    ({"init": 0.0, "bounds": (0.0, 1.0)}, "exclude its initial value 0"),
    ({"init": 0.5, "bounds": (1.0, 0.0)}, "lo < hi"),
    ({"init": -1.0, "positive": True}, "needs init > 0"),
    ({"init": float("nan")}, "must be finite"),
    ({"init": 0.5, "positive": True, "bounds": (0.0, 1.0)}, "not both"),
    ({"init": 0.5, "lr": -1.0}, "lr must be > 0"),
    ({"init": 0.5, "transform": "square"}, "transform must be one of"),
])
def test_bad_declarations_are_refused(kw, needle):
    with pytest.raises(ValueError, match=needle):
        Unknown(**kw)


def test_an_unknown_declared_twice_or_named_like_a_field_is_refused():
    @dataclass
    class Twice(Diffusion):
        def unknowns(self):
            return {"kappa": Unknown(init=1.0)}

    with pytest.raises(ValueError, match="'kappa' is declared twice"):
        declared_unknowns(Twice())

    @dataclass
    class Clash(Diffusion):
        def unknowns(self):
            return {"u": Unknown(init=1.0)}

    with pytest.raises(ValueError, match="also field names"):
        declared_unknowns(Clash())


def test_problem_reads_the_unknown_as_a_tensor_and_stores_the_declaration():
    p = Diffusion()
    assert isinstance(p.kappa, torch.Tensor) and p.kappa.requires_grad
    assert p.kappa.item() == pytest.approx(0.5)
    stored = p.params()["kappa"]
    assert stored == {"__unknown__": Unknown(init=0.5, positive=True, true=0.1).describe()}
    assert restore_params(p.params())["kappa"] == Diffusion.kappa  # the declaration comes back
    q = Diffusion()
    assert unknown_parameters(q) is not unknown_parameters(p)  # one set of raw parameters per instance
    assert Diffusion(kappa=0.2).kappa == 0.2  # a known value stays a plain number


def test_define_takes_unknown_params():
    prob = define("d", Interval(0, 1), lambda d, a: d("u", "x", "x") - a, params={"a": Unknown(init=2.0)})
    assert list(declared_unknowns(prob)) == ["a"]
    assert prob.params()["a"]["__unknown__"]["init"] == 2.0


@pytest.mark.parametrize("engine", [Autograd, Taylor, lambda: STDE(n_directions=4, seed=0)])
def test_every_engine_differentiates_the_residual_with_respect_to_the_unknown(engine):
    """d(loss)/d(raw kappa) from each engine agrees with autograd (STDE: exact here, u_xx in one coordinate)."""
    torch.manual_seed(0)
    pts = torch.rand(64, 2, dtype=torch.float64)
    grads = []
    for eng in (Autograd(), engine()):
        prob = Diffusion()
        torch.manual_seed(1)
        net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
        unknown_parameters(prob).double()
        terms = LossTerms(prob, eng, [])
        total = terms(net, pts, [])[0]
        raw = unknown_parameters(prob).raw["kappa"]
        (g,) = torch.autograd.grad(total, raw)
        grads.append(g.item())
    assert grads[0] != 0
    assert grads[1] == pytest.approx(grads[0], rel=1e-9)


def test_stde_laplacian_residual_uses_the_unknown():
    """A 2-D Poisson residual with an unknown coefficient through the STDE Laplacian: finite, with gradient."""
    from pde import Box

    prob = define("p", Box([0, 0], [1, 1]), lambda d, c: c * d.laplacian("u") + 1.0, params={"c": Unknown(init=1.5)})
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    total = LossTerms(prob, STDE(n_directions=2, seed=0), [])(net, torch.rand(32, 2), [])[0]
    (g,) = torch.autograd.grad(total, unknown_parameters(prob).raw["c"])
    assert math.isfinite(g.item()) and g.item() != 0


def test_problem_with_no_unknowns_has_an_empty_module():
    class Plain(AbstractProblem):
        @property
        def domain(self):
            return Interval(0, 1)

        def residual(self, d):
            return d("u", "x")

    assert unknown_parameters(Plain()).names == []

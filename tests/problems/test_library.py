"""Every problem: exact solution vs. the PDE residual and the conditions, hard constraints,
parameter validation, references and the registry."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from problem_helpers import ExactModel, TransformedModel, condition_residuals, residual_at

from problems import REGISTRY, AllenCahn, Burgers, Convection, Heat, Helmholtz2D, Poisson2D, PoissonND, Wave

# problems with exact solutions, with a residual tolerance (float64, absolute) scaled to their size
EXACT = [
    (Convection(), 1e-11),
    (Convection(beta=1.0), 1e-12),
    (Poisson2D(), 1e-11),
    (Poisson2D(k=3), 1e-10),
    (Helmholtz2D(), 1e-10),
    (Heat(), 1e-12),
    (Heat(d=1, kappa=0.5), 1e-12),
    (Heat(d=5), 1e-12),
    (Wave(), 1e-10),
    (Wave(c=1.0, a=-0.2, m=2), 1e-10),
    (PoissonND(), 1e-11),
    (PoissonND(d=3), 1e-11),
]
ids = [f"{p.name}-{i}" for i, (p, _) in enumerate(EXACT)]


@pytest.mark.parametrize(("problem", "tol"), EXACT, ids=ids)
def test_exact_solves_pde(problem, tol):
    g = torch.Generator().manual_seed(1)
    pts = problem.domain.sample_interior(512, generator=g, dtype=torch.float64)
    r = residual_at(problem, ExactModel(problem), pts)
    assert r.shape[0] == 512
    assert float(r.abs().max()) < tol
    # the check can fail: a slightly wrong solution leaves a large residual
    wrong = ExactModel(problem)
    wrong.forward = lambda p: 1.01 * problem.exact(p) + 0.01 * p[:, :1] ** 2
    assert float(residual_at(problem, wrong, pts).abs().max()) > 1e3 * tol


@pytest.mark.parametrize(("problem", "tol"), EXACT, ids=ids)
def test_exact_satisfies_conditions(problem, tol):
    res = condition_residuals(problem, ExactModel(problem))
    assert res, "every problem here has conditions"
    for name, r in res.items():
        assert r < 1e-12, (name, r)


def test_burgers_exact_satisfies_conditions():
    res = condition_residuals(Burgers(), ExactModel(Burgers()))
    assert set(res) == {"ic", "bc"}
    assert max(res.values()) < 1e-13


ALL = [cls() for cls in REGISTRY.values()] + [Heat(d=3), Wave(m=2)]


@pytest.mark.parametrize("problem", [p for p in ALL if p.hard_satisfies], ids=lambda p: p.name)
def test_output_transform_satisfies_its_conditions(problem):
    model = TransformedModel(problem)
    g = torch.Generator().manual_seed(2)
    pts = problem.domain.sample_interior(64, generator=g, dtype=torch.float64)
    assert model(pts).shape == (64, len(problem.fields))
    res = condition_residuals(problem, model)
    assert set(problem.hard_satisfies) <= set(res)
    for name in problem.hard_satisfies:
        assert res[name] < 1e-12, (name, res[name])
    # the raw network alone satisfies none of them
    raw = condition_residuals(problem, TransformedModel(problem).net)
    assert all(raw[name] > 1e-3 for name in problem.hard_satisfies)


def test_registry():
    assert set(REGISTRY) == {"burgers", "allen_cahn", "convection", "poisson2d", "helmholtz2d", "heat", "wave",
                             "poisson_nd", "inseparable_poisson", "inseparable_allen_cahn", "inseparable_sine_gordon",
                             "biharmonic_ball", "poisson_holes", "helmholtz_holes", "kovasznay", "lid_driven_cavity",
                             "gray_scott"}
    for name, cls in REGISTRY.items():
        assert cls.name == name and dataclasses.is_dataclass(cls)
        p = cls()
        names = {c.name for c in p.conditions()}
        assert set(p.hard_satisfies) <= names
        assert hasattr(p, "output_transform") == bool(p.hard_satisfies)
        assert "Reference:" in (cls.__doc__ or "")
        p.describe()


@pytest.mark.parametrize(("cls", "kwargs", "param"), [
    (Burgers, {"nu": -0.1}, "nu"),
    (Burgers, {"nu": float("nan")}, "nu"),
    (Burgers, {"t_end": 0.0}, "t_end"),
    (Burgers, {"quad_nodes": 5}, "quad_nodes"),
    (AllenCahn, {"diffusion": -1e-4}, "diffusion"),
    (AllenCahn, {"reaction": -5.0}, "reaction"),
    (AllenCahn, {"solver_points": 1000}, "solver_points"),
    (AllenCahn, {"solver_substeps": 0}, "solver_substeps"),
    (Convection, {"beta": float("inf")}, "beta"),
    (Poisson2D, {"k": 0}, "k"),
    (Helmholtz2D, {"a2": 1.5}, "a2"),
    (Helmholtz2D, {"k": -1.0}, "k"),
    (Heat, {"d": 0}, "d"),
    (Heat, {"kappa": -0.1}, "kappa"),
    (Wave, {"c": 0.0}, "c"),
    (Wave, {"m": 0}, "m"),
    (PoissonND, {"d": 1}, "d"),
])
def test_invalid_parameters_raise(cls, kwargs, param):
    with pytest.raises(ValueError, match=rf"\b{param}\b") as info:
        cls(**kwargs)
    assert str(next(iter(kwargs.values()))) in str(info.value)


@pytest.mark.parametrize("problem", [Convection(), Poisson2D(), Helmholtz2D(), Heat(), Wave(), PoissonND()],
                         ids=lambda p: p.name)
def test_reference_consistent_with_exact(problem):
    ref = problem.reference()
    assert ref.points.shape[1] == problem.domain.dim and ref.values.shape == (ref.points.shape[0], 1)
    if problem.domain.dim <= 3:
        assert ref.shape == (problem.eval_points,) * problem.domain.dim
    exact = problem.exact(torch.from_numpy(ref.points)).numpy()
    np.testing.assert_allclose(ref.values, exact, rtol=0, atol=1e-14)


def test_exact_keeps_dtype_and_shape():
    for p in [Convection(), Poisson2D(), Helmholtz2D(), Heat(), Wave(), PoissonND(), Burgers()]:
        pts = p.domain.sample_interior(7, generator=torch.Generator().manual_seed(0))
        out = p.exact(pts)
        assert out.shape == (7, 1) and out.dtype == torch.float32


def test_poisson_nd_scales_to_high_dimension():
    # O(N d): d = 100_000 needs no d x d objects; u keeps mean 0 and variance 3/4 + 2/pi for any d
    p = PoissonND(d=100_000)
    x = torch.rand(64, p.d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    u, f = p.exact(x)[:, 0], p.source(x)
    assert u.shape == (64,) and f.shape == (64,)
    assert p.domain.names[-1] == "x100000"
    p = PoissonND(d=2000)
    x = torch.rand(4000, p.d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    u = p.exact(x)[:, 0]
    assert abs(float(u.mean())) < 0.05 and abs(float(u.var()) - (0.75 + 2 / math.pi)) < 0.15


def test_heat_and_wave_initial_values():
    h = Heat(d=3, kappa=0.3)
    x = torch.rand(10, 4, dtype=torch.float64)
    x[:, -1] = 0
    expect = torch.sin(math.pi * x[:, :3]).mean(1)
    torch.testing.assert_close(h.exact(x)[:, 0], expect)


def test_user_defined_problem_example_in_package_docstring():
    import textwrap

    import problems

    doc = problems.__doc__
    block = doc.split("works everywhere a built-in one does::\n", 1)[1]
    code = textwrap.dedent("\n".join(line for line in block.splitlines() if line.startswith("    ") or not line))
    ns = {"REGISTRY": dict(REGISTRY)}
    exec(code, ns)  # noqa: S102 - our own docstring
    cls = ns["REGISTRY"]["reaction_diffusion"]
    p = cls(D=0.2, k=0.5)
    g = torch.Generator().manual_seed(0)
    pts = p.domain.sample_interior(64, generator=g, dtype=torch.float64)
    assert float(residual_at(p, ExactModel(p), pts).abs().max()) < 1e-12
    assert max(condition_residuals(p, ExactModel(p)).values()) < 1e-12
    with pytest.raises(ValueError, match="D"):
        cls(D=-1.0)

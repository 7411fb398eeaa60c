"""The finite-element reference (extra ``fem``: scikit-fem and triangle) and the plate-with-holes problem.

Skipped when the extra is not installed (CI installs only ``.[test]``)."""

import math

import numpy as np
import pytest
import torch

pytest.importorskip("skfem")
pytest.importorskip("triangle")

from pde import solve  # noqa: E402
from problems import PoissonHoles  # noqa: E402
from problems._fem_poisson import solve_poisson_fem  # noqa: E402
from problems._holes import CENTRES  # noqa: E402


def exact(x, y):
    return np.sin(np.pi * x) * np.sin(np.pi * y) + x * y


def source(x, y):
    return 2 * np.pi ** 2 * np.sin(np.pi * x) * np.sin(np.pi * y)


@pytest.mark.parametrize(("order", "min_ratio"), [(1, 3.0), (2, 5.0)])
def test_fem_error_falls_at_its_order_under_refinement(order, min_ratio):
    errors = []
    for h in (0.08, 0.04, 0.02):
        pts, u = solve_poisson_fem(source, exact, CENTRES, 0.1, h, order)
        errors.append(np.sqrt(np.mean((u - exact(pts[:, 0], pts[:, 1])) ** 2)))
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    # P1: 2nd order (ratio 4); P2: between 2nd and 3rd (its straight edges on the circles limit it)
    assert min(ratios) > min_ratio, (errors, ratios)


def test_plate_reference_meets_its_boundary_values_and_trains():
    prob = PoissonHoles(solver_h=0.04)
    ref = prob.reference()
    pts, u = ref.points, ref.values[:, 0]
    on_hole = np.zeros(len(pts), dtype=bool)
    for c in CENTRES:
        on_hole |= np.abs(np.hypot(pts[:, 0] - c[0], pts[:, 1] - c[1]) - 0.1) < 1e-9
    on_outer = (pts.min(1) < 1e-12) | (pts.max(1) > 1 - 1e-12)
    assert on_hole.sum() > 50 and on_outer.sum() > 50
    assert np.allclose(u[on_hole], 1.0) and np.allclose(u[on_outer], 0.0)
    assert (u > -1e-9).all() and (u < 1 + 1e-9).all()  # the maximum principle
    assert prob.domain.inside(torch.as_tensor(pts)).all()
    assert [c.describe()["on"] for c in prob.conditions()] == ["outer", "holes"]
    run = solve(prob, steps=3, lbfgs_steps=0, device="cpu", quiet=True, n_interior=64, n_boundary=32)
    assert math.isfinite(run.metrics["rel_l2"])


def test_helmholtz_fem_converges_and_the_plate_problem_has_its_reference():
    from problems import HelmholtzHoles

    k = 4.0

    def src(x, y):  # -lap u - k^2 u for u = exact
        return (2 * np.pi ** 2 - k ** 2) * np.sin(np.pi * x) * np.sin(np.pi * y) - k ** 2 * x * y

    errors = []
    for h in (0.08, 0.04, 0.02):
        pts, u = solve_poisson_fem(src, exact, CENTRES, 0.1, h, 1, wavenumber=k)
        errors.append(np.sqrt(np.mean((u - exact(pts[:, 0], pts[:, 1])) ** 2)))
    assert errors[0] / errors[1] > 3.0 and errors[1] / errors[2] > 3.0, errors
    prob = HelmholtzHoles(solver_h=0.04)
    ref = prob.reference()
    lap_only = PoissonHoles(solver_h=0.04).reference()
    assert np.abs(ref.values - lap_only.values).max() > 0.05  # the k^2 term changes the solution
    assert "k=4" in ref.source

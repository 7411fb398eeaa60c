"""High-dimensional evaluation points by their recipe (pde/evaluation.py SampledPoints): never all in memory."""

import h5py
import numpy as np
import pytest
import torch

from pde.evaluation import CHUNK_ELEMENTS, SampledPoints, evaluate_in_chunks


def ball(d):
    from pde import Ball

    return Ball([0.0] * d, 1.0)


def test_slices_are_the_same_whenever_drawn_and_cover_every_row_once():
    pts = SampledPoints(ball(5), 2500, seed=7, block=1000)
    whole = pts[0:2500]
    assert whole.shape == (2500, 5) and whole.dtype == torch.float64
    parts = torch.cat([pts[i:i + 333] for i in range(0, 2500, 333)])
    assert torch.equal(parts, whole)
    assert torch.equal(pts[999:1001], whole[999:1001])  # across a block boundary
    assert torch.unique(whole, dim=0).shape[0] == 2500
    assert bool((whole.norm(dim=1) <= 1).all())
    assert not torch.equal(SampledPoints(ball(5), 2500, seed=8, block=1000)[0:10], whole[:10])
    np.testing.assert_array_equal(np.asarray(pts), whole.numpy())
    with pytest.raises(TypeError, match="row slices"):
        pts[3]


def test_high_dimensional_reference_is_a_recipe_with_the_exact_values():
    from problems.highdim import InseparablePoisson

    d = CHUNK_ELEMENTS // InseparablePoisson.eval_random_points + 1  # just above the threshold
    problem = InseparablePoisson(d=d)
    ref = problem.reference()
    assert isinstance(ref.points, SampledPoints) and ref.values.shape == (problem.eval_random_points, 1)
    rows = ref.points[4000:4010]
    np.testing.assert_allclose(ref.values[4000:4010], problem.exact(rows).reshape(10, -1).numpy(), rtol=0, atol=0)
    # low dimension keeps its stored point array
    assert isinstance(InseparablePoisson(d=3).reference().points, np.ndarray) or \
        InseparablePoisson(d=3).reference().axes is not None


def test_run_file_stores_sampled_points_block_by_block(tmp_path):
    from pde import solve
    from problems.highdim import InseparablePoisson

    d = CHUNK_ELEMENTS // InseparablePoisson.eval_random_points + 1
    run = solve(InseparablePoisson(d=d), engine="stde", steps=2, lbfgs_steps=0, n_interior=8, quiet=True,
                out=tmp_path / "hd.h5", device="cpu")
    pts = run.solution["points"]
    assert isinstance(pts, SampledPoints)
    with h5py.File(tmp_path / "hd.h5") as f:
        stored = f["solution/points"]
        assert stored.shape == pts.shape and "sampled" in stored.attrs
        np.testing.assert_array_equal(stored[5000:5004], pts[5000:5004].numpy())
    # the stored prediction is the model at those points
    pred = evaluate_in_chunks(run.model, pts, 512, dtype=torch.float32)
    np.testing.assert_allclose(run.solution["prediction"], pred, rtol=1e-6, atol=1e-7)

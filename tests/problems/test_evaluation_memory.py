"""Evaluation memory: exact solutions and predictions in row blocks (issue 14, item 6).

The peak is measured as the largest tensor any torch op produces (a dispatch mode sees every
op's outputs), a deterministic proxy for the allocator peak: unchunked, the exact solution's
temporaries are ``N x d`` float64 each (8.2 GB at d = 1e4 with N = 1e4).
"""

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from pde.evaluation import CHUNK_ELEMENTS, evaluate_in_chunks, rows_per_chunk
from pde.problem import Reference
from problems.highdim import InseparableAllenCahn, InseparablePoisson, InseparableSineGordon

DIM = 2000


class MaxNumel(TorchDispatchMode):
    """Records the largest number of elements of any tensor an op returns."""

    def __init__(self):
        super().__init__()
        self.max = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor):
                self.max = max(self.max, t.numel())
        return out


def _points(n, dim=DIM, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, dim, generator=g, dtype=torch.float64)
    return 0.9 * torch.rand(n, 1, generator=g, dtype=torch.float64) * z / z.norm(dim=1, keepdim=True)


def _peak(fn, *args):
    with MaxNumel() as m:
        out = fn(*args)
    return m.max, out


@pytest.mark.parametrize("body", [2, 3])
def test_exact_peak_scales_with_block_not_point_count(body):
    p = InseparablePoisson(DIM, body=body, seed=3)
    budget = p.exact_chunk_elements
    peaks = []
    for n in (1500, 3000):  # both above one block (524 rows at d = 2000)
        peak, _ = _peak(p.exact, _points(n))
        peaks.append(peak)
    assert peaks[0] == peaks[1]  # same block, same temporaries: independent of N
    assert peaks[0] <= budget  # (rows, d) temporaries; unchunked this is 3000 x 2000 = 6e6
    assert peaks[0] < 3000 * DIM / 4


@pytest.mark.parametrize("cls", [InseparablePoisson, InseparableAllenCahn, InseparableSineGordon])
@pytest.mark.parametrize("body", [2, 3])
def test_chunked_exact_equals_unchunked(cls, body):
    p = cls(DIM, body=body, seed=1)
    x = _points(1100, seed=2)
    whole = p._exact_block(x)  # one block: the unchunked formula
    assert x.shape[0] > rows_per_chunk(DIM, p.exact_chunk_elements)
    chunked = p.exact(x)
    assert chunked.shape == (1100, 1)
    torch.testing.assert_close(chunked, whole, rtol=1e-12, atol=1e-12)
    q = cls(DIM, body=body, seed=1)
    q.exact_chunk_elements = 7 * DIM + 3  # 7-row blocks, a last partial block
    torch.testing.assert_close(q.exact(x), whole, rtol=1e-12, atol=1e-12)


def test_evaluate_in_chunks_values_and_peak():
    x = _points(900, dim=300).numpy()
    w = torch.randn(300, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def fn(t):
        return torch.tanh(t @ w)

    whole = fn(torch.from_numpy(x)).numpy()
    peak, got = _peak(evaluate_in_chunks, fn, x, 64)
    assert got.dtype == np.float64 and got.shape == (900, 2)
    np.testing.assert_allclose(got, whole, rtol=1e-12, atol=1e-12)
    assert peak <= 64 * 300  # one converted block at a time, never the N x d copy
    one = evaluate_in_chunks(lambda t: t.sum(1), x, 100)  # (n,) becomes (n, 1)
    assert one.shape == (900, 1)
    assert evaluate_in_chunks(lambda t: None, x, 100) is None
    f32 = evaluate_in_chunks(lambda t: t @ w.float(), x, 128, dtype=torch.float32)
    assert f32.dtype == np.float64 and np.abs(f32 - x @ w.numpy()).max() < 1e-4


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_evaluate_in_chunks_rejects_bad_chunk(bad):
    with pytest.raises(ValueError, match="chunk"):
        evaluate_in_chunks(lambda t: t, np.zeros((4, 2)), bad)


def test_rows_per_chunk():
    assert rows_per_chunk(1000) == CHUNK_ELEMENTS // 1000
    assert rows_per_chunk(10 ** 7) == 1
    assert rows_per_chunk(2, max_rows=65536) == 65536
    with pytest.raises(ValueError, match="dim"):
        rows_per_chunk(0)


def test_solve_evaluate_predicts_in_blocks(monkeypatch):
    """``pde.solve.evaluate``: the model sees blocks of 2**22 / d rows, not all points at once."""
    from pde.solve import evaluate

    p = InseparablePoisson(DIM, seed=0)
    x = _points(2500).numpy()
    ref = Reference(x, p.exact(torch.from_numpy(x)).numpy(), None, "exact")
    monkeypatch.setattr(p, "reference", lambda: ref)
    model = torch.nn.Sequential(torch.nn.Linear(DIM, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    seen = []
    model.register_forward_pre_hook(lambda m, a: seen.append(a[0].shape[0]))
    peak, (sol, metrics) = _peak(evaluate, p, model)
    assert max(seen) == rows_per_chunk(DIM) < 2500 and sum(seen) == 2500
    assert peak <= CHUNK_ELEMENTS
    with torch.no_grad():
        np.testing.assert_allclose(sol["prediction"], model(torch.from_numpy(x)).numpy(), rtol=1e-12, atol=1e-12)
    assert np.isfinite(metrics["rel_l2"])


@pytest.mark.parametrize("sampling", ["radius", "volume"])
def test_block_reference_equals_base_reference(sampling):
    """The block-wise reference draws exactly the base class's points (same seed) and values."""
    from pde.problem import AbstractProblem

    p = InseparableAllenCahn(40, seed=2, sampling=sampling)
    p.exact_chunk_elements = 40 * 333  # 333-row blocks: 31 of them, the last partial
    got, want = p.reference(), AbstractProblem.reference(p)
    assert got.points.shape == (p.eval_random_points, 40) and got.values.shape == (p.eval_random_points, 1)
    np.testing.assert_array_equal(got.points, want.points)
    np.testing.assert_allclose(got.values, want.values, rtol=1e-12, atol=1e-12)


def test_reference_peak_is_one_block_not_the_points():
    """N d above 2**22: the points are a recipe (SampledPoints), drawn per block with the values, so the largest
    tensor is one block whatever N (before: the (N, d) point array itself)."""
    from pde.evaluation import SampledPoints

    p = InseparablePoisson(DIM, seed=0)
    peaks = []
    for n in (2500, 5000):  # N d = 5e6 and 1e7, above 2**22
        p.eval_random_points = n
        peak, ref = _peak(p.reference)
        assert isinstance(ref.points, SampledPoints) and ref.points.shape == (n, DIM)
        assert ref.values.shape == (n, 1)
        peaks.append(peak)
    assert peaks[0] == peaks[1] <= CHUNK_ELEMENTS + DIM

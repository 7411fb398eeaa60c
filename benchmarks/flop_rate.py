"""Achieved FLOP rate of a PINN training step against the device's measured dense matmul peak.

Burgers residual (u_t + u u_x - nu u_xx) plus boundary and initial terms, a tanh MLP of
``--depth`` x ``--width`` (default 4 x 256) on ``--points`` collocation points (default 65536),
float32. The FLOPs of one step (residual with its derivatives, loss, backward pass to the
parameters) are counted with PyTorch's FLOP formulas (``torch.utils.flop_counter``) on the eager step
(matrix products only, which dominate; elementwise work is not counted, so the rate is a lower
bound), for each variant's own derivative engine (nested autograd for ``eager``, Taylor mode for
``compiled``). Peak: the best of several ``n x n`` float32 matmuls (``--peak-n``, default 8192; TF32
off unless ``--tf32``).

    python benchmarks/flop_rate.py [--device cuda] [--variants eager,compiled] [--steps 50] [--tf32]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry


class _CountFlops(TorchDispatchMode):
    """Sums the FLOPs of the matrix products (mm, addmm, bmm, ...) dispatched inside the block."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def measured_peak(dev: torch.device, n: int, repeats: int = 10) -> float:
    """Best FLOP/s of an ``n x n`` float32 matmul (``2 n^3`` FLOPs)."""
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    best = float("inf")
    for _ in range(repeats):
        _sync(dev)
        t0 = time.perf_counter()
        a @ b
        _sync(dev)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best


def make_trainer(variant: str, dev, width: int, depth: int, points: int):
    from pde.collocation import RandomSampler
    from pde.models import MLP
    from pde.solve import _make_engine, _make_model, _settings
    from pde.training import Trainer
    from problems import Burgers

    problem = Burgers()
    compiled = variant.startswith("compiled")
    settings, _ = _settings(problem, {"hard": False, "steps": 10 ** 6, "lbfgs_steps": 0, "n_boundary": 1024,
                                      "n_initial": 1024, "compile": "default" if compiled else False,
                                      "history_every": 10 ** 6, "log_every": 10 ** 6, "checkpoint_every": 10 ** 6})
    torch.manual_seed(0)
    model = _make_model(MLP(width=width, depth=depth), problem, False).to(dev)
    engine = _make_engine("taylor" if compiled or variant == "eager-taylor" else "autograd")
    return Trainer(problem, model, RandomSampler(points), engine, settings, device=dev, dtype=torch.float32,
                   seed=0, quiet=True)


def step_flops(tr) -> int:
    pts = tr.sampler.points()
    with _CountFlops() as counter:
        tr.adam.zero_grad(set_to_none=True)
        tr.losses(tr.model, pts, tr.cond_points)[0].backward()
    return counter.total


def time_steps(tr, steps: int, dev) -> float:
    """Seconds per Adam step (loss, backward, optimizer), after warm-up."""
    pts = tr.sampler.points()

    def one():
        tr.adam.zero_grad(set_to_none=True)
        tr._loss(pts)[0].backward()
        tr.adam.step()

    for _ in range(3):
        one()
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        one()
    _sync(dev)
    return (time.perf_counter() - t0) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--points", type=int, default=65536)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--variants", default="eager,compiled", help="eager, eager-taylor, compiled")
    ap.add_argument("--peak-n", type=int, default=8192)
    ap.add_argument("--tf32", action="store_true", help="allow TF32 matmuls (CUDA) for peak and steps")
    args = ap.parse_args()
    dev = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    peak = measured_peak(dev, args.peak_n)
    print(f"{dev}: measured float32{' (TF32)' if args.tf32 else ''} matmul peak {peak / 1e12:.2f} TFLOP/s", flush=True)
    out = {"device": str(dev), "tf32": args.tf32, "peak_flops": peak, "variants": []}
    for v in [s.strip() for s in args.variants.split(",") if s.strip()]:
        tr = make_trainer(v, dev, args.width, args.depth, args.points)
        flops = step_flops(tr)  # the FLOPs this variant's engine performs (counted on its eager form)
        sec = time_steps(tr, args.steps, dev)
        rate = flops / sec
        print(f"{v:<12} {1e3 * sec:8.2f} ms/step  {flops / 1e9:.2f} GFLOP/step  "
              f"{rate / 1e12:.3f} TFLOP/s = {100 * rate / peak:.1f}% of peak", flush=True)
        out["variants"].append({"variant": v, "ms_per_step": 1e3 * sec, "flops_per_step": flops,
                                "flop_rate": rate, "fraction_of_peak": rate / peak})
    print(json.dumps(out))


if __name__ == "__main__":
    main()

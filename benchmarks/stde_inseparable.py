"""Inseparable high-dimensional problems of the STDE paper, trained in the paper's setting; reports the error.

Setting (Shi et al., NeurIPS 2024, Appendix I.1, and its reference code): ``u = (1 - |x|^2) MLP(x)`` on the
unit ball, tanh MLP d-128-128-128-1, Adam at 1e-3 decaying linearly to 0, 10,000 steps, 100 collocation
points per step (redrawn every step, uniform direction and uniform radius), sparse STDE with |J| = 16
coordinates per point for the Laplacian; error: relative L2 on the problem's reference points (radius-uniform,
``eval_random_points`` of them). Problems: ``poisson``, ``allen_cahn``, ``sine_gordon`` (two-body by default).

    OMP_NUM_THREADS=1 python benchmarks/stde_inseparable.py --problem allen_cahn --dim 1000 --steps 10000 \
        [--directions 16] [--body 2] [--device cpu|cuda] [--compile] [--quiet] [--eval-points N]

Prints the progress (unless ``--quiet``) and one JSON line per (dimension, seed): rel. L2, ``wall_s`` (the whole
``solve()``: setup, compilation, training, evaluation) with ``total_steps_per_s`` = steps / ``wall_s``, the training
step rate alone ``train_steps_per_s`` (between the first and last logged steps: no setup, compilation or evaluation;
see :func:`training_rate`), and ``linear_fit_rel_l2`` (None above ``--linear-fit-max-dim``), the relative L2 error
of the best least-squares fit of the exact solution by ``(1 - |x|^2)(a + b . x)`` on 20,000 reference-distributed
points. The seed draws the coefficients ``c_i`` as well
as the network; the relative error depends strongly on them (a draw with ``sum c_i`` near 0 leaves a solution with
little constant part, so its nonlinear remainder is a large share of its norm), so give several ``--seed`` values.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from pde import solve
from pde.collocation import RandomSampler
from pde.derivatives import STDE
from pde.models import MLP
from problems import InseparableAllenCahn, InseparablePoisson, InseparableSineGordon

PROBLEMS = {"poisson": InseparablePoisson, "allen_cahn": InseparableAllenCahn, "sine_gordon": InseparableSineGordon}


def linear_fit_error(prob, n: int = 20_000) -> float:
    """Relative L2 error of the best fit of the exact solution by ``(1 - |x|^2)(a + b . x)`` (least squares)."""
    x = prob.domain.sample_interior(n, generator=torch.Generator().manual_seed(777), dtype=torch.float64)
    u = prob.exact(x)[:, 0]
    w = 1 - (x * x).sum(1)
    basis = torch.cat([w[:, None], w[:, None] * x], 1)
    coef = torch.linalg.lstsq(basis, u[:, None]).solution
    return float(((basis @ coef)[:, 0] - u).norm() / u.norm())


def run(problem: str, dim: int, steps: int, directions: int = 16, body: int = 2, points: int = 100,
        device: str = "cpu", compile_step: bool = False, seed: int = 0, quiet: bool = False,
        linear_fit_max_dim: int = 5000, eval_points: int | None = None) -> dict:
    prob = PROBLEMS[problem](dim, body=body, seed=seed)
    if eval_points is not None:  # fewer reference points (the reference holds them: N x d float64)
        prob.eval_random_points = int(eval_points)
    t0 = time.perf_counter()
    result = solve(prob, model=MLP(width=128, depth=3), sampler=RandomSampler(points, update_every=1),
                   engine=STDE(n_directions=directions, kind="sparse", seed=seed), steps=steps, lbfgs_steps=0,
                   lr=1e-3, lr_schedule="linear", hard=True, device=device, seed=seed, quiet=quiet,
                   log_every=max(1, steps // 10), compile=compile_step)
    wall = time.perf_counter() - t0
    rate = training_rate(result.history, result.wall_time, steps)
    fit = linear_fit_error(prob) if dim <= linear_fit_max_dim else None
    return {"problem": problem, "dim": dim, "body": body, "steps": steps, "directions": directions,
            "points": points, "device": device, "compile": compile_step, "rel_l2": float(result.metrics["rel_l2"]),
            "wall_s": round(wall, 1), "total_steps_per_s": round(steps / wall, 1), **rate,
            "eval_points": prob.eval_random_points, "status": result.status, "seed": seed,
            "coef_sum": round(float(prob.coefficients.sum()), 3),
            "linear_fit_rel_l2": fit}


def training_rate(history: dict, train_wall: float, steps: int) -> dict:
    """Adam step rate, apart from setup, compilation and evaluation.

    ``train_steps_per_s``: steps between the first and the last logged row of ``history`` over the
    wall time between them (the first logged row comes after the first step, so compilation and the
    first-step warm-up are left out). ``train_wall_s``: the trainer's own wall time (all training
    steps, no setup or evaluation). None where the history has fewer than two rows.
    """
    step = list(history.get("step", []))
    wall = list(history.get("wall_time", []))
    rate = None
    if len(step) >= 2 and len(wall) == len(step) and wall[-1] > wall[0]:
        rate = round((float(step[-1]) - float(step[0])) / (float(wall[-1]) - float(wall[0])), 1)
    return {"train_steps_per_s": rate, "train_wall_s": round(float(train_wall), 1),
            "train_steps_per_s_incl_warmup": round(steps / train_wall, 1) if train_wall > 0 else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", choices=sorted(PROBLEMS), default="allen_cahn")
    ap.add_argument("--dim", type=int, nargs="+", default=[100])
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--directions", type=int, default=16)
    ap.add_argument("--body", type=int, default=2, choices=(2, 3))
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--compile", action="store_true", help="compiled training step")
    ap.add_argument("--seed", type=int, nargs="+", default=[0], help="coefficient and network seeds")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--linear-fit-max-dim", type=int, default=5000,
                    help="compute linear_fit_rel_l2 only up to this dimension (a (d + 1)-column least squares)")
    ap.add_argument("--eval-points", type=int, default=None,
                    help="reference points (default: the problem's eval_random_points, 10,000: 80 GB at d = 1e6)")
    args = ap.parse_args(argv)
    if args.eval_points is not None and args.eval_points < 1:
        ap.error(f"--eval-points must be >= 1, got {args.eval_points}")
    out = []
    for d in args.dim:
        for seed in args.seed:
            r = run(args.problem, d, args.steps, args.directions, args.body, args.points, args.device, args.compile,
                    seed, args.quiet, args.linear_fit_max_dim, args.eval_points)
            print(json.dumps(r), flush=True)
            out.append(r)
    return out


if __name__ == "__main__":
    main()

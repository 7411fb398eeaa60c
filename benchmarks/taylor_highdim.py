"""High-dimensional Poisson: STDE vs exact nested-autograd Laplacian vs SDGD (and exact Taylor), on CPU.

Problem: the STDE paper's inseparable Poisson ``-Delta u = g`` on the unit ball (``problems.highdim``),
model ``u = (1 - |x|^2) MLP(x)``, tanh MLP d-128-128-128-1, ``N`` points per step, one Adam step per
iteration (Laplacian, loss, backward, update). Methods:

* ``stde``: sparse STDE, |J| coordinates per point (per-point draws), one jet pass (``pde.derivatives.STDE``)
* ``stde_collapsed``: the same estimator with the second coefficients summed over directions while
  propagating (``STDE(variance=False)``); no per-draw variance, so its variance is measured by redraws
* ``sdgd``: randomised first-order AD over the same number of sampled dimensions: one backward for the
  gradient, then one backward per sampled dimension j for ``u_jj``, ``d/|J| sum_j u_jj`` (Hu et al.)
  (one set of dimensions per step, shared by the points, as in SDGD)
* ``autograd``: exact Laplacian by nested reverse mode (``pde.derivatives.Autograd``: d backward passes)
* ``taylor``: exact Laplacian by collapsed Taylor mode (``pde.derivatives.Taylor``; d directions)

Each method runs in its own subprocess so its peak resident memory (``ru_maxrss`` minus the RSS after
setup) is its own. The variance column is the per-point variance of one Laplacian estimate, from
repeated draws at fixed weights (mean over points), relative to the mean squared exact Laplacian.

    OMP_NUM_THREADS=1 python benchmarks/taylor_highdim.py --dims 1000 10000 --steps 5
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from torch import nn

from pde.derivatives import STDE, Autograd, Taylor
from problems.highdim import InseparablePoisson


class HardBall(nn.Module):
    def __init__(self, d, width=128, depth=3):
        super().__init__()
        layers, n = [], d
        for _ in range(depth):
            layers += [nn.Linear(n, width), nn.Tanh()]
            n = width
        self.net = nn.Sequential(*layers, nn.Linear(n, 1))

    def forward(self, x):
        return (1 - (x * x).sum(dim=1, keepdim=True)) * self.net(x)


def sdgd_laplacian(model, pts, n_dirs, gen):
    x = pts.detach().requires_grad_(True)
    u = model(x)
    (g,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    d = x.shape[1]
    J = torch.randperm(d, generator=gen)[:n_dirs]
    acc = 0.0
    for j in J.tolist():
        (h,) = torch.autograd.grad(g[:, j].sum(), x, create_graph=True)
        acc = acc + h[:, j]
    return d / n_dirs * acc


def laplacian_fn(method, model, pts, names, n_dirs, gen, stde, exact_cols=None):
    if method == "autograd" and exact_cols:
        return Autograd().derivatives(model, pts, names, ("u",)).laplacian("u", names[:exact_cols])
    if method in ("stde", "stde_collapsed"):
        return stde.derivatives(model, pts, names, ("u",)).laplacian("u")
    if method == "sdgd":
        return sdgd_laplacian(model, pts, n_dirs, gen)
    eng = Autograd() if method == "autograd" else Taylor()
    return eng.derivatives(model, pts, names, ("u",)).laplacian("u")


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_one(method, dim, steps, n_points, n_dirs, seed, var_draws, exact_cols=None):
    torch.manual_seed(seed)
    prob = InseparablePoisson(d=dim, seed=seed)
    names = prob.domain.names
    gen = torch.Generator().manual_seed(seed)
    pts = prob.domain.sample_interior(n_points, generator=gen)
    g = prob.source(pts)
    model = HardBall(dim)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    stde = STDE(n_directions=n_dirs, kind="sparse", seed=seed, variance=method != "stde_collapsed")
    base = rss_mib()

    def step():
        opt.zero_grad(set_to_none=True)
        lap = laplacian_fn(method, model, pts, names, n_dirs, gen, stde, exact_cols)
        loss = (-lap - g).pow(2).mean()
        loss.backward()
        opt.step()

    step()  # warm-up
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    var = 0.0
    if method in ("stde", "stde_collapsed", "sdgd") and var_draws > 1:
        ests = torch.stack([laplacian_fn(method, model, pts, names, n_dirs, gen, stde).detach()
                            for _ in range(var_draws)])
        exact = Taylor().derivatives(model, pts[:10], names, ("u",)).laplacian("u").detach() if dim <= 2000 else None
        var = (ests.var(0).mean() / ests.mean(0).pow(2).mean()).item()
        if exact is not None:
            var_bias = (ests.mean(0)[:10] - exact).abs().max().item()
            var = f"{var:.3g} (|mean-exact|max {var_bias:.2g})"
    times.sort()
    scale = dim / exact_cols if (method == "autograd" and exact_cols) else 1.0
    return {"method": method, "dim": dim, "step_s": times[len(times) // 2] * scale, "peak_mib": peak * scale,
            "rel_var": var, "extrapolated_from_cols": exact_cols if scale != 1.0 else None}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--methods", nargs="+", default=["stde", "stde_collapsed", "sdgd", "autograd", "taylor"])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--n-directions", type=int, default=16)
    ap.add_argument("--var-draws", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-exact-dim", type=int, default=2000,
                    help="above this dimension nested autograd runs on --exact-cols coordinates and its time "
                         "and memory are scaled by d / exact_cols (marked 'extrapolated')")
    ap.add_argument("--exact-cols", type=int, default=500)
    ap.add_argument("--one", nargs=2, metavar=("METHOD", "DIM"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        m, d = args.one[0], int(args.one[1])
        steps = args.steps if m in ("stde", "stde_collapsed", "sdgd") else max(1, min(args.steps, 2))
        cols = args.exact_cols if (m == "autograd" and d > args.max_exact_dim) else None
        print(json.dumps(run_one(m, d, steps, args.points, args.n_directions, args.seed, args.var_draws, cols)))
        return
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, points {args.points}, "
          f"|J| = {args.n_directions}, MLP d-128-128-128-1 tanh with (1 - |x|^2) hard constraint, float32")
    rows = []
    for d in args.dims:
        for m in args.methods:
            if m == "taylor" and d > args.max_exact_dim:
                continue  # d directions x N x 128 floats per layer: too much memory on this machine
            cmd = [sys.executable, __file__, "--one", m, str(d), "--steps", str(args.steps), "--points",
                   str(args.points), "--n-directions", str(args.n_directions), "--var-draws", str(args.var_draws),
                   "--seed", str(args.seed), "--max-exact-dim", str(args.max_exact_dim), "--exact-cols",
                   str(args.exact_cols)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"d={d} {m}: failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(f"d={d:6d} {m:9s} step {r['step_s'] * 1e3:10.1f} ms  peak +{r['peak_mib']:8.1f} MiB  "
                  f"rel. variance {r['rel_var']}"
                  + (f"  [extrapolated from {r['extrapolated_from_cols']} coordinates]"
                     if r.get("extrapolated_from_cols") else ""), flush=True)
    for d in args.dims:
        by = {r["method"]: r for r in rows if r["dim"] == d}
        if "stde" not in by:
            continue
        s = by["stde"]
        for m in ("autograd", "sdgd", "taylor", "stde_collapsed"):
            if m in by:
                print(f"d={d}: stde is x{by[m]['step_s'] / s['step_s']:.1f} faster than {m}, memory "
                      f"x{by[m]['peak_mib'] / max(s['peak_mib'], 1e-3):.1f} lower")


if __name__ == "__main__":
    main()

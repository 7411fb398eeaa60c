"""Taylor mode vs nested autograd: training-step time and peak memory on low-dimensional residuals (CPU).

Burgers ``u_t + u u_x - nu u_xx``, Allen-Cahn ``u_t - eps u_xx + 5 u^3 - 5 u`` and (fourth order)
Kuramoto-Sivashinsky ``u_t + u u_x + u_xx + u_xxxx`` on (x, t), tanh MLP,
one Adam step per iteration (derivatives, loss, backward, update). Also checks that both engines
give the same residual (float32 rounding) and the same loss gradient. ``taylor+compile`` is the
Taylor engine with the loss and its backward pass compiled by ``torch.compile`` and fused Adam
(pdekit's ``compile=True`` path; nested autograd cannot be compiled: no double backward).

    OMP_NUM_THREADS=1 python benchmarks/taylor_lowdim.py --points 2048 --width 64 --depth 4 --steps 20
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import torch
from torch import nn

from pde.derivatives import Autograd, RecordingDerivatives, Taylor

RESIDUALS = {
    "burgers": lambda d: d("u", "t") + d["u"] * d("u", "x") - 0.01 / 3.141592653589793 * d("u", "x", "x"),
    "allen_cahn": lambda d: d("u", "t") - 1e-4 * d("u", "x", "x") + 5 * d["u"] ** 3 - 5 * d["u"],
    # fourth order: Kuramoto-Sivashinsky u_t + u u_x + u_xx + u_xxxx
    "kuramoto_sivashinsky": lambda d: (d("u", "t") + d["u"] * d("u", "x") + d("u", "x", "x")
                                       + d("u", "x", "x", "x", "x")),
}


def mlp(width, depth, dtype):
    layers, n = [], 2
    for _ in range(depth):
        layers += [nn.Linear(n, width), nn.Tanh()]
        n = width
    return nn.Sequential(*layers, nn.Linear(n, 1)).to(dtype)


def plan(residual, pts):
    rec = RecordingDerivatives(pts, ("x", "t"), ("u",))
    residual(rec)
    return rec.requests


def step_fn(engine, net, opt, residual, pts, requests, compiled=False, mode="default"):
    def loss_fn():
        d = engine.derivatives(net, pts, ("x", "t"), ("u",), requests=requests)
        return residual(d).pow(2).mean()

    if compiled:
        loss_fn = torch.compile(loss_fn, mode=mode)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss
    return step


def measure(step, steps):
    step()  # warm-up
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()  # python-side allocations only; see note below
    tracemalloc.stop()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps, peak


def peak_rss_of(fn):
    """Peak resident memory increase (MiB) while running ``fn`` once, via torch's CPU allocator profiler."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = prof.key_averages()
    return max(0, sum(e.cpu_memory_usage for e in events if e.cpu_memory_usage > 0)) / 2 ** 20


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=2048)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compile-mode", default="default", choices=["default", "max-autotune-no-cudagraphs"],
                    help="torch.compile mode of the taylor+compile row (max-autotune: GEMM templates, fused epilogues)")
    args = ap.parse_args(argv)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, points {args.points}, "
          f"MLP 2-{args.width}x{args.depth}-1 tanh, float32, compile mode {args.compile_mode}")
    for name, residual in RESIDUALS.items():
        g = torch.Generator().manual_seed(args.seed)
        pts = torch.rand(args.points, 2, generator=g) * torch.tensor([2.0, 1.0]) - torch.tensor([1.0, 0.0])
        reqs = plan(residual, pts)
        # agreement of residual and parameter gradient (same weights)
        torch.manual_seed(args.seed)
        net = mlp(args.width, args.depth, torch.float32)
        outs = []
        for eng in (Autograd(), Taylor()):
            net.zero_grad()
            r = residual(eng.derivatives(net, pts, ("x", "t"), ("u",), requests=reqs))
            r.pow(2).mean().backward()
            outs.append((r.detach(), torch.cat([p.grad.flatten() for p in net.parameters()])))
        rerr = ((outs[0][0] - outs[1][0]).abs().max() / outs[0][0].abs().max()).item()
        gerr = ((outs[0][1] - outs[1][1]).abs().max() / outs[0][1].abs().max()).item()
        res = {}
        for label, eng, compiled in (("autograd", Autograd(), False), ("taylor", Taylor(), False),
                                     ("taylor+compile", Taylor(), True)):
            torch.manual_seed(args.seed)
            net = mlp(args.width, args.depth, torch.float32)
            opt = torch.optim.Adam(net.parameters(), 1e-3, **({"fused": True} if compiled else {}))
            step = step_fn(eng, net, opt, residual, pts, reqs, compiled, args.compile_mode)
            t, _ = measure(step, args.steps)
            mem = peak_rss_of(step)
            res[label] = (t, mem)
            print(f"{name:20s} {label:15s} step {1e3 * t:8.2f} ms   allocated per step {mem:8.1f} MiB")
        ta, ma = res["autograd"]
        for label in ("taylor", "taylor+compile"):
            tt, mt = res[label]
            print(f"{name:20s} speed-up {label}/autograd x{ta / tt:.2f}, memory ratio autograd/{label} "
                  f"x{ma / max(mt, 1e-9):.2f}")
        print(f"{name:20s} residual rel. diff {rerr:.1e}, grad rel. diff {gerr:.1e}")


if __name__ == "__main__":
    main()

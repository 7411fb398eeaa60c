"""Where the error of a trained convection PINN comes from (run files of ``samplers_convection.py --out``).

For ``u_t + beta u_x = 0`` on ``[0, 2 pi] x [0, 1]`` with periodic ``x``, the error ``e = u - u_exact`` obeys
``e_t + beta e_x = r`` (``r`` the residual) and, at the inflow boundary, ``e(0, t) = e(2 pi, t) + m(t)`` with
``m(t) = u(0, t) - u(2 pi, t)`` the periodic mismatch. Following a characteristic back from ``(x, t)``:

    e(x, t) = e(x - beta t, 0) + (integral of r along it) + (sum of m at its crossings of x = 0),

and a characteristic crosses the boundary about ``beta t / (2 pi)`` times (8 at ``beta = 50``, ``t = 1``). The
script evaluates each part in float64 on a dense grid (``--nx`` x ``--nt``): residual by autograd, mismatch,
initial error, and the error at a few times, so a run's error can be split into what the residual, the
periodic condition and the initial condition contribute.

    python benchmarks/convection_error_budget.py runs/convection_beta50_r3_seed0.h5 [...]
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import torch

from pde.store import load


def rms(a: torch.Tensor) -> float:
    return float(a.pow(2).mean().sqrt())


def budget(path: str, nx: int = 512, nt: int = 401) -> dict:
    run = load(path, device="cpu")
    beta = float(run.problem.beta)
    model = run.model.double()
    x = torch.linspace(0.0, 2 * math.pi, nx, dtype=torch.float64)
    t = torch.linspace(0.0, 1.0, nt, dtype=torch.float64)
    X, T = torch.meshgrid(x, t, indexing="ij")
    pts = torch.stack([X.flatten(), T.flatten()], 1).requires_grad_(True)
    u = model(pts)[:, 0]
    (g,) = torch.autograd.grad(u.sum(), pts)
    r = (g[:, 1] + beta * g[:, 0]).detach().reshape(nx, nt)
    u = u.detach().reshape(nx, nt)
    exact = torch.sin(X - beta * T)
    e = u - exact
    m = u[0] - u[-1]  # periodic mismatch per time, (nt,)
    # mismatch summed at the crossing times of the characteristic that ends on x = 0 at t = 1
    # (it meets x = 0 every 2 pi / beta in time)
    crossings = np.arange(1.0, 0.0, -2 * math.pi / beta)
    m_sum = float(np.interp(crossings, t.numpy(), m.numpy()).sum())
    return {
        "run": path, "beta": beta, "rel_l2": float(e.norm() / exact.norm()), "error_rms": rms(e),
        "residual_rms": rms(r), "residual_max": float(r.abs().max()),
        "periodic_mismatch_rms": rms(m), "periodic_mismatch_max": float(m.abs().max()),
        "crossings_at_t1": int(crossings.size),
        "mismatch_sum_along_characteristic_to_x0_t1": m_sum,
        "initial_error_rms": rms(e[:, 0]),
        "error_rms_by_t": {f"{tt:.2f}": rms(e[:, round(tt * (nt - 1))]) for tt in (0.0, 0.25, 0.5, 0.75, 1.0)},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="run files (HDF5) of convection solves")
    ap.add_argument("--nx", type=int, default=512)
    ap.add_argument("--nt", type=int, default=401)
    args = ap.parse_args(argv)
    out = [budget(p, args.nx, args.nt) for p in args.runs]
    for b in out:
        print(json.dumps(b))
    return out


if __name__ == "__main__":
    main()

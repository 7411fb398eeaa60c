"""Neural Spectral Methods on periodic reaction-diffusion ``u_t = nu u_xx + rho u (1 - u)`` (the NSM paper's setting:
``rho = 5``, ``T = 1``, GRF initial conditions rescaled to [0, 1]), trained without solution data on the spectral
residual (Parseval in x, Chebyshev-weighted in t). Reports the test relative L2 error against the Fourier /
Fourier / IF-RK4 reference, training time, inference time per sample, and the time per sample of the cheapest
Fourier / IF-RK4 configuration (grid, dt) that is at least as accurate as the NSM.

    OMP_NUM_THREADS=1 python benchmarks/operators_nsm_rd.py --steps 6000 --quiet
"""

from __future__ import annotations

import argparse
import json

import torch

from operators.nsm_rd import reference_at_accuracy, train_nsm_rd


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nu", type=float, default=0.01)
    p.add_argument("--rho", type=float, default=5.0)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--modes", type=int, nargs=2, default=(12, 16), metavar=("N_T", "N_X"),
                   help="Chebyshev modes of the network output in t (the solution has one more) and Fourier modes in x")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--lr-final", type=float, default=1e-5)
    p.add_argument("--n-test", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    a = p.parse_args(argv)
    res = train_nsm_rd(nu=a.nu, rho=a.rho, n_modes=tuple(a.modes), hidden_channels=a.hidden, n_layers=a.layers,
                       steps=a.steps, batch=a.batch, lr=a.lr, lr_final=a.lr_final, seed=a.seed, device=a.device,
                       n_test=a.n_test, quiet=a.quiet)
    solver = reference_at_accuracy(res["test_u0"].cpu(), res["reference"], res["eval_times"], a.nu, a.rho,
                                   res["test_rel_l2"])
    out = {"nu": a.nu, "rho": a.rho, "steps": a.steps, "modes": list(a.modes), "hidden": a.hidden,
           "layers": a.layers, "threads": torch.get_num_threads(),
           "nsm_test_rel_l2": res["test_rel_l2"], "nsm_test_rel_l2_max": res["test_rel_l2_max"],
           "nsm_final_residual_loss": res["residual_loss"], "nsm_train_seconds": res["seconds"],
           "nsm_inference_seconds_per_sample": res["inference_seconds_per_sample"],
           "solver_grid": solver["grid"], "solver_dt": solver["dt"], "solver_rel_l2": solver["rel_l2"],
           "solver_seconds_per_sample": solver["seconds_per_sample"],
           "speedup": solver["seconds_per_sample"] / res["inference_seconds_per_sample"]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

"""Neural Spectral Methods on periodic Poisson: train without data, then compare inference time with the
5-point finite-difference solver at the same accuracy (smallest grid whose error is <= the NSM error).

    python benchmarks/operators_nsm_poisson.py --steps 5000 --modes 16 --quiet
"""

from __future__ import annotations

import argparse
import json

from operators.nsm import fd_solver_at_accuracy, train_nsm_poisson


def main(argv=None) -> dict:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--modes", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    res = train_nsm_poisson(n_modes=a.modes, steps=a.steps, lr=a.lr, device=a.device, quiet=a.quiet)
    fd = fd_solver_at_accuracy(res["test_sources"][:32].cpu(), res["test_rel_l2"], grids=(32, 64, 128, 256, 512))
    out = {"nsm_test_rel_l2": res["test_rel_l2"], "nsm_train_seconds": res["seconds"],
           "nsm_inference_seconds_per_sample": res["inference_seconds_per_sample"], "fd_grid": fd["grid"],
           "fd_rel_l2": fd["rel_l2"], "fd_seconds_per_sample": fd["seconds_per_sample"],
           "speedup": fd["seconds_per_sample"] / res["inference_seconds_per_sample"]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

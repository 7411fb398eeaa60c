"""Darcy benchmark: FNO vs MgNO on the same data, epochs and device; writes a JSON summary to stdout.

Full setting of the issue (85x85, 1000 train / 100 test, GPU)::

    python benchmarks/operators_darcy.py --resolution 85 --samples 1100 --n-test 100 --epochs 500 --device cuda

Small CPU setting used for the numbers in BENCHMARKS.md when no GPU is available::

    OMP_NUM_THREADS=1 python benchmarks/operators_darcy.py --resolution 29 --stride 3 --samples 250 --n-test 50 \
        --epochs 30 --device cpu

The dataset is generated once (cached at --data) and both models train through ``operators.train``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import operators


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--resolution", type=int, default=29)
    p.add_argument("--stride", type=int, default=3)
    p.add_argument("--samples", type=int, default=250)
    p.add_argument("--n-test", type=int, default=50)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--models", nargs="+", default=["fno", "mgno"])
    p.add_argument("--data", default=None)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    data = a.data or f"darcy_{a.resolution}_{a.samples}.h5"
    t0 = time.perf_counter()
    if not os.path.exists(data):
        operators.generate_dataset("darcy", a.samples, a.resolution, data, seed=0, quiet=a.quiet, stride=a.stride)
    summary = {"dataset": data, "generate_seconds": time.perf_counter() - t0, "resolution": a.resolution,
               "n_train": a.samples - a.n_test, "n_test": a.n_test, "epochs": a.epochs, "device": a.device}
    options = {"fno": {"n_modes": min(12, a.resolution // 2), "hidden_channels": 32, "padding": 0.1},
               "mgno": {"hidden_channels": 24, "n_layers": 5, "levels": [[1, 1]] * 4}}
    for name in a.models:
        res = operators.train(data, model=name, out=f"run_darcy_{name}.h5", epochs=a.epochs, device=a.device,
                              quiet=a.quiet, batch_size=a.batch_size, lr=a.lr, n_test=a.n_test,
                              n_train=a.samples - a.n_test, model_options=options.get(name))
        summary[name] = {k: res.metrics[k] for k in ("parameters", "test_l2", "test_h1", "train_seconds",
                                                     "inference_seconds_per_sample", "solver_seconds_per_sample")}
        summary[name]["epoch_seconds"] = res.metrics["train_seconds"] / a.epochs
        print(json.dumps({name: summary[name]}), flush=True)
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()

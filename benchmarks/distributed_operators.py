"""Operator data parallelism on the CPU: FNO on a Darcy set, 1 vs 2 gloo processes, one thread each.

Generates the dataset (``--samples`` at ``--resolution``, ``--workers`` processes, timed, and the same number of
samples serially when ``--serial-check N`` is given, to time the speed-up of ``pde dataset --workers``), then
trains the same FNO once in one process and once on 2 processes (every batch split over them) and reports
training samples per second (median epoch, first epoch excluded), the speed-up and both final test errors.

Usage: python benchmarks/distributed_operators.py [--samples 400] [--resolution 64] [--epochs 3] [--workers 2]
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp


def _worker(rank, world, folder, data, args):
    torch.set_num_threads(1)
    from operators import train
    from pde.distributed import SingleProcess, TorchDistributed

    comm = (SingleProcess() if world == 1 else
            TorchDistributed(device="cpu", backend="gloo", init_method=f"file://{folder}/rdv", world_size=world,
                             rank=rank))
    run = train(data, model="fno", device="cpu", quiet=True, epochs=args.epochs, batch_size=20, lr=3e-3,
                n_train=args.samples - 80, n_test=80, communicator=comm,
                model_options={"n_modes": 12, "hidden_channels": 32})
    if comm.is_writer:
        result = {"epoch_seconds": list(map(float, run.history["epoch_seconds"])), "test_l2": run.metrics["test_l2"],
                  "n_train": run.config["n_train"]}
        (Path(folder) / "r0.json").write_text(json.dumps(result))
    comm.barrier()
    comm.close()


def _train(world, data, args):
    with tempfile.TemporaryDirectory() as folder:
        mp.spawn(_worker, args=(world, folder, data, args), nprocs=world, join=True)
        return json.loads((Path(folder) / "r0.json").read_text())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=400)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--stride", type=int, default=2, help="fine-grid factor of the Darcy solver (5 in the FNO paper)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--serial-check", type=int, default=0, help="also time N samples serially and with --workers")
    p.add_argument("--data", default=None, help="reuse this dataset file (skip generation)")
    args = p.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"
    from operators import generate_dataset

    out = {"samples": args.samples, "resolution": args.resolution, "stride": args.stride, "epochs": args.epochs}
    with tempfile.TemporaryDirectory() as folder:
        if args.serial_check:
            n = args.serial_check
            t0 = time.perf_counter()
            generate_dataset("darcy", n, args.resolution, f"{folder}/s.h5", quiet=True, stride=args.stride)
            t1 = time.perf_counter()
            generate_dataset("darcy", n, args.resolution, f"{folder}/w.h5", quiet=True, stride=args.stride,
                             workers=args.workers)
            t2 = time.perf_counter()
            out.update({"check_samples": n, "serial_seconds": t1 - t0, "workers_seconds": t2 - t1,
                        "workers_speedup": (t1 - t0) / (t2 - t1)})
        data = args.data
        if data is None:
            data = f"{folder}/darcy.h5"
            t0 = time.perf_counter()
            generate_dataset("darcy", args.samples, args.resolution, data, quiet=True, stride=args.stride,
                             workers=args.workers)
            out["generate_seconds"] = time.perf_counter() - t0
        one, two = _train(1, data, args), _train(2, data, args)
    rate1 = one["n_train"] / statistics.median(one["epoch_seconds"][1:])
    rate2 = two["n_train"] / statistics.median(two["epoch_seconds"][1:])
    out.update({"samples_per_second_1proc": rate1, "samples_per_second_2proc": rate2, "speedup": rate2 / rate1,
                "test_l2_1proc": one["test_l2"], "test_l2_2proc": two["test_l2"],
                "test_l2_rel_difference": abs(one["test_l2"] - two["test_l2"]) / one["test_l2"],
                "load_average_1min": os.getloadavg()[0]})
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

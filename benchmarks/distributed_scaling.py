"""Strong scaling of PINN training over processes: 1 vs 2 gloo processes on the CPU, one thread each.

Trains the Burgers problem (hard constraint, no condition terms) with a ``depth x width`` tanh MLP on
``points`` collocation points for ``steps`` Adam steps, once in one process and once on 2 processes in strong
scaling (each process a shard of the same points, gradients and losses averaged in one all-reduce per step).
Reports the median step time (first step excluded), the speed-up, the all-reduce time inside a step (which
includes waiting for the slower rank) and of an all-reduce of the same buffer alone, as fractions of the
2-process step, and the largest relative difference between the two loss curves.

Usage: python benchmarks/distributed_scaling.py [--points 65536] [--width 256] [--depth 4] [--steps 6]
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


class _StepTimer:
    """Wall time of each Adam step (forward, backward, all-reduce, update)."""

    def __init__(self):
        from pde.training import AbstractCallback

        timer = self

        class Part(AbstractCallback):
            def on_step_start(self, trainer, step):
                timer.t0 = time.perf_counter()

            def on_step_end(self, trainer, step):
                timer.times.append(time.perf_counter() - timer.t0)

        self.times, self.t0, self.part = [], 0.0, Part()


def _worker(rank, world, folder, args):
    torch.set_num_threads(1)
    from pde.distributed import SingleProcess, TorchDistributed
    from pde.models import MLP
    from pde.solve import _make_model
    from pde.training import Settings, Trainer
    from pde.training.data_parallel import DataParallel
    from problems import Burgers

    if world == 1:
        comm = SingleProcess()
    else:
        comm = TorchDistributed(device="cpu", backend="gloo", init_method=f"file://{folder}/rdv", world_size=world,
                                rank=rank)
    reduce_times = []
    inner = comm.all_reduce_sum

    def timed(t):
        t0 = time.perf_counter()
        out = inner(t)
        reduce_times.append(time.perf_counter() - t0)
        return out

    comm.all_reduce_sum = timed
    problem = Burgers()
    torch.manual_seed(0)
    net = _make_model(MLP(width=args.width, depth=args.depth), problem, True)
    from pde import RandomSampler
    from pde.derivatives import Autograd

    settings = Settings(steps=args.steps, lbfgs_steps=0, lr=1e-3, log_every=args.steps, checkpoint_every=10**9,
                        history_every=1)
    timer = _StepTimer()
    trainer = Trainer(problem, net, RandomSampler(n=args.points), Autograd(), settings, device="cpu",
                      dtype=torch.float32, seed=0, quiet=True, callbacks=[timer.part], communicator=comm)
    trainer.run()
    step_reduces = reduce_times[:]  # one per step
    n_params = sum(p.numel() for p in trainer.params)
    buf = torch.zeros(n_params + 2)
    iso = []
    for _ in range(20):
        comm.barrier()
        t0 = time.perf_counter()
        inner(buf)
        iso.append(time.perf_counter() - t0)
    result = {"rank": rank, "step_seconds": timer.times, "reduce_seconds": step_reduces, "isolated_reduce": iso,
              "loss": list(map(float, trainer.history["loss"])), "n_params": n_params,
              "parallel": DataParallel(comm, "strong").describe(0)}
    (Path(folder) / f"r{rank}.json").write_text(json.dumps(result))
    comm.barrier()
    comm.close()


def run(world: int, args) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["OMP_NUM_THREADS"] = "1"
        mp.spawn(_worker, args=(world, folder, args), nprocs=world, join=True)
        return json.loads((Path(folder) / "r0.json").read_text())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=65536)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--steps", type=int, default=6)
    args = p.parse_args(argv)
    one, two = run(1, args), run(2, args)
    t1 = statistics.median(one["step_seconds"][1:])
    t2 = statistics.median(two["step_seconds"][1:])
    red = statistics.median(two["reduce_seconds"][1:])
    iso = statistics.median(two["isolated_reduce"])
    loss_diff = max(abs(a - b) / abs(a) for a, b in zip(one["loss"], two["loss"]))
    out = {"points": args.points, "net": f"{args.depth}x{args.width} tanh", "parameters": one["n_params"],
           "steps": args.steps, "step_seconds_1proc": t1, "step_seconds_2proc": t2, "speedup": t1 / t2,
           "allreduce_seconds_in_step": red, "allreduce_fraction_in_step": red / t2,
           "allreduce_seconds_isolated": iso, "allreduce_fraction_isolated": iso / t2,
           "allreduce_bytes": 4 * (one["n_params"] + 2), "max_rel_loss_difference": loss_diff,
           "load_average_1min": os.getloadavg()[0]}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()

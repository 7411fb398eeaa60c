"""Run a function on several gloo processes from a test: ``results = run_on_ranks(fn, tmp_path, 2, *args)``.

Processes are started with ``torch.multiprocessing`` (spawn) and meet through a file rendezvous in
``tmp_path`` (no ports, so parallel test runs cannot clash). Each process uses one thread and float64 by
default, builds a :class:`pde.distributed.TorchDistributed` communicator and calls ``fn(comm, *args)``;
what ``fn`` returns (tensors, numbers, lists or dicts of them) comes back per rank, loaded with
``weights_only=True``. An exception in any rank fails the call with that rank's traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.multiprocessing as mp


def _worker(rank: int, world_size: int, folder: str, fn, args):
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    from pde.distributed import TorchDistributed

    comm = TorchDistributed(device="cpu", backend="gloo", init_method=f"file://{folder}/rdv",
                            world_size=world_size, rank=rank)
    try:
        result = fn(comm, *args)
        torch.save(result, Path(folder) / f"result{rank}.pt")
        comm.barrier()
    finally:
        comm.close()


def run_on_ranks(fn, tmp_path, world_size: int = 2, *args):
    """``[fn(comm_0, *args), ..., fn(comm_{W-1}, *args)]`` from ``world_size`` spawned gloo processes."""
    folder = Path(tmp_path) / "ranks"
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    mp.spawn(_worker, args=(world_size, str(folder), fn, args), nprocs=world_size, join=True)
    return [torch.load(folder / f"result{r}.pt", weights_only=True) for r in range(world_size)]

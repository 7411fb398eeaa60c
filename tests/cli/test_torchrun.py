"""``torchrun --standalone --nproc-per-node 2 -m pde solve|train ...`` end to end, and a two-node run simulated
on one machine (two torchrun invocations, ``--nnodes 2``, rendezvous on 127.0.0.1). Each takes 10-20 s
(processes that import torch), so they are marked slow; the spawned 2-process tests in tests/pde and
tests/operators cover the same code in the default suite."""

import json
import os
import socket
import subprocess
import sys

import h5py
import pytest

SOLVE = ["-m", "pde", "solve", "poisson2d", "--steps", "10", "--lbfgs-steps", "4", "--set", "n_interior=64",
         "--set", "log_every=5", "--dtype", "float64", "--quiet"]


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _parallel(path):
    with h5py.File(path, "r") as f:
        return json.loads(f["config"].attrs["json"])["parallel"]


def _torchrun(*args, timeout=240):
    cmd = [sys.executable, "-m", "torch.distributed.run", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env())


@pytest.mark.slow
def test_torchrun_solve_two_processes(tmp_path):
    out = tmp_path / "p.h5"
    proc = _torchrun("--standalone", "--nproc-per-node", "2", *SOLVE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("poisson2d: relative L2 error") == 1  # only rank 0 reports
    assert _parallel(out) == {"world_size": 2, "backend": "gloo", "scaling": "strong", "rank_seeds": [0, 0]}


@pytest.mark.slow
def test_torchrun_train_two_processes(tmp_path):
    from operators import generate_dataset

    data = generate_dataset("darcy", 10, 9, tmp_path / "d.h5", seed=0, quiet=True, stride=2)
    out = tmp_path / "op.h5"
    proc = _torchrun("--standalone", "--nproc-per-node", "2", "-m", "pde", "train", str(data), "--epochs", "2",
                     "--set", "batch_size=4", "--set", "n_train=8", "--set", "n_test=2", "--set", "model.n_modes=3",
                     "--set", "model.hidden_channels=4", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1 and json.loads(lines[0])["run"] == str(out)
    assert _parallel(out) == {"world_size": 2, "backend": "gloo"}


@pytest.mark.slow
def test_two_nodes_simulated_on_one_machine(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "p.h5"
    common = ["--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d",
              f"--rdzv-endpoint=127.0.0.1:{port}", "--rdzv-id", "pdekit-test"]
    cmd = [sys.executable, "-m", "torch.distributed.run", *common]
    nodes = [subprocess.Popen([*cmd, "--node-rank", str(r), *SOLVE, "--out", str(out)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env()) for r in range(2)]
    results = [p.communicate(timeout=240) for p in nodes]
    assert all(p.returncode == 0 for p in nodes), [r[1][-1500:] for r in results]
    assert _parallel(out)["world_size"] == 2

"""Operator data parallelism: a 2-process gloo training equals the one-process training on a tiny Darcy set."""

import json

import h5py
import pytest
import torch
from distributed_helpers import run_on_ranks

from operators import generate_dataset, train

OPTIONS = dict(epochs=3, batch_size=4, n_train=8, n_test=3, lr=3e-3, seed=1, loss="h1", physics_weight=1e-2,
               model_options={"n_modes": 3, "hidden_channels": 4})


def _train_on_rank(comm, data, folder):
    torch.set_default_dtype(torch.float32)  # the dataset is float32
    out = f"{folder}/run{comm.rank}.h5"
    run = train(data, model="fno", out=out, device="cpu", quiet=True, communicator=comm, **OPTIONS)
    try:
        train(data, model="fno", device="cpu", quiet=True, communicator=comm, **{**OPTIONS, "batch_size": 3})
        error = ""
    except ValueError as e:
        error = str(e)
    return {"train_loss": torch.as_tensor(run.history["train_loss"]),
            "test_l2": torch.as_tensor(run.history["test_l2"]),
            "final_test_l2": run.metrics["test_l2"], "final_test_h1": run.metrics["test_h1"],
            "weights": torch.cat([p.detach().reshape(-1) for p in run.model.parameters()]), "error": error}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("opdist")
    data = generate_dataset("darcy", 11, 9, folder / "d.h5", seed=0, quiet=True, stride=2)
    ranks = run_on_ranks(_train_on_rank, folder, 2, str(data), str(folder))
    single = train(data, model="fno", out=folder / "single.h5", device="cpu", quiet=True, **OPTIONS)
    return folder, ranks, single


def test_two_process_training_equals_one_process(runs):
    _, ranks, single = runs
    w1 = torch.cat([p.detach().reshape(-1) for p in single.model.parameters()])
    assert torch.equal(ranks[0]["weights"], ranks[1]["weights"])  # both ranks hold the same model
    for key in ("train_loss", "test_l2"):
        torch.testing.assert_close(ranks[0][key], torch.as_tensor(single.history[key]), rtol=2e-5, atol=0)
    torch.testing.assert_close(ranks[0]["weights"], w1, rtol=1e-4, atol=1e-6)
    for key in ("test_l2", "test_h1"):  # all-reduced sums over 3 test samples split 2 + 1: none counted twice
        assert ranks[0][f"final_{key}"] == ranks[1][f"final_{key}"]
        assert ranks[0][f"final_{key}"] == pytest.approx(single.metrics[key], rel=2e-5)
    assert single.history["train_loss"][-1] < single.history["train_loss"][0]  # it trained


def test_only_rank_zero_writes_and_the_file_records_the_world(runs):
    folder, ranks, _ = runs
    assert (folder / "run0.h5").exists() and not (folder / "run1.h5").exists()
    with h5py.File(folder / "run0.h5", "r") as f:
        config = json.loads(f["config"].attrs["json"])
    assert config["parallel"] == {"world_size": 2, "backend": "gloo"}


def test_world_size_must_divide_the_batch(runs):
    _, ranks, _ = runs
    assert all(r["error"] == "world size 2 does not divide batch_size=3; use a multiple of 2" for r in ranks)

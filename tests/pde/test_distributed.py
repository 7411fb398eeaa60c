"""The communicator: identity at world size 1, and on 2 gloo processes (spawned, file rendezvous, float64,
one thread each) gradients, metric sums, shards and the writer rank equal what one process computes."""

import pytest
import torch
from distributed_helpers import run_on_ranks

from pde.distributed import SingleProcess, TorchDistributed, from_environment, rank_seed

N_EVEN, N_ODD = 64, 37


def _net_and_points():
    g = torch.Generator().manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    x = torch.rand(max(N_EVEN, N_ODD), 2, generator=g, dtype=torch.float64)
    return net, x


def _loss(net, x):
    """A PINN-like loss: squared residual of u_xx + u_yy = sin(x) (needs second derivatives), mean over points."""
    x = x.clone().requires_grad_(True)
    u = net(x)
    (gu,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    lap = sum(torch.autograd.grad(gu[:, i].sum(), x, create_graph=True)[0][:, i] for i in range(2))
    return (lap - torch.sin(x[:, 0])).pow(2).mean()


def _grads(net):
    """Flat gradient; a parameter the loss does not depend on (the last bias, under a Laplacian) counts as 0."""
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in net.parameters()])


def _on_rank(comm):
    out = {"rank": comm.rank, "world_size": comm.world_size, "is_writer": comm.is_writer}
    net, x = _net_and_points()
    # equal shards, plain mean
    sl = comm.shard(N_EVEN)
    out["even_shard"] = torch.tensor([sl.start, sl.stop])
    net.zero_grad()
    _loss(net, x[:N_EVEN][sl]).backward()
    comm.average_gradients(net.parameters())
    out["grad_even"] = _grads(net)
    # unequal shards, weighted by point counts
    sl = comm.shard(N_ODD, even=False)
    out["odd_shard"] = torch.tensor([sl.start, sl.stop])
    net.zero_grad()
    _loss(net, x[:N_ODD][sl]).backward()
    comm.average_gradients(net.parameters(), weight=torch.tensor(float(sl.stop - sl.start)))
    out["grad_odd"] = _grads(net)
    # metric sums: squared error sum, reference norm sum, count, all in one all-reduce
    with torch.no_grad():
        pred, ref = net(x[:N_ODD][sl])[:, 0], torch.sin(x[:N_ODD][sl, 0])
        sums = torch.stack([(pred - ref).pow(2).sum(), ref.pow(2).sum(), torch.tensor(float(len(ref)))])
    out["metric_sums"] = comm.all_reduce_sum(sums)
    # broadcast from rank 0
    t = torch.full((3,), float(comm.rank + 1))
    comm.broadcast_([t])
    out["broadcast"] = t
    out["seed"] = comm.rank_seed(7)
    joined = TorchDistributed()  # a group exists (the one comm made): join it, never destroy it
    out["joined"] = torch.tensor([joined.world_size, joined.rank, int(joined._owns_group)])
    joined.close()
    out["group_alive"] = torch.distributed.is_initialized()
    try:
        comm.shard(N_ODD)
        out["uneven_error"] = ""
    except ValueError as e:
        out["uneven_error"] = str(e)
    return out


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_on_ranks(_on_rank, tmp_path_factory.mktemp("dist"), 2)


def _single_grad(n):
    net, x = _net_and_points()
    _loss(net, x[:n]).backward()
    return _grads(net)


def test_averaged_gradients_equal_the_single_process_gradient(ranks):
    for key, n in (("grad_even", N_EVEN), ("grad_odd", N_ODD)):
        ref = _single_grad(n)
        for r in ranks:
            torch.testing.assert_close(r[key], ref, rtol=1e-12, atol=1e-13)
        assert torch.equal(ranks[0][key], ranks[1][key])  # bitwise the same on both ranks


def test_shards_cover_the_set_without_overlap(ranks):
    for key, n in (("even_shard", N_EVEN), ("odd_shard", N_ODD)):
        idx = torch.cat([torch.arange(int(r[key][0]), int(r[key][1])) for r in ranks])
        assert torch.equal(idx.sort().values, torch.arange(n)), key
    assert [int(r["even_shard"][1] - r["even_shard"][0]) for r in ranks] == [N_EVEN // 2] * 2
    assert all("world size 2 does not divide 37" in r["uneven_error"] for r in ranks)


def test_all_reduced_metric_sums_equal_single_process_ones(ranks):
    net, x = _net_and_points()
    with torch.no_grad():
        pred, ref = net(x[:N_ODD])[:, 0], torch.sin(x[:N_ODD, 0])
    expect = torch.stack([(pred - ref).pow(2).sum(), ref.pow(2).sum(), torch.tensor(float(N_ODD))])
    for r in ranks:
        torch.testing.assert_close(r["metric_sums"], expect, rtol=1e-13, atol=0)


def test_only_rank_zero_writes_and_ranks_differ_in_seed(ranks):
    assert [r["is_writer"] for r in ranks] == [True, False]
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world_size"] == 2 for r in ranks)
    assert all(torch.equal(r["broadcast"], torch.ones(3)) for r in ranks)
    seeds = [r["seed"] for r in ranks]
    assert seeds[0] != seeds[1] and seeds == [rank_seed(7, 0, 2), rank_seed(7, 1, 2)]


def test_an_existing_group_is_joined_not_replaced(ranks):
    for r in ranks:
        assert r["joined"].tolist() == [2, r["rank"], 0] and r["group_alive"]


def test_single_process_is_the_identity():
    comm = SingleProcess()
    net, x = _net_and_points()
    _loss(net, x).backward()
    before = _grads(net).clone()
    comm.average_gradients(net.parameters(), weight=5.0)
    assert torch.equal(_grads(net), before)
    t = torch.arange(3.0)
    assert comm.all_reduce_sum(t) is t and torch.equal(t, torch.arange(3.0))
    assert comm.shard(10) == slice(0, 10) and comm.rank_seed(7) == 7 and comm.is_writer
    assert comm.describe() == {"world_size": 1, "rank": 0, "backend": "none"}


def test_from_environment_without_a_group_is_single_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert isinstance(from_environment(), SingleProcess)


@pytest.mark.parametrize("backend, device, message", [
    ("nccl", "cpu", "backend 'nccl' does not support device 'cpu'"),
    ("tcp", "cpu", "unknown backend 'tcp'"),
])
def test_bad_backend_is_one_line_value_error(backend, device, message):
    with pytest.raises(ValueError, match=message) as err:
        TorchDistributed(device=device, backend=backend, init_method="file:///nonexistent/never", world_size=1,
                         rank=0)
    assert "\n" not in str(err.value)


def test_shard_rejects_a_world_size_that_does_not_divide():
    comm = SingleProcess()
    comm.world_size, comm.rank = 3, 1  # a stand-in for rank 1 of 3; shard needs no process group
    with pytest.raises(ValueError, match="world size 3 does not divide 10"):
        comm.shard(10)
    assert comm.shard(10, even=False) == slice(4, 7)

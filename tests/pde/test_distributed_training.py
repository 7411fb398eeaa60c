"""PINN data parallelism on 2 gloo processes (float64, one thread each): strong scaling reproduces the
single-process run through Adam and L-BFGS, both ranks hold the same weights, only rank 0 writes, weak
scaling draws different points per rank, and a world size that does not divide a point count is refused."""

import json
import math

import h5py
import pytest
import torch
from distributed_helpers import run_on_ranks

from pde import Dirichlet, Initial, Interval, SpaceTime, TimeInterval, define
from pde.models import MLP
from pde.solve import solve

K = 6  # Adam steps, then L-BFGS iterations
CAUSAL = {"eps": 1.0, "bins": 4, "eps_schedule": (1.0, 10.0), "delta": 0.5}


def heat():
    """u_t = 0.1 u_xx on [0,1]x[0,1], u = exp(-0.1 pi^2 t) sin(pi x)."""
    return define(
        "heat1d", SpaceTime(Interval(0, 1), TimeInterval(0, 1)),
        lambda d, k: d("u", "t") - k * d("u", "x", "x"),
        conditions=[Initial(lambda p: torch.sin(math.pi * p[:, 0])), Dirichlet(0.0)],
        exact=lambda p, k: torch.exp(-k * math.pi**2 * p[:, 1]) * torch.sin(math.pi * p[:, 0]), params={"k": 0.1})


BALANCING = {"name": "gradient_norm", "update_every": 2, "alpha": 0.5}


def settings(**kw):
    base = dict(steps=K, lbfgs_steps=K, device="cpu", dtype="float64", quiet=True, log_every=3, n_interior=64,
                n_boundary=16, n_initial=16, seed=4, lr=1e-2)
    return {**base, **kw}


class CountingMLP(MLP):
    """An MLP that remembers the batch sizes it was called on (to see that each rank trains on its shard)."""

    def forward(self, x):
        if not hasattr(self, "seen"):
            self.seen = set()
        self.seen.add(x.shape[0])
        return super().forward(x)


def _flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _on_rank(comm, folder):
    torch.set_default_dtype(torch.float32)  # as in the test process: the model is initialised, then cast
    out = {}
    net = CountingMLP(width=8, depth=2)
    strong = solve(heat(), net, out=f"{folder}/strong{comm.rank}.h5", communicator=comm, **settings())
    out["strong"], out["strong_loss"] = _flat(strong.model), torch.as_tensor(strong.history["loss"])
    out["batches"] = sorted(net.seen)
    weak = solve(heat(), MLP(width=8, depth=2), out=f"{folder}/weak{comm.rank}.h5", communicator=comm,
                 scaling="weak", **settings(lbfgs_steps=0))
    out["weak"] = _flat(weak.model)
    from samplers import R3

    r3 = solve(heat(), MLP(width=8, depth=2), sampler=R3(n=64, update_every=2), communicator=comm,
               **settings(lbfgs_steps=0))
    out["r3"] = _flat(r3.model)
    causal = solve(heat(), MLP(width=8, depth=2), communicator=comm, **settings(causal=CAUSAL))
    out["causal"] = _flat(causal.model)
    balanced = solve(heat(), MLP(width=8, depth=2), communicator=comm, **settings(balancing=BALANCING))
    out["balanced"] = _flat(balanced.model)
    out["hot_loop"] = _hot_loop_events(comm)
    from pde.training import resume
    from problems import Heat  # a registered problem: resume rebuilds it from the file

    adam = settings(lbfgs_steps=0, steps=K, log_every=2, checkpoint_every=2, hard=False)
    straight = solve(Heat(d=1), MLP(width=8, depth=2), communicator=comm, **adam)
    solve(Heat(d=1), MLP(width=8, depth=2), out=f"{folder}/half.h5", communicator=comm, **{**adam, "steps": K // 2})
    resumed = resume(f"{folder}/half.h5", steps=K, quiet=True, communicator=comm)
    out["straight"], out["resumed"] = _flat(straight.model), _flat(resumed.model)
    budget = solve(heat(), MLP(width=8, depth=2), communicator=comm,
                   **settings(steps=10 ** 6, lbfgs_steps=10 ** 5, log_every=20, time_budget=1.0))
    out["budget_step"], out["budget_message"] = budget.step, budget.message
    out["budget_weights"] = _flat(budget.model)
    try:
        solve(heat(), MLP(width=8, depth=2), communicator=comm, **settings(n_interior=63))
        out["error"] = ""
    except ValueError as e:
        out["error"] = str(e)
    return out


def _hot_loop_events(comm):
    """Host reads, host-to-device copies and mask indexings in Adam steps 2-4 of a 2-process strong-scaling run
    with causal weights and R3 updated every step (shards, slice all-reduce, gathered residual, gradient average)."""
    import importlib.util
    from pathlib import Path

    # the top-level tests/conftest.py by its path: in a spawned worker the name ``conftest`` may be another one
    spec = importlib.util.spec_from_file_location("_pdekit_tests_conftest",
                                                  Path(__file__).resolve().parents[1] / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    HotLoopTrap = root_conftest.HotLoopTrap

    from pde.training import AbstractCallback
    from samplers import R3

    class Arm(AbstractCallback):
        def on_step_start(self, trainer, step):
            trap.armed = 2 <= step <= 4

    with HotLoopTrap() as trap:
        solve(heat(), MLP(width=8, depth=2), sampler=R3(n=64, update_every=1), communicator=comm, callbacks=[Arm()],
              **settings(causal=CAUSAL, lbfgs_steps=0, log_every=10))
        trap.armed = False
    return trap.report()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pinn_dist")
    return folder, run_on_ranks(_on_rank, folder, 2, str(folder))


def test_strong_scaling_equals_the_single_process_run_through_adam_and_lbfgs(ranks):
    _, results = ranks
    single = solve(heat(), MLP(width=8, depth=2), **settings())
    w1 = _flat(single.model)
    assert torch.equal(results[0]["strong"], results[1]["strong"])  # bitwise the same weights on both ranks
    torch.testing.assert_close(results[0]["strong"], w1, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(results[0]["strong_loss"], torch.as_tensor(single.history["loss"]), rtol=1e-12,
                               atol=0)
    assert single.history["loss"][-1] < 0.5 * single.history["loss"][0]  # L-BFGS and Adam moved it
    assert single.step == 2 * K
    for r in results:  # each rank evaluated its halves: 32 interior, 8 initial, 8 boundary points (never 64 or 16)
        assert 32 in r["batches"] and 8 in r["batches"] and 64 not in r["batches"] and 16 not in r["batches"]


def test_only_rank_zero_writes_and_records_the_world(ranks):
    folder, _ = ranks
    for mode in ("strong", "weak"):
        assert (folder / f"{mode}0.h5").exists() and not (folder / f"{mode}1.h5").exists()
    with h5py.File(folder / "strong0.h5", "r") as f:
        strong = json.loads(f["config"].attrs["json"])["parallel"]
    with h5py.File(folder / "weak0.h5", "r") as f:
        weak = json.loads(f["config"].attrs["json"])["parallel"]
    assert strong == {"world_size": 2, "backend": "gloo", "scaling": "strong", "rank_seeds": [4, 4]}
    assert weak["scaling"] == "weak" and weak["world_size"] == 2 and len(set(weak["rank_seeds"])) == 2


def test_weak_scaling_keeps_ranks_in_step_on_different_points(ranks):
    _, results = ranks
    assert torch.equal(results[0]["weak"], results[1]["weak"])
    single = solve(heat(), MLP(width=8, depth=2), **settings(lbfgs_steps=0))
    assert not torch.allclose(results[0]["weak"], _flat(single.model), rtol=1e-6, atol=0)  # other points


def test_world_size_must_divide_every_point_count(ranks):
    _, results = ranks
    for r in results:
        assert r["error"].startswith("world size 2 does not divide the 63 interior points (n_interior)")



def test_time_budget_ends_the_phases_at_the_same_step_on_every_rank(ranks):
    """Rank 0's clock decides, shared: both ranks stop each phase together and keep equal weights."""
    _, results = ranks
    a, b = results
    assert a["budget_step"] == b["budget_step"] < 10 ** 6
    assert "the adam phase ended" in a["budget_message"] and "the lbfgs phase ended" in a["budget_message"]
    assert torch.equal(a["budget_weights"], b["budget_weights"])


def test_resume_of_a_two_process_run_is_exact(ranks):
    folder, results = ranks
    for r in results:
        assert torch.equal(r["resumed"], r["straight"])
    with h5py.File(folder / "half.h5", "r") as f:
        cfg = json.loads(f["config"].attrs["json"])
    assert cfg["parallel"]["world_size"] == 2 and cfg["parallel"]["resumed_from_world_size"] == 2


def test_resume_of_a_weak_scaling_run_is_refused(ranks):
    from pde.training import resume

    folder, _ = ranks
    with pytest.raises(ValueError, match="weak scaling on 2 process.es. and is resumed on 1"):
        resume(folder / "weak0.h5", quiet=True)


def test_an_adaptive_sampler_updates_from_the_global_residual(ranks):
    """R3 (keeps the points whose residual beats the mean) on 2 processes equals R3 on one: its updates see the
    residual of all 64 points, gathered from the two shards."""
    from samplers import R3

    _, results = ranks
    single = solve(heat(), MLP(width=8, depth=2), sampler=R3(n=64, update_every=2), **settings(lbfgs_steps=0))
    assert torch.equal(results[0]["r3"], results[1]["r3"])
    torch.testing.assert_close(results[0]["r3"], _flat(single.model), rtol=1e-12, atol=1e-12)


def test_causal_weighting_uses_global_slice_losses(ranks):
    """Causal weights (with an eps schedule) on 2 processes, Adam then L-BFGS, equal the 1-process run: the slice
    losses come from all-reduced slice sums and counts."""
    _, results = ranks
    single = solve(heat(), MLP(width=8, depth=2), **settings(causal=CAUSAL))
    assert torch.equal(results[0]["causal"], results[1]["causal"])
    torch.testing.assert_close(results[0]["causal"], _flat(single.model), rtol=1e-12, atol=1e-12)


def test_gradient_norm_balancing_in_strong_scaling_equals_the_single_process_run(ranks):
    """The balancing's per-term gradients come from the global point sets every rank holds: the same weights on
    both ranks, and Adam then L-BFGS equal to the 1-process run."""
    _, results = ranks
    single = solve(heat(), MLP(width=8, depth=2), **settings(balancing=BALANCING))
    plain = solve(heat(), MLP(width=8, depth=2), **settings())
    assert torch.equal(results[0]["balanced"], results[1]["balanced"])
    torch.testing.assert_close(results[0]["balanced"], _flat(single.model), rtol=1e-12, atol=1e-12)
    assert not torch.allclose(_flat(single.model), _flat(plain.model))  # the balancing changed the run


def test_the_distributed_step_has_no_host_reads_or_copies(ranks):
    _, results = ranks
    for r in results:
        assert r["hot_loop"] == ""

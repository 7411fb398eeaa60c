"""The hot loop never waits on the host (issue 14, item 5), counted by the trap of ``tests/conftest.py``.

For every derivative engine x every interior sampler, a tiny heat problem trains a few Adam steps with its
condition points redrawn every step (boundary, initial and ``where``-restricted conditions). Between two log
steps no step may read a tensor on the host, create a tensor from host data (a host-to-device copy on a GPU)
or index with a boolean mask (a data-dependent size, read back by the host). The first log period is the
warm-up (lazily cached per-device constants, optimizer state) and is not counted; nor is the work of a log
step itself (from the trainer's ``_record`` until the next ``sampler.points()``).
"""

import math

import pytest
import torch

from pde import Dirichlet, Initial, Interval, SpaceTime, TimeInterval, define
from pde.collocation import RandomSampler
from pde.derivatives import ENGINES
from pde.models import MLP
from pde.training import Settings
from pde.training.trainer import Trainer
from samplers import AAS, R3, RAD, CausalR3

LOG_EVERY, STEPS = 2, 6


def heat():
    """``u_t = 0.1 u_xx`` on [0,1] x [0,1]; Dirichlet split by ``where`` into the left and right ends."""
    return define(
        "heat1d", SpaceTime(Interval(0, 1), TimeInterval(0, 1)),
        lambda d, k: d("u", "t") - k * d("u", "x", "x"),
        conditions=[Initial(lambda p: torch.sin(math.pi * p[:, 0])),
                    Dirichlet(0.0, name="left", where=lambda p: p[:, 0] < 0.5),
                    Dirichlet(0.0, name="right", where=lambda p: p[:, 0] > 0.5)],
        params={"k": 0.1})


SAMPLERS = {
    "uniform": lambda: RandomSampler(n=32, update_every=1),
    "sobol": lambda: RandomSampler(n=32, update_every=1, method="sobol"),
    "rad": lambda: RAD(n=32, update_every=2, n_candidates=64),
    "r3": lambda: R3(n=32, update_every=1),
    "causal_r3": lambda: CausalR3(n=32, update_every=1),
    "aas": lambda: AAS(n=32, update_every=2, flow_steps=3, n_layers=2, hidden=8, n_penalty=16),
}

def _trainer(engine: str, sampler: str, device, **settings) -> Trainer:
    problem = heat()
    model = MLP(width=8, depth=2).build(problem.domain, 1).to(device)
    eng = ENGINES[engine]()
    cfg = Settings(steps=STEPS, lbfgs_steps=0, log_every=LOG_EVERY, history_every=1, n_boundary=8, n_initial=8,
                   resample_every=1, checkpoint_every=10 ** 6, **settings)
    return Trainer(problem, model, SAMPLERS[sampler](), eng, cfg, device=device, dtype=torch.float32, seed=0,
                   quiet=True)


def _set_armed(trainer: Trainer, trap, armed: bool) -> None:
    """Arm or disarm ``trap``; on CUDA also make a device synchronisation raise while armed."""
    trap.armed = armed
    if trainer.device.type == "cuda":
        torch.cuda.set_sync_debug_mode("error" if armed else "default")


def _arm_between_log_steps(trainer: Trainer, trap) -> None:
    """Arm ``trap`` at each step's ``sampler.points()`` after the first log step; disarm it at ``_record``."""
    points, record = trainer.sampler.points, trainer._record
    trap.armed_steps = 0

    def armed_points():
        _set_armed(trainer, trap, trainer.step >= LOG_EVERY)
        trap.armed_steps += trap.armed
        return points()

    def disarmed_record(*a):
        _set_armed(trainer, trap, False)
        return record(*a)

    trainer.sampler.points, trainer._record = armed_points, disarmed_record


def _run_trapped(trainer: Trainer, trap) -> None:
    _arm_between_log_steps(trainer, trap)
    try:
        trainer.run()
    finally:
        _set_armed(trainer, trap, False)


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("engine", list(ENGINES))
def test_no_host_sync_copy_or_mask_between_log_steps(engine, sampler, device, hot_loop_trap):
    trainer = _trainer(engine, sampler, device)
    with hot_loop_trap() as trap:
        _run_trapped(trainer, trap)
    assert trainer.status == "finished" and trainer.step == STEPS
    assert len(trainer.history["step"]) == STEPS  # every step ran and was recorded
    assert trap.armed_steps == STEPS - LOG_EVERY  # every step after the first log period was watched
    assert trap.events == [], trap.report()


@pytest.mark.parametrize("deterministic", [False, True])
@pytest.mark.parametrize("engine", list(ENGINES))
def test_causal_weighting_stays_on_the_device(engine, deterministic, device, hot_loop_trap):
    """The causal weighting (slice sums, with ``deterministic=True`` by a one-hot product) adds no host work."""
    from pde.training import CausalWeighting

    trainer = _trainer(engine, "r3", device, causal=CausalWeighting(eps=1.0, bins=4), deterministic=deterministic)
    with hot_loop_trap() as trap:
        _run_trapped(trainer, trap)
    assert trainer.status == "finished" and trap.armed_steps == STEPS - LOG_EVERY
    assert trap.events == [], trap.report()


class _ReadingSampler(RandomSampler):
    """A sampler that reads its residual on the host at every update (what the trap must catch)."""

    def update(self, step, points, residual):
        self.last = float(residual.mean())
        super().update(step, points, residual)


def test_trap_catches_a_host_read_in_a_sampler_update(hot_loop_trap):
    trainer = _trainer("autograd", "uniform", torch.device("cpu"))
    trainer.sampler = _ReadingSampler(n=32, update_every=1)
    trainer.sampler.setup(trainer.problem.domain, generator=trainer.generator, device="cpu")
    with hot_loop_trap() as trap:
        _run_trapped(trainer, trap)
    assert trap.counts() == {"host_read": STEPS - LOG_EVERY, "h2d": 0, "mask": 0}, trap.report()
    assert all(where.startswith("tests/pde/test_hot_loop.py") for _, _, where in trap.events)


def test_trap_sees_each_kind(hot_loop_trap):
    """The trap is not blind: a host read, a host-data tensor and a boolean mask are each counted once."""
    x = torch.rand(8)
    with hot_loop_trap() as trap:
        trap.armed = True
        x.sum().item()
        torch.tensor([1.0, 2.0])
        x[x > 0.5]
        trap.armed = False
        x.sum().item()  # disarmed: not counted
    assert trap.counts() == {"host_read": 1, "h2d": 1, "mask": 1}, trap.report()


@pytest.mark.parametrize("engine", list(ENGINES))
def test_gradient_norm_balancing_stays_on_the_device(engine, device, hot_loop_trap):
    """The balancing's per-term gradient norms and weight update (every 2 steps here) add no host work."""
    from pde.training import GradientNormBalancing

    trainer = _trainer(engine, "uniform", device)
    trainer = Trainer(trainer.problem, trainer.model, SAMPLERS["uniform"](), ENGINES[engine](), trainer.settings,
                      device=device, dtype=torch.float32, seed=0, quiet=True,
                      weighting=GradientNormBalancing(update_every=2))
    with hot_loop_trap() as trap:
        _run_trapped(trainer, trap)
    assert trainer.status == "finished" and trap.armed_steps == STEPS - LOG_EVERY
    assert trap.events == [], trap.report()


@pytest.mark.parametrize("engine", list(ENGINES))
def test_device_lbfgs_chunk_stays_on_the_device(engine, device, hot_loop_trap):
    """A DeviceLBFGS chunk (LOG_EVERY evaluations, Armijo backtracking) reads nothing on the host; the chunk's
    end (its counters, the log step) is not watched. The first chunk is the warm-up."""
    from pde.training.phases import LBFGSPhase

    base = _trainer(engine, "uniform", device)
    phase = LBFGSPhase(STEPS, line_search="device")
    trainer = Trainer(base.problem, base.model, SAMPLERS["uniform"](), ENGINES[engine](), base.settings,
                      device=device, dtype=torch.float32, seed=0, quiet=True, phases=[phase])
    step, chunks = phase.optimizer.step, []

    def armed_step(closure):
        armed = bool(chunks)
        chunks.append(armed)
        _set_armed(trainer, trap, armed)
        try:
            return step(closure)
        finally:
            _set_armed(trainer, trap, False)

    phase.optimizer.step = armed_step
    with hot_loop_trap() as trap:
        trainer.run()
    assert trainer.status == "finished" and sum(chunks) >= 1, chunks
    assert trap.events == [], trap.report()


@pytest.mark.parametrize("engine", list(ENGINES))
def test_unknowns_and_observations_stay_on_the_device(engine, device, hot_loop_trap):
    """An unknown parameter (its history column every step) and observations with a subset and noise (drawn
    once, kept through the per-step condition redraws) add no host work between log steps."""
    import numpy as np

    from pde.observations import Observation
    from pde.unknowns import Unknown

    problem = define("heat_inverse", SpaceTime(Interval(0, 1), TimeInterval(0, 1)),
                     lambda d, k: d("u", "t") - k * d("u", "x", "x"), params={"k": Unknown(init=0.5, positive=True)})
    pts = np.random.default_rng(0).uniform(size=(40, 2))
    obs = Observation(pts, np.sin(math.pi * pts[:, 0]), subset=20, noise=0.01)
    base = _trainer(engine, "uniform", device)
    trainer = Trainer(problem, base.model, SAMPLERS["uniform"](), ENGINES[engine](), base.settings, device=device,
                      dtype=torch.float32, seed=0, quiet=True, data=[obs])
    with hot_loop_trap() as trap:
        _run_trapped(trainer, trap)
    assert trainer.status == "finished" and trap.armed_steps == STEPS - LOG_EVERY
    assert len(trainer.history["param/k"]) == STEPS
    assert trap.events == [], trap.report()


def test_balancing_and_its_weight_history_add_no_host_sync_between_log_steps(device, hot_loop_trap):
    """Gradient-norm balancing updates its weights on the device and the history buffers them (``weight/TERM``)
    with the losses: no host read, copy or mask between log steps."""
    trainer = _trainer("autograd", "uniform", device, balancing={"name": "gradient_norm", "update_every": 2})
    with hot_loop_trap() as trap:
        _run_trapped(trainer, trap)
    assert trainer.status == "finished" and trap.armed_steps == STEPS - LOG_EVERY
    assert len(trainer.history["weight/left"]) == STEPS and len(set(trainer.history["weight/left"])) > 1
    assert trap.events == [], trap.report()

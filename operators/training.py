"""Shared training and evaluation of operator models on a pdekit operator dataset.

:func:`train` reads pairs with :func:`operators.datasets.load_pairs` (first ``n_train`` samples train,
last ``n_test`` test), optionally subsampled in space by ``train_stride``, fits the model with Adam and a
learning-rate schedule on a relative L2 or H1 loss (plus an optional Darcy physics residual), and
evaluates (a) the test error at the training resolution, (b) zero-shot at the dataset's full resolution
when ``train_stride > 1``, and (c) inference time per sample against the classical solver that made the
data. Everything goes into one pdekit run file (``kind = "operator"``, written atomically by :mod:`pde.store`
through :mod:`operators.runfile`); :func:`train` returns a :class:`pde.run.Run`; :func:`validate` re-evaluates it.

Data parallelism: ``train(..., communicator=comm)`` with a :class:`pde.distributed.TorchDistributed` splits
every global batch of ``batch_size`` samples over the ranks (a ``DistributedSampler`` with ``set_epoch`` at
every epoch draws one global permutation per epoch; rank ``r`` takes its interleaved share, the same number
of samples of every batch as each other rank), averages the gradients in one all-reduce (the physics term's
RMS is taken over the global batch), evaluates each test sample on exactly one rank and divides
all-reduced error sums by the global count, so a run on ``W`` processes follows the one-process run; only
the writer rank writes the file.
"""

from __future__ import annotations

import datetime
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DistributedSampler

from pde.distributed import AbstractCommunicator, SingleProcess
from pde.run import Run
from pde.solve import resolve_device

from .datasets import load_pairs
from .losses import H1Loss, LpLoss
from .progress import Progress
from .registry import build_model
from .runfile import write_operator_run


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _version() -> str:
    from pde import __version__

    return __version__


class Normalized(nn.Module):
    """Wraps an operator with scalar (resolution-independent) input/output standardisation."""

    def __init__(self, model: nn.Module, x_mean=0.0, x_std=1.0, y_mean=0.0, y_std=1.0):
        super().__init__()
        self.model = model
        for k, v in {"x_mean": x_mean, "x_std": x_std, "y_mean": y_mean, "y_std": y_std}.items():
            self.register_buffer(k, torch.as_tensor(float(v)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model((x - self.x_mean) / self.x_std) * self.y_std + self.y_mean


def darcy_residual(a: torch.Tensor, u: torch.Tensor, f: float = 1.0) -> torch.Tensor:
    """Finite-volume residual ``-div(a grad u) - f`` at interior nodes; ``a, u: (B, 1, n, n)`` on ``[0,1]^2``."""
    n = u.shape[-1]
    h2 = (1.0 / (n - 1)) ** 2
    ac = a[..., 1:-1, 1:-1]
    uc = u[..., 1:-1, 1:-1]
    flux = 0.0
    for sl in ((slice(2, None), slice(1, -1)), (slice(None, -2), slice(1, -1)),
               (slice(1, -1), slice(2, None)), (slice(1, -1), slice(None, -2))):
        flux = flux + 0.5 * (ac + a[(..., *sl)]) * (u[(..., *sl)] - uc)
    return -flux / h2 - f


def make_scheduler(opt, name: str, epochs: int, steps_per_epoch: int):
    """``"cosine"`` (per step), ``"step"`` (halve every ``epochs // 5``), ``"onecycle"`` or ``"none"``."""
    total = max(epochs * steps_per_epoch, 1)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(opt, max(epochs // 5, 1) * steps_per_epoch, gamma=0.5)
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=opt.param_groups[0]["lr"], total_steps=total)
    if name == "none":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    raise ValueError(f"schedule must be one of cosine, step, onecycle, none; got {name!r}")


def _physics_rms(res: torch.Tensor, comm: AbstractCommunicator) -> torch.Tensor:
    """RMS of the residual ``res: (b, ...)`` over the global batch (all ranks' residuals).

    One process: ``res.pow(2).mean().sqrt()``. Several: the value is the global RMS ``sqrt(S)``, ``S`` the
    all-reduced mean square, and the gradient is that of ``mean_local(res^2) / (2 sqrt(S))``, which the
    gradient average over the ranks turns into the gradient of ``sqrt(S)`` (equal batch shares).
    """
    ms_local = res.pow(2).mean()
    if comm.world_size == 1:
        return ms_local.sqrt()
    ms = comm.all_reduce_sum(ms_local.detach().clone()) / comm.world_size
    rms = ms.sqrt()
    surrogate = ms_local / (2 * rms)
    return surrogate + (rms - surrogate).detach()


#: what :func:`train` returned before runs were unified; the same class as :class:`pde.run.Run`
TrainResult = Run


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device, batch_size: int = 50,
             communicator: AbstractCommunicator | None = None) -> dict:
    """Mean relative L2 and H1 errors of ``model`` on ``(x, y)`` (tensors on the host), batched on ``device``.

    communicator: with several ranks, each evaluates its own contiguous share of the samples (every sample
    exactly once, no padding) and the means are all-reduced sums of per-sample errors over the global count.
    """
    model.eval()
    if communicator is not None and communicator.world_size > 1:
        own = communicator.shard(x.shape[0], even=False)
        x, y = x[own], y[own]
    sums = torch.zeros(3, device=device, dtype=torch.float64)  # sum of l2, sum of h1, count
    for i in range(0, x.shape[0], batch_size):
        pred = model(x[i:i + batch_size].to(device))
        yy = y[i:i + batch_size].to(device)
        sums[0] += LpLoss(2).per_sample(pred, yy).double().sum()
        sums[1] += H1Loss().per_sample(pred, yy).double().sum()
        sums[2] += pred.shape[0]
    if communicator is not None:
        communicator.all_reduce_sum(sums)
    l2, h1, count = sums.tolist()
    return {"l2": l2 / count, "h1": h1 / count}


@torch.no_grad()
def time_inference(model: nn.Module, x: torch.Tensor, device, repeats: int = 3) -> float:
    """Seconds per sample of a batched forward pass (best of ``repeats``, synchronised on CUDA)."""
    model.eval()
    xb = x.to(device)
    best = math.inf
    for _ in range(repeats + 1):
        if xb.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model(xb)
        if xb.device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best / x.shape[0]


def train(dataset_path, model: str | nn.Module = "fno", out=None, epochs: int = 100, device=None,
          quiet: bool = False, *, batch_size: int = 20, lr: float = 1e-3, weight_decay: float = 1e-4,
          schedule: str = "cosine", loss: str = "l2", n_train: int | None = None, n_test: int | None = None,
          train_stride: int = 1, physics_weight: float = 0.0, checkpoint_every: int = 0, seed: int = 0,
          model_options: dict | None = None, communicator: AbstractCommunicator | None = None) -> Run:
    """Train an operator on ``dataset_path`` and write a run file to ``out`` (if given).

    ``model``: a registered name (``"fno"``, ``"mgno"``) built with ``model_options``, or an ``nn.Module``
    mapping ``(B, C_in, *S) -> (B, C_out, *S)``. ``n_train``/``n_test`` default to 80%/20% of the file.
    ``loss``: ``"l2"`` or ``"h1"`` (relative). ``physics_weight > 0`` adds ``physics_weight`` times the RMS of the
    finite-volume Darcy residual ``-div(a grad u) - 1`` of the prediction (Darcy datasets only).
    ``checkpoint_every`` rewrites ``out`` every so many
    epochs. Returns a :class:`pde.run.Run` (``kind="operator"``) with ``metrics["test_l2"]`` etc.
    The per-batch loss is summed on the device and read once per epoch (no host synchronisation per batch).
    communicator: :class:`pde.distributed.AbstractCommunicator` (default: one process); with ``W`` ranks,
    ``W`` must divide ``batch_size`` and ``n_train`` (``ValueError`` otherwise), and the device is the
    communicator's.
    """
    comm = communicator if communicator is not None else SingleProcess()
    device = resolve_device(device if comm.world_size == 1 else comm.device)
    torch.manual_seed(seed)
    x_all, y_all, attrs = load_pairs(dataset_path)
    n = x_all.shape[0]
    n_test = n_test if n_test is not None else max(1, n // 5)
    n_train = n_train if n_train is not None else n - n_test
    if n_train < 1 or n_train + n_test > n:
        raise ValueError(f"n_train={n_train} + n_test={n_test} must fit in the {n} samples of {dataset_path}")
    if loss not in ("l2", "h1"):
        raise ValueError(f"loss must be 'l2' or 'h1', got {loss!r}")
    if physics_weight and attrs["pde"] != "darcy":
        raise ValueError(f"physics_weight is only implemented for darcy datasets, not {attrs['pde']!r}")
    world = comm.world_size
    for what, value in (("batch_size", batch_size), ("n_train", n_train)):
        if value % world:
            raise ValueError(f"world size {world} does not divide {what}={value}; use a multiple of {world}")
    sub = (slice(None), slice(None)) + (slice(None, None, train_stride),) * (x_all.ndim - 2)
    x_tr, y_tr = x_all[:n_train][sub].contiguous(), y_all[:n_train][sub].contiguous()
    x_te_full, y_te_full = x_all[n - n_test:], y_all[n - n_test:]
    x_te, y_te = x_te_full[sub].contiguous(), y_te_full[sub].contiguous()

    options = dict(model_options or {})
    name = model if isinstance(model, str) else type(model).__name__
    if isinstance(model, str):
        net = build_model(model, x_tr.shape[1], y_tr.shape[1], x_tr.ndim - 2, **options)
    else:
        net = model
    net = Normalized(net, x_tr.mean(), x_tr.std(), y_tr.mean(), y_tr.std()).to(device)
    comm.broadcast_(list(net.parameters()) + list(net.buffers()))  # every rank starts from rank 0's weights
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    steps = math.ceil(n_train / batch_size)
    sched = make_scheduler(opt, schedule, epochs, steps)
    crit = LpLoss(2) if loss == "l2" else H1Loss()
    order = DistributedSampler(range(n_train), num_replicas=world, rank=comm.rank, shuffle=True, seed=seed)
    local_batch = batch_size // world
    config = {"dataset": str(Path(dataset_path).resolve()), "model": name, "model_options": options,
              "epochs": epochs, "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay,
              "schedule": schedule, "loss": loss, "n_train": n_train, "n_test": n_test,
              "train_stride": train_stride, "physics_weight": physics_weight, "seed": seed, "device": str(device),
              "pde": str(attrs["pde"]), "in_channels": x_tr.shape[1], "out_channels": y_tr.shape[1],
              "dim": x_tr.ndim - 2, "parallel": {"world_size": world, "backend": comm.backend or "none"}}
    history = {"train_loss": [], "test_l2": [], "lr": [], "epoch_seconds": []}
    prov = {"pdekit": _version(), "torch": str(torch.__version__), "numpy": str(np.__version__),
            "device": str(device), "seed": seed, "start_time": _now(), "end_time": None}
    prog = Progress(f"train {name}", epochs, quiet)
    x_dev, y_dev = x_tr.to(device), y_tr.to(device)  # small sets: keep on device, no per-step host copies
    metrics: dict = {}

    def finish(final: bool, done: int):
        metrics.clear()
        metrics["parameters"] = sum(p.numel() for p in net.parameters())
        metrics["train_resolution"] = x_te.shape[-1]
        ev = evaluate(net, x_te, y_te, device, communicator=comm)
        metrics.update({"test_l2": ev["l2"], "test_h1": ev["h1"]})
        if final:
            if train_stride > 1:
                ev_full = evaluate(net, x_te_full, y_te_full, device, communicator=comm)
                metrics.update({"zero_shot_resolution": x_te_full.shape[-1], "zero_shot_l2": ev_full["l2"],
                                "zero_shot_h1": ev_full["h1"]})
            metrics["train_seconds"] = float(sum(history["epoch_seconds"]))
            t_model = time_inference(net, x_te_full[: min(n_test, 50)], device)
            metrics["inference_seconds_per_sample"] = t_model
            t_solver = float(attrs.get("solver_seconds_per_sample", float("nan")))
            metrics["solver_seconds_per_sample"] = t_solver
            metrics["speedup_vs_solver"] = t_solver / t_model
        if out is not None and comm.is_writer:
            with torch.no_grad():
                k = min(4, n_test)
                pred = net(x_te[:k].to(device))
            write_operator_run(out, config=config, history=history, metrics=metrics, state=net.state_dict(),
                               predictions={"x": x_te[:k], "y": y_te[:k], "pred": pred},
                               status="finished" if final else "running", step=done, provenance=prov,
                               wall_time=float(sum(history["epoch_seconds"])))

    for epoch in range(epochs):
        net.train()
        t0 = time.perf_counter()
        order.set_epoch(epoch)  # a new global permutation every epoch, the same on every rank
        perm = torch.tensor(list(order), dtype=torch.long).to(device)  # this rank's share, n_train / W samples
        total = torch.zeros((), device=device)  # summed on the device, read once per epoch
        for i in range(steps):
            idx = perm[i * local_batch:(i + 1) * local_batch]
            xb, yb = x_dev[idx], y_dev[idx]
            pred = net(xb)
            loss_val = crit(pred, yb)
            if physics_weight:
                loss_val = loss_val + physics_weight * _physics_rms(darcy_residual(xb, pred), comm)
            opt.zero_grad(set_to_none=True)
            loss_val.backward()
            comm.average_gradients(net.parameters())  # equal shares of every batch: the plain mean is exact
            opt.step()
            sched.step()
            total += loss_val.detach() * len(idx)
        comm.all_reduce_sum(total)
        epoch_loss = float(total) / n_train  # the one host read of the epoch (it waits for the device)
        history["epoch_seconds"].append(time.perf_counter() - t0)
        history["train_loss"].append(epoch_loss)
        history["test_l2"].append(evaluate(net, x_te, y_te, device, communicator=comm)["l2"])
        history["lr"].append(opt.param_groups[0]["lr"])
        if not math.isfinite(history["train_loss"][-1]):
            raise FloatingPointError(f"training diverged at epoch {epoch}: loss {history['train_loss'][-1]}")
        prog.update(epoch + 1, f"loss {history['train_loss'][-1]:.4f} test_l2 {history['test_l2'][-1]:.4f}")
        if checkpoint_every and (epoch + 1) % checkpoint_every == 0 and epoch + 1 < epochs:
            finish(final=False, done=epoch + 1)
    finish(final=True, done=epochs)
    prov["end_time"] = _now()
    return Run(problem=None, model=net, config=config, history={k: np.asarray(v) for k, v in history.items()},
               metrics=dict(metrics), status="finished", wall_time=float(sum(history["epoch_seconds"])),
               path=Path(out) if out else None, kind="operator", provenance=prov, step=epochs)


def validate(run_path, device=None, *, model: nn.Module | None = None) -> dict:
    """Rebuild the model of a run file, reload its dataset and recompute the test errors.

    Returns ``{"test_l2", "test_h1", "stored_test_l2", "matches"}`` (``matches``: recomputed error equals
    the stored one within 1e-4 relative), plus ``zero_shot_l2`` when the run trained on a subsampled grid.
    model: the run's own module (a custom ``nn.Module``), into which the stored weights are loaded strictly.
    """
    from pde.store import load

    device = resolve_device(device)
    run = load(run_path, device=device, model=model if model is not None else True)
    if run.kind != "operator":
        raise ValueError(f"{str(run_path)!r} is a {run.kind} run; operators.validate checks operator runs")
    cfg = run.config
    net = run.model
    x, y, _ = load_pairs(cfg["dataset"])
    n = x.shape[0]
    x_te, y_te = x[n - cfg["n_test"]:], y[n - cfg["n_test"]:]
    s = cfg["train_stride"]
    sub = (slice(None), slice(None)) + (slice(None, None, s),) * (x.ndim - 2)
    ev = evaluate(net, x_te[sub].contiguous(), y_te[sub].contiguous(), device)
    stored = float(run.metrics["test_l2"])
    result = {"test_l2": ev["l2"], "test_h1": ev["h1"], "stored_test_l2": stored,
              "matches": abs(ev["l2"] - stored) <= 1e-4 * max(stored, 1e-12) + 1e-6}
    if s > 1:
        result["zero_shot_l2"] = evaluate(net, x_te, y_te, device)["l2"]
    return result

"""Parallelism as one object passed in: a communicator.

Every multi-process concern of pdekit goes through a communicator: all-reduces of gradients, losses and
sampler statistics, which slice of a global index range this process owns, which seed it draws from and
which process writes files. Nothing else in the code asks which rank it is.

- :class:`SingleProcess` (world size 1): every call is the identity; the default everywhere.
- :class:`TorchDistributed`: ``torch.distributed`` behind the same calls. It joins the default process group
  when one exists (a user's script, Lightning, Ray Train, a test), else creates one from torchrun's
  environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) or from an explicit
  ``init_method``: gloo on the CPU, NCCL on CUDA with one device per local rank (``cuda:LOCAL_RANK``).

:func:`from_environment` picks one: :class:`TorchDistributed` when a group exists or torchrun set
``WORLD_SIZE > 1``, else :class:`SingleProcess`.

Data parallelism with equal results. With ``N`` global points split into shards of ``n_r`` points and a
per-rank loss that is a mean over its own points, ``L = (1/N) sum_i l_i = sum_r (n_r / N) L_r``, so the
single-process gradient is ``sum_r n_r g_r / sum_r n_r``: :meth:`average_gradients` with ``weight=n_r``
(or no weight when every shard has the same size). All gradients travel in one flat buffer and one
all-reduce, whatever computed them (autograd, Taylor mode, STDE, ``torch.compile``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import torch

__all__ = ["AbstractCommunicator", "SingleProcess", "TorchDistributed", "from_environment", "rank_seed"]

#: backends pdekit knows, with the device types each one reduces on
BACKEND_DEVICES = {"gloo": ("cpu", "cuda"), "nccl": ("cuda",), "mpi": ("cpu", "cuda")}


def rank_seed(seed: int, rank: int, world_size: int) -> int:
    """The seed of ``rank`` for weak scaling: ``seed`` itself at world size 1, else a 63-bit integer drawn
    from ``numpy.random.SeedSequence([seed, rank])`` (independent streams per rank, reproducible)."""
    if world_size == 1:
        return int(seed)
    words = np.random.SeedSequence([int(seed), int(rank)]).generate_state(2, np.uint32)
    return int((int(words[0]) << 31) ^ int(words[1])) & (2 ** 63 - 1)


def _flat_grads(params: list[torch.Tensor]) -> torch.Tensor:
    """All gradients in one flat buffer (zeros where a parameter has no gradient, so every rank's layout agrees)."""
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])


def _scatter_grads(params: list[torch.Tensor], flat: torch.Tensor) -> None:
    offset = 0
    for p in params:
        n = p.numel()
        g = flat[offset:offset + n].view_as(p)
        if p.grad is None:
            p.grad = g.clone()
        else:
            p.grad.copy_(g)
        offset += n


class AbstractCommunicator:
    """What a training loop needs from its processes. Subclasses: :class:`SingleProcess`, :class:`TorchDistributed`.

    Attributes: ``world_size``, ``rank`` (global), ``local_rank``, ``backend`` (``None`` for one process),
    ``device`` (the device this process computes on).
    """

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    backend: str | None = None
    device: torch.device = torch.device("cpu")

    @property
    def is_writer(self) -> bool:
        """Whether this process writes run files and checkpoints (global rank 0)."""
        return self.rank == 0

    # -- reductions (overridden by the distributed class; identity here) --------------------------------
    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all ranks, in place, on its device (no host read); returns it."""
        return tensor

    def broadcast_(self, tensors: Iterable[torch.Tensor], src: int = 0) -> None:
        """Overwrite ``tensors`` (in place) with rank ``src``'s values."""

    def barrier(self) -> None:
        """Wait until every rank reaches this call."""

    def all_gather_cat(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every rank's ``tensor`` ``(n_r, ...)`` concatenated in rank order along dim 0 (equal ``n_r``)."""
        return tensor

    def average_gradients(self, params: Iterable[torch.Tensor], weight=None) -> None:
        """Replace each parameter's gradient by the weighted mean over ranks, ``sum_r w_r g_r / sum_r w_r``.

        weight: this rank's weight (its point count, a number or a 0-d tensor on the device); ``None``: equal
        weights (plain mean). One flat buffer, one all-reduce. Identity at world size 1.
        """

    # -- index ranges and seeds ---------------------------------------------------------------------------
    def shard(self, n: int, even: bool = True) -> slice:
        """This rank's contiguous slice of the global index range ``0 .. n-1`` (strong scaling).

        even=True: every rank gets ``n / world_size`` indices; a world size that does not divide ``n`` raises
        ``ValueError``. even=False: sizes differ by at most one (the first ``n % world_size`` ranks get one
        more), for evaluation sets that must be counted once each. The slices cover the range without overlap.
        """
        n = int(n)
        if n < 0:
            raise ValueError(f"cannot shard a negative count {n}")
        w = self.world_size
        if even and n % w:
            raise ValueError(f"world size {w} does not divide {n} (points or samples to shard); "
                             f"use a multiple of {w}")
        base, extra = divmod(n, w)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (self.rank < extra))

    def rank_seed(self, seed: int) -> int:
        """This rank's seed for weak scaling (:func:`rank_seed`); ``seed`` itself at world size 1."""
        return rank_seed(seed, self.rank, self.world_size)

    def describe(self) -> dict:
        """What a run file records: ``world_size``, ``rank``, ``backend``."""
        return {"world_size": self.world_size, "rank": self.rank, "backend": self.backend or "none"}

    def close(self) -> None:
        """Release what this object created (a process group it started); joining a group never destroys it."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(world_size={self.world_size}, rank={self.rank}, backend={self.backend!r})"


class SingleProcess(AbstractCommunicator):
    """One process: world size 1, rank 0, every reduction is the identity."""

    def __init__(self, device=None):
        self.device = torch.device(device) if device is not None else torch.device("cpu")


class TorchDistributed(AbstractCommunicator):
    """``torch.distributed`` behind the communicator calls.

    device: ``"cpu"``, ``"cuda"`` (becomes ``cuda:LOCAL_RANK``) or ``None`` (CUDA when available, else CPU).
    backend: ``"gloo"``, ``"nccl"``, ``"mpi"`` or ``None`` (gloo on the CPU, NCCL on CUDA). Ignored when a
    group already exists (its backend is used). init_method, world_size, rank: passed to
    ``init_process_group`` when this object creates the group (default: torchrun's ``env://``).

    Raises ``ValueError`` (one line) for a backend the device does not support (NCCL on the CPU), an unknown
    backend, a backend not built into this torch, or a local rank without its own CUDA device.
    """

    def __init__(self, device=None, backend: str | None = None, *, init_method: str | None = None,
                 world_size: int | None = None, rank: int | None = None):
        import torch.distributed as dist

        if not dist.is_available():
            raise ValueError("torch.distributed is not available in this torch build")
        self._dist = dist
        self._owns_group = False
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        joined = dist.is_initialized()
        if joined:  # the group's own backend, possibly a per-device list such as "cpu:gloo,cuda:nccl"
            backend = str(dist.get_backend())
        if device is None:
            device = "cuda" if ((backend is None or "nccl" in backend) and torch.cuda.is_available()) else "cpu"
        device = torch.device(device)
        if device.type == "cuda" and device.index is None:
            if not torch.cuda.is_available():
                raise ValueError("device 'cuda' requested but CUDA is not available on this machine; use 'cpu'")
            n_gpu = torch.cuda.device_count()
            if self.local_rank >= n_gpu:
                raise ValueError(f"local rank {self.local_rank} has no CUDA device of its own: this node has {n_gpu}; "
                                 f"start at most {n_gpu} processes per node")
            device = torch.device("cuda", self.local_rank)
        if backend is None:
            backend = "nccl" if device.type == "cuda" else "gloo"
        backend = str(backend).lower()
        names = [part.split(":")[-1] for part in backend.split(",")]
        if not joined and backend not in BACKEND_DEVICES:
            raise ValueError(f"unknown backend {backend!r}; allowed: {', '.join(BACKEND_DEVICES)}")
        if not any(device.type in BACKEND_DEVICES.get(name, (device.type,)) for name in names):
            raise ValueError(f"backend {backend!r} does not support device {str(device)!r}; "
                             f"use {'gloo' if device.type == 'cpu' else 'nccl'}")
        if not dist.is_initialized():
            if not dist.is_backend_available(backend):
                raise ValueError(f"backend {backend!r} is not available in this torch build")
            kwargs = {"backend": backend, "init_method": init_method or "env://"}
            if world_size is not None:
                kwargs["world_size"] = int(world_size)
            if rank is not None:
                kwargs["rank"] = int(rank)
            if device.type == "cuda":
                torch.cuda.set_device(device)
            dist.init_process_group(**kwargs)
            self._owns_group = True
        self.device = device
        self.backend = backend
        self.world_size = dist.get_world_size()
        self.rank = dist.get_rank()

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.world_size > 1:
            self._dist.all_reduce(tensor, op=self._dist.ReduceOp.SUM)
        return tensor

    def broadcast_(self, tensors: Iterable[torch.Tensor], src: int = 0) -> None:
        tensors = list(tensors)
        if self.world_size == 1 or not tensors:
            return
        flat = torch.cat([t.detach().reshape(-1) for t in tensors])
        self._dist.broadcast(flat, src=src)
        offset = 0
        with torch.no_grad():
            for t in tensors:
                t.copy_(flat[offset:offset + t.numel()].view_as(t))
                offset += t.numel()

    def barrier(self) -> None:
        if self.world_size > 1:
            self._dist.barrier()

    def all_gather_cat(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.world_size == 1:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        self._dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    def average_gradients(self, params: Iterable[torch.Tensor], weight=None) -> None:
        params = [p for p in params if p.requires_grad]
        if self.world_size == 1 or not params:
            return
        flat = _flat_grads(params)
        if weight is None:
            self.all_reduce_sum(flat)
            flat.div_(self.world_size)
        else:
            w = torch.as_tensor(weight, dtype=flat.dtype, device=flat.device).reshape(1)
            buf = torch.cat([flat * w, w])  # the weights ride in the same all-reduce
            self.all_reduce_sum(buf)
            flat = buf[:-1] / buf[-1]
        _scatter_grads(params, flat)

    def close(self) -> None:
        if self._owns_group and self._dist.is_initialized():
            self._dist.destroy_process_group()
            self._owns_group = False


def from_environment(device=None, backend: str | None = None) -> AbstractCommunicator:
    """:class:`TorchDistributed` when a process group exists or torchrun set ``WORLD_SIZE > 1``, else
    :class:`SingleProcess` on ``device``."""
    import torch.distributed as dist

    if (dist.is_available() and dist.is_initialized()) or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return TorchDistributed(device=device, backend=backend)
    if backend not in (None, "none"):
        if str(backend).lower() not in BACKEND_DEVICES:
            raise ValueError(f"unknown backend {backend!r}; allowed: {', '.join(BACKEND_DEVICES)}")
    return SingleProcess(device=device)

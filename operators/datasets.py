"""Operator-learning datasets generated with pdekit's own classical solvers, stored in HDF5.

``generate_dataset(name, samples, resolution, out, seed=0, quiet=False, **options)`` writes one file.
Sample ``i`` is drawn from ``numpy.random.default_rng([seed, i])``, so a file is reproducible from its
seed and independent of the chunk size. Samples are solved and written chunk by chunk (never the whole
set in memory), into a temporary file that is renamed into place when complete. ``workers=N`` solves the
chunks in ``N`` spawned processes and writes them in order, so the file holds the same samples as the
serial run (only ``solver_seconds_per_sample``, a wall-time measurement, differs).

HDF5 layout (PDEBench conventions where they fit; readable with h5py alone)
--------------------------------------------------------------------------
``darcy`` (FNO paper: ``-div(a grad u) = 1`` on ``[0,1]^2``, ``u = 0`` on the boundary,
``a = 12`` where a Neumann GRF with covariance ``(-Lap + 9 I)^-2`` is ``>= 0``, else ``3``;
solved on a fine node grid of ``(resolution - 1) * stride + 1`` points, subsampled by ``stride``)::

    /nu            (N, X, Y)     float32  coefficient a (input)
    /tensor        (N, 1, X, Y)  float32  solution u (output)
    /x-coordinate  (X,)   /y-coordinate (Y,)   node coordinates in [0, 1] (endpoints included)

``burgers`` (``u_t + u u_x = nu u_xx`` on the periodic ``[0, 1)``, ``nu = 0.1``, ``u0`` a GRF with
covariance ``625 (-Lap + 25 I)^-2``; fine grid ``resolution * stride``)::

    /tensor        (N, T, X)     float32  u(t_k, x_j); T = n_times + 1 snapshots, first is u0
    /x-coordinate  (X,)   /t-coordinate (T,)

``navier_stokes`` (vorticity on the unit torus, FNO forcing, ``nu = 1e-3``, ``w0`` a GRF with covariance
``7^3 (-Lap + 49 I)^-2.5``)::

    /tensor        (N, T, X, Y)  float32  w(t_k, x_i, y_j), t_k = 0, 1, ..., final_time
    /x-coordinate  (X,)   /y-coordinate (Y,)   /t-coordinate (T,)

Root attributes: ``pde``, ``samples``, ``resolution``, ``seed``, every solver/PDE parameter,
``solver_seconds_per_sample`` (wall time of the classical solver, for inference-speed comparisons),
``input`` and ``output`` (the dataset names and, for time series, the ``input_steps`` split used by
:func:`load_pairs`), and ``pdekit_layout = 1``.
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import h5py
import numpy as np
import torch

from .grf import neumann_grf_2d, periodic_grf
from .progress import Progress
from .solvers import solve_burgers, solve_darcy, solve_navier_stokes
from .solvers.navier_stokes import fno_forcing

DATASETS = ("darcy", "burgers", "navier_stokes")


def _darcy(rngs, resolution, stride=5, a_high=12.0, a_low=3.0):
    fine = (resolution - 1) * stride + 1
    a, u = [], []
    for rng in rngs:
        g = neumann_grf_2d(rng, 1, fine, alpha=2.0, tau=3.0)[0]
        coef = np.where(g >= 0, a_high, a_low)
        a.append(coef[::stride, ::stride])
        u.append(solve_darcy(coef, 1.0)[::stride, ::stride][None])
    return {"nu": np.stack(a), "tensor": np.stack(u)}


def _burgers(rngs, resolution, stride=8, nu=0.1, final_time=1.0, n_times=10, dt=None):
    fine = resolution * stride
    u0 = np.concatenate([periodic_grf(rng, 1, (fine,), alpha=2.0, tau=5.0, sigma=25.0) for rng in rngs])
    t = np.linspace(0.0, final_time, n_times + 1)
    u = solve_burgers(u0, nu, t, dt=dt or min(1e-3, 0.25 / fine))
    return {"tensor": u[:, :, ::stride]}


def _navier_stokes(rngs, resolution, stride=1, nu=1e-3, final_time=50, dt=5e-3):
    fine = resolution * stride
    w0 = np.concatenate([periodic_grf(rng, 1, (fine, fine), alpha=2.5, tau=7.0, sigma=7.0**1.5) for rng in rngs])
    t = np.arange(0, int(final_time) + 1, dtype=np.float64)
    w = solve_navier_stokes(w0, nu, t, forcing=fno_forcing(fine), dt=dt)
    return {"tensor": w[:, :, ::stride, ::stride]}


def _coords(name, resolution, opts):
    if name == "darcy":
        x = np.linspace(0.0, 1.0, resolution)
        return {"x-coordinate": x, "y-coordinate": x}
    x = np.arange(resolution) / resolution
    if name == "burgers":
        return {"x-coordinate": x, "t-coordinate": np.linspace(0.0, opts["final_time"], opts["n_times"] + 1)}
    return {"x-coordinate": x, "y-coordinate": x, "t-coordinate": np.arange(0, int(opts["final_time"]) + 1.0)}


_DEFAULTS = {
    "darcy": {"stride": 5, "a_high": 12.0, "a_low": 3.0},
    "burgers": {"stride": 8, "nu": 0.1, "final_time": 1.0, "n_times": 10},
    "navier_stokes": {"stride": 1, "nu": 1e-3, "final_time": 50, "dt": 5e-3},
}
_IO = {
    "darcy": {"input": "nu", "output": "tensor"},
    "burgers": {"input": "tensor", "output": "tensor", "input_steps": 1},
    "navier_stokes": {"input": "tensor", "output": "tensor", "input_steps": 10},
}


_MAKERS = {"darcy": _darcy, "burgers": _burgers, "navier_stokes": _navier_stokes}


def _solve_chunk(name: str, seed: int, start: int, stop: int, resolution: int, opts: dict):
    """Samples ``start .. stop-1`` of dataset ``name`` as float32 arrays, and the seconds the solves took."""
    t0 = time.perf_counter()
    arrays = _MAKERS[name]([np.random.default_rng([seed, i]) for i in range(start, stop)], resolution, **opts)
    seconds = time.perf_counter() - t0
    return {k: v.astype(np.float32) for k, v in arrays.items()}, seconds


def _chunks_in_order(name, seed, samples, resolution, opts, block, workers):
    """``(start, stop, arrays, seconds)`` for blocks of ``block`` samples in index order; ``workers > 1``: solved
    in that many spawned processes, at most ``2 * workers`` blocks in flight (bounded memory)."""
    bounds = [(a, min(a + block, samples)) for a in range(0, samples, block)]
    if workers == 1:
        for a, b in bounds:
            yield (a, b, *_solve_chunk(name, seed, a, b, resolution, opts))
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: deque = deque()
        todo = iter(bounds)
        for a, b in todo:
            pending.append((a, b, pool.submit(_solve_chunk, name, seed, a, b, resolution, opts)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            a, b, fut = pending.popleft()
            arrays, seconds = fut.result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((*nxt, pool.submit(_solve_chunk, name, seed, *nxt, resolution, opts)))
            yield a, b, arrays, seconds


def generate_dataset(name: str, samples: int, resolution: int, out: str | os.PathLike, seed: int = 0,
                     quiet: bool = False, chunk: int = 16, workers: int = 1, **options) -> Path:
    """Generate ``samples`` solutions of dataset ``name`` at ``resolution`` points per axis into ``out``.

    ``options`` override the PDE/solver parameters listed in the module docstring (e.g. ``stride``,
    ``nu``, ``final_time``). ``workers``: processes solving chunks in parallel (1: in this process); the
    samples are the same for any number. Returns the path written.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if samples < 1 or resolution < 4:
        raise ValueError(f"need samples >= 1 and resolution >= 4, got samples={samples}, resolution={resolution}")
    unknown = set(options) - set(_DEFAULTS[name]) - {"dt"}
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)} for {name!r}; allowed: {sorted(_DEFAULTS[name])}")
    if int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    workers = min(int(workers), samples)
    block = chunk if workers == 1 else min(chunk, -(-samples // workers))  # samples per solve: every worker busy
    opts = {**_DEFAULTS[name], **options}
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    prog = Progress(f"dataset {name}", samples, quiet)
    solve_time = 0.0
    with h5py.File(tmp, "w") as f:
        for start, stop, arrays, seconds in _chunks_in_order(name, seed, samples, resolution, opts, block, workers):
            solve_time += seconds
            for key, arr in arrays.items():
                if key not in f:
                    f.create_dataset(key, shape=(samples, *arr.shape[1:]), dtype="f4",
                                     chunks=(min(chunk, samples), *arr.shape[1:]))
                f[key][start:stop] = arr
            prog.update(stop)
        for key, arr in _coords(name, resolution, opts).items():
            f.create_dataset(key, data=arr.astype(np.float32))
        f.attrs.update({"pde": name, "samples": samples, "resolution": resolution, "seed": seed,
                        "solver_seconds_per_sample": solve_time / samples, "pdekit_layout": 1,
                        **{k: v for k, v in opts.items() if v is not None}, **_IO[name]})
    os.replace(tmp, out)
    return out


def load_pairs(path: str | os.PathLike, start: int = 0, stop: int | None = None, stride: int = 1):
    """Read input/output pairs as float32 tensors ``x: (N, C_in, *S)``, ``y: (N, C_out, *S)``.

    Darcy: ``x = nu[:, None]``, ``y = tensor``. Time series (``tensor`` of shape ``(N, T, *S)``): the first
    ``input_steps`` snapshots are the input channels and the rest the output channels (Burgers:
    ``u0 -> u(t_1..t_T)``; Navier-Stokes: ``w(0..9) -> w(10..T)``). ``stride`` subsamples space.
    Returns ``(x, y, attrs)``.
    """
    with h5py.File(path, "r") as f:
        attrs = dict(f.attrs)
        sl = slice(start, stop)
        if attrs["pde"] == "darcy":
            x = f["nu"][sl][:, None]
            y = f["tensor"][sl]
        else:
            data = f["tensor"][sl]
            k = int(attrs["input_steps"])
            x, y = data[:, :k], data[:, k:]
    space = (slice(None), slice(None)) + (slice(None, None, stride),) * (x.ndim - 2)
    return torch.from_numpy(np.ascontiguousarray(x[space])), torch.from_numpy(np.ascontiguousarray(y[space])), attrs

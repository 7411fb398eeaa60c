"""Neural Spectral Methods training on periodic Poisson ``-Lap u = s`` on the unit torus, without solution data.

Sources are random band-limited fields ``s = sum_{0 < |k|_inf < K} s_k e^{2 pi i k.x}``,
``s_k ~ CN(0, 1) (1 + |k|^2)^(-1)`` (real field, zero mean), drawn from an explicit generator.
The spectral residual of a predicted ``u`` is ``r_k = 4 pi^2 |k|^2 u_k - s_k`` and, by Parseval's identity,
``||r||_{L2}^2 = sum_k |r_k|^2`` exactly (no quadrature). The loss is the relative residual
``sum_k |r_k|^2 / sum_k |s_k|^2`` averaged over the batch (``norm="l2"``, the paper's loss) or the same
in the ``H^-2`` norm, weights ``(1 + 4 pi^2 |k|^2)^-2`` (``norm="h-2"``; for this operator it is equivalent to
the L2 error of ``u``, so the residual loss tracks the quantity reported); the exact solution
``u_k = s_k / (4 pi^2 |k|^2)``
is used only for evaluation. The mean mode ``u_0`` is invisible to the residual (the periodic problem fixes
``u`` up to a constant), so it is set to zero as a hard constraint (:func:`zero_mean`).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from .models.nsm import NSM, to_grid
from .progress import Progress
from .solvers.poisson import solve_poisson_periodic


def _wavenumbers(m: int, device=None):
    kx = torch.fft.fftfreq(2 * m, d=1.0 / (2 * m), device=device)
    kx = torch.cat([kx[:m], kx[m:]])  # rows: 0..m-1, -m..-1 (matches to_coef layout)
    ky = torch.arange(m + 1, device=device, dtype=kx.dtype)
    return kx[:, None], ky[None, :]


def poisson_sources(batch: int, m: int, k_max: int | None = None, generator: torch.Generator | None = None,
                    device=None) -> torch.Tensor:
    """Random source coefficients ``(batch, 1, 2m, m+1)`` complex64, band-limited to ``|k|_inf < k_max``."""
    k_max = k_max or m // 2
    kx, ky = _wavenumbers(m)
    amp = (1 + kx**2 + ky**2) ** -1.0
    mask = (kx.abs() < k_max) & (ky < k_max) & ((kx != 0) | (ky != 0))
    re = torch.randn(batch, 1, 2 * m, m + 1, generator=generator)
    im = torch.randn(batch, 1, 2 * m, m + 1, generator=generator)
    c = torch.complex(re, im) * (amp * mask)
    c[..., 0] = c[..., 0].real + 0j  # ky = 0 column: make the field real by symmetrising over the grid
    grid = to_grid(c, 2 * m)  # the real field this series defines (imaginary parts of the ky=0 column drop out)
    from .models.nsm import to_coef
    return to_coef(grid, m).to(device)


def poisson_residual(u: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Spectral residual coefficients ``4 pi^2 |k|^2 u_k - s_k`` (same layout as ``u``)."""
    kx, ky = _wavenumbers(u.shape[-1] - 1, u.device)
    return 4 * math.pi**2 * (kx**2 + ky**2) * u - s


def _weights(m: int, device) -> torch.Tensor:
    """Parseval weights of the half spectrum: columns ``0 < ky < M`` stand for two conjugate modes."""
    w = torch.full((m + 1,), 2.0, device=device)
    w[0] = 1.0
    w[-1] = 1.0
    return w


def spectral_norm2(c: torch.Tensor, sobolev: float = 0.0) -> torch.Tensor:
    """``||f||_{H^s}^2`` per sample from coefficients via Parseval (``s = 0``: L2): ``(B,)``."""
    w = _weights(c.shape[-1] - 1, c.device)
    if sobolev:
        kx, ky = _wavenumbers(c.shape[-1] - 1, c.device)
        w = w * (1 + 4 * math.pi**2 * (kx**2 + ky**2)) ** sobolev
    return (c.abs() ** 2 * w).reshape(c.shape[0], -1).sum(1)


def exact_poisson(s: torch.Tensor) -> torch.Tensor:
    kx, ky = _wavenumbers(s.shape[-1] - 1, s.device)
    k2 = 4 * math.pi**2 * (kx**2 + ky**2)
    return torch.where(k2 > 0, s / torch.where(k2 > 0, k2, 1.0), 0)


def zero_mean(u: torch.Tensor) -> torch.Tensor:
    """Hard constraint ``u_0 = 0``: the residual never sees the mean mode, so it is fixed, not learned."""
    u = u.clone()
    u[..., 0, 0] = 0
    return u


def fit_residual(batch_loss, opt: torch.optim.Optimizer, sched, steps: int, prog: Progress) -> torch.Tensor:
    """``steps`` optimiser steps on ``batch_loss()`` (a fresh batch each call, a scalar tensor); returns the
    last loss (detached). The host reads the loss only when a progress line is printed."""
    loss = torch.tensor(float("nan"))
    for step in range(steps):
        loss = batch_loss()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        prog.update(step + 1, lambda value=loss: f"residual {value.item():.2e}")
    return loss.detach()


def train_nsm_poisson(n_modes: int = 16, steps: int = 2000, batch: int = 32, lr: float = 3e-3, seed: int = 0,
                      device="cpu", quiet: bool = False, model: NSM | None = None, n_test: int = 128,
                      norm: str = "h-2") -> dict:
    """Train an :class:`NSM` on periodic Poisson with the spectral residual loss only.

    Returns ``{"model", "test_rel_l2", "residual_loss", "seconds", "inference_seconds_per_sample"}``.
    """
    if norm not in ("l2", "h-2"):
        raise ValueError(f"norm must be 'l2' or 'h-2', got {norm!r}")
    sob = 0.0 if norm == "l2" else -2.0
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = (model or NSM(1, 1, n_modes=n_modes, hidden_channels=16, n_layers=2)).to(device)
    scale = 1.0 / (4 * math.pi**2)  # fixed output scale (u ~ s / (4 pi^2 |k|^2))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    prog = Progress("nsm poisson", steps, quiet)
    t0 = time.perf_counter()

    def batch_loss():
        s = poisson_sources(batch, n_modes, generator=gen, device=device)
        r = poisson_residual(zero_mean(scale * net(s)), s)
        return (spectral_norm2(r, sob) / spectral_norm2(s, sob)).mean()

    loss = fit_residual(batch_loss, opt, sched, steps, prog)
    seconds = time.perf_counter() - t0
    s_test = poisson_sources(n_test, n_modes, generator=torch.Generator().manual_seed(seed + 10_000), device=device)
    with torch.no_grad():
        u = zero_mean(scale * net(s_test))
        t1 = time.perf_counter()
        u2 = to_grid(zero_mean(scale * net(s_test)), 2 * n_modes)
        t_inf = (time.perf_counter() - t1) / n_test
        ex = exact_poisson(s_test)
        err = (spectral_norm2(u - ex) / spectral_norm2(ex)).sqrt().mean().item()
    del u2
    return {"model": net, "test_rel_l2": err, "residual_loss": loss.item(), "seconds": seconds,
            "inference_seconds_per_sample": t_inf, "test_sources": s_test}


def fd_solver_at_accuracy(s: torch.Tensor, target: float, grids=(16, 32, 64, 128, 256)) -> dict:
    """Smallest 5-point finite-difference grid whose error vs the exact solution is <= ``target``.

    ``s``: source coefficients ``(B, 1, 2M, M+1)``. Returns ``{"grid", "rel_l2", "seconds_per_sample"}``
    (timing includes the sparse LU factorisation once and one solve per sample).
    """
    m = s.shape[-1] - 1
    for g in grids:
        if g < 2 * m:
            continue
        f = to_grid(s, g)[:, 0].double().numpy()
        exact = to_grid(exact_poisson(s), g)[:, 0].double().numpy()
        t0 = time.perf_counter()
        u = solve_poisson_periodic(f, method="fd")
        dt = (time.perf_counter() - t0) / f.shape[0]
        err = float(np.mean(np.linalg.norm((u - exact).reshape(len(f), -1), axis=1)
                            / np.linalg.norm(exact.reshape(len(f), -1), axis=1)))
        if err <= target:
            return {"grid": g, "rel_l2": err, "seconds_per_sample": dt}
    return {"grid": grids[-1], "rel_l2": err, "seconds_per_sample": dt}

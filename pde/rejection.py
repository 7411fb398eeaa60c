"""Rejection sampling without host reads: fixed candidate counts from a measured acceptance rate.

A domain that is not its bounding box (a polygon, a composite of :mod:`pde.csg`) draws ``c`` candidates
and keeps the first ``n`` accepted ones. ``c`` comes from the acceptance rate ``p`` measured once per
domain (a probe of :data:`PROBE` points in float64 on the CPU, with its own fixed seed, so the caller's
generator is not consumed): the expected number kept ``k = c p`` satisfies ``k - 8 sqrt(k) >= n`` with
``p`` lowered by 3 standard errors of the probe, so fewer than ``n`` accepted candidates has probability
below 1e-15 (then the accepted ones are repeated, in order, rather than failing). Selection is a cumulative
sum and a ``searchsorted`` on the device: no boolean-mask indexing, no ``.item()``, so redrawing every
training step never waits on the host.
"""

from __future__ import annotations

import math

import torch

from .sampling import unit_cube

__all__ = ["PROBE", "acceptance", "candidates", "first_kept", "interior_by_rejection"]

#: number of probe points used to measure an acceptance rate
PROBE = 65_536


def acceptance(domain, key: str, probe) -> float:
    """Acceptance rate ``p`` of ``domain`` for ``key`` (cached on the domain), lowered by 3 standard errors.

    ``probe(m, generator)`` returns the keep mask ``(m,)`` of ``m`` float64 CPU candidates. Raises
    ``ValueError`` when no candidate is kept (an empty region).
    """
    cache = domain.__dict__.setdefault("_acceptance", {})
    if key not in cache:
        keep = probe(PROBE, torch.Generator().manual_seed(20240601))
        kept, m = int(keep.sum()), keep.numel()  # a host read, once per domain and key
        if kept == 0:
            raise ValueError(f"{key} of {_short(domain)} is empty: none of {m} points drawn in its "
                             "bounding box is kept")
        p = kept / m
        cache[key] = (p, max(p - 3.0 * math.sqrt(p * (1 - p) / m), 0.5 * p))
    return cache[key][1]


def measured_rate(domain, key: str) -> float | None:
    """The acceptance rate measured for ``key`` (not lowered), or None if not measured yet."""
    hit = domain.__dict__.get("_acceptance", {}).get(key)
    return None if hit is None else hit[0]


def _short(domain) -> str:
    text = repr(domain.describe())
    return text if len(text) < 200 else text[:197] + "..."


def candidates(n: int, p: float) -> int:
    """Candidate count ``c`` for ``n`` accepted points at acceptance rate ``p`` (see the module docstring)."""
    k = (4.0 + math.sqrt(16.0 + n)) ** 2
    return max(n, int(k / p) + 1)


def first_kept(keep: torch.Tensor, n: int) -> torch.Tensor:
    """Indices ``(n,)`` of the first ``n`` True entries of ``keep`` ``(c,)`` (repeated in order if fewer)."""
    cs = torch.cumsum(keep.to(torch.int64), 0)
    count = cs[-1:].clamp_min(1)
    want = torch.remainder(torch.arange(n, device=keep.device), count) + 1
    return torch.searchsorted(cs, want).clamp_(max=keep.shape[0] - 1)


def _bounding_box(domain):
    from .domain import Box

    box = domain.__dict__.get("_bounding_box")
    if box is None:
        box = domain.__dict__["_bounding_box"] = Box(*domain.bounds, names=domain.names)
    return box


def interior_by_rejection(domain, n: int, *, method="uniform", generator=None, device=None,
                          dtype=torch.float32) -> torch.Tensor:
    """``n`` points ``(n, d)`` of ``domain`` (its ``inside``), drawn in its bounding box and kept by rejection.

    Uniform and quasi-random ``method`` s alike (a quasi-random sequence keeps its order, so the kept
    points are the sequence's points that fall inside).
    """
    box = _bounding_box(domain)
    p = acceptance(domain, "interior", lambda m, g: domain.inside(
        box.sample_interior(m, generator=g, dtype=torch.float64)))
    if n == 0:
        return unit_cube(0, domain.dim, device=device, dtype=dtype)
    c = candidates(n, p)
    x = box.sample_interior(c, method=method, generator=generator, device=device, dtype=dtype)
    return x[first_kept(domain.inside(x), n)]

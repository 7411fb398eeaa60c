"""Point generators on the unit cube [0, 1)^d.

Every domain maps these onto itself, so that one set of generators serves
intervals, boxes, balls, space-time products and meshes.

Methods
-------
``"uniform"``  i.i.d. uniform draws from a ``torch.Generator`` (on the target device).
``"sobol"``    scrambled Sobol sequence (``torch.quasirandom.SobolEngine``, d <= 21201).
``"halton"``   scrambled Halton sequence (``scipy.stats.qmc.Halton``).
``"lhs"``      Latin hypercube (``scipy.stats.qmc.LatinHypercube``).

Quasi-random generators draw their scrambling seed from the generator passed in,
so a seeded generator gives a reproducible point set.
"""

from __future__ import annotations

import torch

METHODS = ("uniform", "sobol", "halton", "lhs")


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown sampling method {method!r}; allowed: {', '.join(METHODS)}")
    return method


def _seed_from(generator: torch.Generator | None) -> int:
    """Draw a 31-bit seed from ``generator`` (consumes one random number)."""
    if generator is None:
        return int(torch.randint(0, 2**31 - 1, (1,)).item())
    return int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device).item())


def unit_cube(
    n: int,
    d: int,
    *,
    method: str = "uniform",
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Return ``n`` points in ``[0, 1)^d`` as a tensor of shape ``(n, d)``.

    ``generator`` must live on ``device`` when both are given (as ``torch.rand``
    requires); quasi-random methods are generated on the host and moved once.
    """
    check_method(method)
    if n < 0:
        raise ValueError(f"number of points must be >= 0, got {n}")
    if d < 1:
        raise ValueError(f"dimension must be >= 1, got {d}")
    if device is None and generator is not None:
        device = generator.device
    if method == "uniform":
        return torch.rand(n, d, generator=generator, device=device, dtype=dtype)
    seed = _seed_from(generator)
    if method == "sobol":
        if d > torch.quasirandom.SobolEngine.MAXDIM:
            raise ValueError(
                f"sobol sampling supports d <= {torch.quasirandom.SobolEngine.MAXDIM}, got d={d}; "
                "use method='uniform' or 'lhs'"
            )
        eng = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed)
        pts = eng.draw(n, dtype=torch.float64)
    else:
        from scipy.stats import qmc

        eng = qmc.Halton(d, scramble=True, seed=seed) if method == "halton" else qmc.LatinHypercube(d, seed=seed)
        pts = torch.from_numpy(eng.random(n))
    return pts.to(device=device, dtype=dtype)

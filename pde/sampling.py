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

__all__ = ["METHODS", "SobolStream", "check_method", "unit_cube"]


class SobolStream:
    """A scrambled Sobol sequence drawn on the device, block after block (no host read, no host-to-device copy).

    Pass it as ``method`` to :func:`unit_cube` (and so to any domain's ``sample_*``): each call returns the next
    ``n`` points of the sequence in ``d`` dimensions (one scrambled sequence per ``d``, seeded from ``seed`` and
    ``d``; its direction numbers and digital shift are moved to the device once). Point ``k`` is
    ``(shift XOR (XOR over the set bits j of gray(k) of v_j)) / 2^30`` with ``gray(k) = k XOR (k >> 1)``:
    exactly ``torch.quasirandom.SobolEngine(d, scramble=True, seed=...)``'s points, in its order. ``index``
    (per ``d``) is the number of points drawn so far (a host integer; ``state_dict`` stores it).
    """

    MAXBIT = torch.quasirandom.SobolEngine.MAXBIT

    def __init__(self, seed: int):
        self.seed = int(seed)
        self.index: dict[int, int] = {}
        self._tables: dict = {}

    def _table(self, d: int, device: torch.device):
        key = (d, device)
        if key not in self._tables:
            if d > torch.quasirandom.SobolEngine.MAXDIM:
                raise ValueError(f"sobol sampling supports d <= {torch.quasirandom.SobolEngine.MAXDIM}, got d={d}")
            eng = torch.quasirandom.SobolEngine(d, scramble=True, seed=(self.seed + 7919 * d) % (2**31 - 1))
            self._tables[key] = (eng.sobolstate[:, :self.MAXBIT].t().contiguous().to(device), eng.shift.to(device))
        return self._tables[key]

    def draw(self, n: int, d: int, device=None, dtype=torch.float32) -> torch.Tensor:
        """The next ``n`` points ``(n, d)`` in ``[0, 1)^d`` on ``device``."""
        device = torch.device(device) if device is not None else torch.device("cpu")
        v, shift = self._table(d, device)  # (MAXBIT, d), (d,)
        start = self.index.get(d, 0)
        if start + n > 2 ** self.MAXBIT:
            raise ValueError(f"sobol stream exhausted: {start + n} points asked, at most 2^{self.MAXBIT}")
        self.index[d] = start + n
        k = torch.arange(start, start + n, device=device, dtype=torch.int64)
        gray = torch.bitwise_xor(k, k >> 1)
        acc = shift.expand(n, d).clone()
        for j in range(max(1, (start + n).bit_length())):
            acc ^= ((gray >> j) & 1)[:, None] * v[j]
        return (acc.to(torch.float64) * 2.0 ** -self.MAXBIT).to(dtype)

    def state_dict(self) -> dict[str, torch.Tensor]:
        dims = sorted(self.index)
        return {"seed": torch.tensor(self.seed, dtype=torch.int64),
                "dims": torch.tensor(dims, dtype=torch.int64),
                "index": torch.tensor([self.index[d] for d in dims], dtype=torch.int64)}

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> SobolStream:
        out = cls(int(state["seed"]))
        out.index = {int(d): int(i) for d, i in zip(state["dims"].reshape(-1).tolist(),
                                                    state["index"].reshape(-1).tolist())}
        return out


def check_method(method) -> str | SobolStream:
    if isinstance(method, SobolStream):
        return method
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
    method: str | SobolStream = "uniform",
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Return ``n`` points in ``[0, 1)^d`` as a tensor of shape ``(n, d)``.

    ``generator`` must live on ``device`` when both are given (as ``torch.rand``
    requires); quasi-random methods are generated on the host and moved once (a seed read from
    ``generator`` and a host-to-device copy per call), except a :class:`SobolStream` passed as ``method``,
    which draws on the device.
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
    if isinstance(method, SobolStream):
        return method.draw(n, d, device=device, dtype=dtype)
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

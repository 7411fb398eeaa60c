"""Minimal progress reporting to stderr (silenced with ``quiet=True``)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Prints ``label: done/total (rate/s, eta) extra`` lines to stderr at most every ``every`` seconds."""

    def __init__(self, label: str, total: int, quiet: bool = False, every: float = 2.0):
        self.label, self.total, self.quiet, self.every = label, total, quiet, every
        self.t0 = time.perf_counter()
        self.last = -1e9

    def update(self, done: int, extra="", force: bool = False) -> None:
        """Report ``done``; ``extra`` is a string or a callable returning one, called only when a line is
        printed (so a device value read inside it, ``lambda: f"{loss.item():.2e}"``, costs no per-step sync)."""
        if self.quiet:
            return
        now = time.perf_counter()
        if not force and now - self.last < self.every and done < self.total:
            return
        self.last = now
        if callable(extra):
            extra = extra()
        rate = done / max(now - self.t0, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        print(f"{self.label}: {done}/{self.total} ({rate:.2f}/s, eta {eta:.0f}s) {extra}".rstrip(),
              file=sys.stderr, flush=True)

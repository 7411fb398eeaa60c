"""Progress display: step, loss terms, steps per second and time left, on stderr."""

from __future__ import annotations

import sys
import time


def _fmt_time(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"


class Progress:
    """Prints one line per report; ``quiet=True`` silences it."""

    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self._t = time.perf_counter()
        self._step = 0

    def start(self, phase: str, step: int, total: int):
        self._t, self._step = time.perf_counter(), step
        self.phase, self.total = phase, total
        if not self.quiet:
            print(f"[{phase}] {total - step} steps", file=self.stream, flush=True)

    def report(self, step: int, loss: float, terms: dict[str, float], extra: str = ""):
        now = time.perf_counter()
        rate = (step - self._step) / max(now - self._t, 1e-9)
        self._t, self._step = now, step
        if self.quiet:
            return
        left = (self.total - step) / rate if rate > 0 else float("inf")
        parts = " ".join(f"{k} {v:.2e}" for k, v in terms.items())
        eta = _fmt_time(left) if left != float("inf") else "?"
        print(f"[{self.phase}] step {step}/{self.total}  loss {loss:.3e} ({parts})  {rate:.0f} it/s  "
              f"left {eta}{'  ' + extra if extra else ''}", file=self.stream, flush=True)

    def count(self, label: str, total: int, every: float = 2.0):
        """Count ``total`` units of work (epochs, samples) under ``label``; :meth:`update` reports them."""
        self.label, self.total, self.every = label, int(total), float(every)
        self._t0, self._last = time.perf_counter(), -1e9
        return self

    def update(self, done: int, extra="", force: bool = False):
        """``label: done/total (rate/s, eta) extra``, at most every ``every`` s (always the last one).

        ``extra``: a string or a callable returning one, called only when a line is printed, so a device
        value read inside it (``lambda: f"{loss.item():.2e}"``) costs no synchronisation per update.
        """
        if self.quiet:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.every and done < self.total:
            return
        self._last = now
        text = extra() if callable(extra) else extra
        rate = done / max(now - self._t0, 1e-9)
        eta = _fmt_time((self.total - done) / rate) if rate > 0 else "?"
        print(f"{self.label}: {done}/{self.total} ({rate:.2f}/s, left {eta}) {text}".rstrip(), file=self.stream,
              flush=True)

    def message(self, text: str, force: bool = False):
        """Print ``text`` (unless quiet; ``force=True``: also when quiet, for warnings a user must see)."""
        if force or not self.quiet:
            print(text, file=self.stream, flush=True)

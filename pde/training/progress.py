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

    def message(self, text: str):
        if not self.quiet:
            print(text, file=self.stream, flush=True)

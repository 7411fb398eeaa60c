"""Operators use pdekit's one progress display (:class:`pde.training.progress.Progress`).

``Progress(label, total, quiet)`` is that class, counting ``total`` units (epochs, samples, steps)
with :meth:`~pde.training.progress.Progress.update`.
"""

from __future__ import annotations

from pde.training.progress import Progress as _Progress

__all__ = ["Progress"]


class Progress(_Progress):
    """:class:`pde.training.progress.Progress` set up to count ``total`` units under ``label``."""

    def __init__(self, label: str, total: int, quiet: bool = False, every: float = 2.0, stream=None):
        super().__init__(quiet=quiet, stream=stream)
        self.count(label, total, every)

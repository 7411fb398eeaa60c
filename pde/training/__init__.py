"""The training loop: loss terms, causal weighting, Adam then L-BFGS, progress, checkpoints."""

from .callbacks import AbstractCallback, Checkpointer, HistoryRecorder, NaNGuard, ProgressDisplay, SamplerUpdater
from .lbfgs import DeviceLBFGS
from .losses import CausalWeighting, LossTerms
from .trainer import ResumeDeviceError, Settings, Trainer, TrainingDiverged


def resume(path, steps=None, *, quiet=False, device=None, model=None, callbacks=(), reduction=None):
    """Continue a stored run; see :func:`pde.training.resuming.resume`."""
    from .resuming import resume as _resume

    return _resume(path, steps, quiet=quiet, device=device, model=model, callbacks=callbacks, reduction=reduction)


__all__ = ["AbstractCallback", "Checkpointer", "HistoryRecorder", "NaNGuard", "ProgressDisplay", "SamplerUpdater",
           "CausalWeighting", "DeviceLBFGS", "LossTerms", "Settings", "ResumeDeviceError", "Trainer",
           "TrainingDiverged", "resume"]

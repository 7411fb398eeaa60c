"""The training loop and its parts: loss terms and weightings, optimiser phases, callbacks, resume."""

from .callbacks import (
    AbstractCallback,
    CausalSchedule,
    Checkpointer,
    HistoryRecorder,
    ImbalanceWarning,
    NaNGuard,
    ProgressDisplay,
    SamplerUpdater,
)
from .lbfgs import DeviceLBFGS
from .losses import CausalWeighting, LossTerms
from .phases import AbstractPhase, AdamPhase, LBFGSPhase, default_phases
from .trainer import ResumeDeviceError, Settings, Trainer, TrainingDiverged
from .weighting import AbstractLossWeighting, FixedWeights, GradientNormBalancing


def resume(path, steps=None, *, quiet=False, device=None, model=None, callbacks=(), reduction=None,
           communicator=None):
    """Continue a stored run; see :func:`pde.training.resuming.resume`."""
    from .resuming import resume as _resume

    return _resume(path, steps, quiet=quiet, device=device, model=model, callbacks=callbacks, reduction=reduction,
                   communicator=communicator)


__all__ = ["AbstractCallback", "CausalSchedule", "Checkpointer", "HistoryRecorder", "ImbalanceWarning", "NaNGuard",
           "ProgressDisplay", "SamplerUpdater", "AbstractPhase", "AdamPhase", "LBFGSPhase", "default_phases",
           "AbstractLossWeighting", "FixedWeights", "GradientNormBalancing", "CausalWeighting", "DeviceLBFGS",
           "LossTerms", "Settings", "ResumeDeviceError", "Trainer", "TrainingDiverged", "resume"]

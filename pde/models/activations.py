"""Activation functions by name.

Every activation is a plain differentiable torch function (no in-place ops, no custom
autograd, no scripting), so that tensor subclasses using ``__torch_function__`` (the
Taylor-mode jets of :mod:`pde.derivatives`) flow through a model unchanged.

``relu`` is offered for completeness but is unsuitable for PINNs whose residual has
second (or higher) derivatives: its second derivative is zero almost everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["ACTIVATIONS", "activation"]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "sin": torch.sin,
    "softplus": F.softplus,
    "gelu": F.gelu,
    "silu": F.silu,
    "relu": F.relu,
}


def activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The activation function called ``name`` (one of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}") from None

"""Fully connected PINN models: the plain MLP and the modified MLP of Wang, Teng & Perdikaris.

Both start with :class:`~pde.models.embeddings.InputMap` (normalisation of the bounding
box to ``[-1, 1]^d`` and optional embeddings), mapping ``x`` ``(N, d)`` to ``X`` ``(N, k)``.
Weights use Xavier/Glorot-normal initialisation and biases start at zero (``init="xavier_normal"``);
``init="xavier_uniform"`` and ``init="torch"`` (PyTorch's ``nn.Linear`` default: weights and biases
uniform in ``+-1/sqrt(fan_in)``, what many reference PINN codes use) are the alternatives. The forward pass
uses only ``F.linear``, the activation and ``+ - *`` so Taylor-mode jets can flow through it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .activations import activation as _activation
from .base import AbstractPINN, register_model
from .embeddings import InputMap, embedding_list

__all__ = ["MLP", "ModifiedMLP"]


INITS = ("xavier_normal", "xavier_uniform", "torch")


def _linear(n_in: int, n_out: int, init: str = "xavier_normal") -> nn.Linear:
    lin = nn.Linear(n_in, n_out)  # "torch": keep nn.Linear's own initialisation
    if init != "torch":
        (nn.init.xavier_normal_ if init == "xavier_normal" else nn.init.xavier_uniform_)(lin.weight)
        nn.init.zeros_(lin.bias)
    return lin


def _positive_int(cls: str, name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{cls} {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class _FullyConnected(AbstractPINN):
    """Shared options, input map and serialisation of the two MLPs."""

    min_depth = 1

    def __init__(self, width: int = 64, depth: int = 4, activation: str = "tanh", embedding=None,
                 normalize: bool = True, init: str = "xavier_normal"):
        super().__init__()
        cls = type(self).__name__
        if init not in INITS:
            raise ValueError(f"{cls} init must be one of {', '.join(INITS)}, got {init!r}")
        self.init = init
        self.width = _positive_int(cls, "width", width)
        self.depth = _positive_int(cls, "depth", depth, self.min_depth)
        self.activation = activation
        self._act = _activation(activation)
        self.input = InputMap(embedding_list(embedding), normalize)

    def options(self):
        return {"width": self.width, "depth": self.depth, "activation": self.activation,
                "embedding": [e.spec() for e in self.input.embeddings] or None,
                "normalize": self.input.normalize, "init": self.init}

    def _build_trunk(self, names, lower, upper, n_fields) -> int:
        """Input map, ``depth`` hidden layers and the output layer; returns the input width ``k``."""
        k = self.input.build(names, lower, upper)
        sizes = [k] + [self.width] * self.depth
        self.hidden = nn.ModuleList(_linear(a, b, self.init) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.out = _linear(self.width, n_fields, self.init)
        return k

    @property
    def satisfies(self) -> tuple[str, ...]:
        if not self.built:
            return ()
        names, lo, hi, _ = self._dims
        return self.input.satisfies(names, list(lo), list(hi))


@register_model("mlp")
class MLP(_FullyConnected):
    """Multilayer perceptron: ``depth`` hidden layers of ``width`` units.

    ``H_0 = X``, ``H_{l} = s(H_{l-1} W_l + b_l)`` for ``l = 1..depth``, output ``H_depth W + b``
    of shape ``(N, n_fields)``; ``X`` ``(N, k)`` is the input map's output (see module doc).

    ``embedding``: None, a :class:`FourierFeatures`/:class:`PeriodicEmbedding` (copied), a
    ``{"type", "options"}`` dict, or a list of those on disjoint coordinates.
    ``normalize``: map the bounding box onto ``[-1, 1]^d`` before the (non-periodic) layers.
    ``init``: ``"xavier_normal"`` (default), ``"xavier_uniform"`` or ``"torch"`` (see module doc).
    """

    def _build(self, names, lower, upper, n_fields):
        self._build_trunk(names, lower, upper, n_fields)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, d) -> (N, n_fields)``."""
        if self._dims is None:
            self._check_built()
        h = self.input(x)
        act = self._act
        for lin in self.hidden:
            h = act(F.linear(h, lin.weight, lin.bias))
        return F.linear(h, self.out.weight, self.out.bias)


@register_model("modified_mlp")
class ModifiedMLP(_FullyConnected):
    """Modified MLP of Wang, Teng & Perdikaris (2021), "Understanding and mitigating gradient
    pathologies in physics-informed neural networks", SIAM J. Sci. Comput. 43(5).

    With ``X`` ``(N, k)`` the input map's output and ``s`` the activation::

        U = s(X W_u + b_u),  V = s(X W_v + b_v),  H_1 = s(X W_1 + b_1)
        Z_l = s(H_l W_{l+1} + b_{l+1}),  H_{l+1} = (1 - Z_l) * U + Z_l * V,   l = 1..depth-1
        output = H_depth W + b                                                  (N, n_fields)

    so ``depth`` (>= 2) counts the hidden layers ``H_1..H_depth`` as in :class:`MLP`, plus the
    two encoders ``U`` and ``V``. The gate is computed as ``U + Z * (V - U)`` (same value).
    """

    min_depth = 2

    def _build(self, names, lower, upper, n_fields):
        k = self._build_trunk(names, lower, upper, n_fields)
        self.encode_u = _linear(k, self.width, self.init)
        self.encode_v = _linear(k, self.width, self.init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, d) -> (N, n_fields)``."""
        if self._dims is None:
            self._check_built()
        X = self.input(x)
        act = self._act
        u = act(F.linear(X, self.encode_u.weight, self.encode_u.bias))
        v = act(F.linear(X, self.encode_v.weight, self.encode_v.bias))
        first = self.hidden[0]
        h = act(F.linear(X, first.weight, first.bias))
        vu = v - u
        for lin in self.hidden[1:]:
            z = act(F.linear(h, lin.weight, lin.bias))
            h = u + z * vu
        return F.linear(h, self.out.weight, self.out.bias)

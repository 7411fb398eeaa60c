"""``PINN(...)``: the one-line way to get an (unbuilt) MLP or modified MLP."""

from __future__ import annotations

from collections.abc import Mapping

from .embeddings import FourierFeatures, PeriodicEmbedding
from .mlp import MLP, ModifiedMLP

__all__ = ["PINN"]

_ARCHS = {"mlp": MLP, "modified": ModifiedMLP, "modified_mlp": ModifiedMLP}


def PINN(width: int = 64, depth: int = 4, activation: str = "tanh", arch: str = "mlp",
         fourier_features=None, periodic=None, normalize: bool = True,
         init: str = "xavier_normal") -> MLP | ModifiedMLP:
    """An unbuilt :class:`MLP` (``arch="mlp"``) or :class:`ModifiedMLP` (``arch="modified"``).

    ``fourier_features``: None, a number of features (scale 1), a dict of
    :class:`FourierFeatures` arguments, or an instance; it embeds every coordinate that
    ``periodic`` does not. ``periodic``: None, ``{"x": period, ...}`` (one harmonic), a dict
    ``{"periods": {...}, "n_harmonics": K}``, or a :class:`PeriodicEmbedding`.
    ``init``: weight initialisation, ``"xavier_normal"``, ``"xavier_uniform"`` or ``"torch"``.
    Build the result with ``model.build(domain, n_fields)``.
    """
    if arch not in _ARCHS:
        raise ValueError(f"unknown PINN arch {arch!r}; allowed: mlp, modified")
    emb = []
    if periodic is not None:
        if isinstance(periodic, PeriodicEmbedding):
            emb.append(periodic)
        elif isinstance(periodic, Mapping):
            emb.append(PeriodicEmbedding(**periodic) if "periods" in periodic else PeriodicEmbedding(periodic))
        else:
            raise ValueError(f"periodic must be a dict {{'x': period}} or a PeriodicEmbedding, got {periodic!r}")
    if fourier_features is not None:
        if isinstance(fourier_features, FourierFeatures):
            emb.append(fourier_features)
        elif isinstance(fourier_features, Mapping):
            emb.append(FourierFeatures(**fourier_features))
        elif isinstance(fourier_features, int) and not isinstance(fourier_features, bool):
            emb.append(FourierFeatures(n_features=fourier_features))
        else:
            raise ValueError("fourier_features must be a number of features, a dict of FourierFeatures "
                             f"arguments or a FourierFeatures, got {fourier_features!r}")
    return _ARCHS[arch](width=width, depth=depth, activation=activation, embedding=emb or None,
                        normalize=normalize, init=init)

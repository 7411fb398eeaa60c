"""PINN models: coordinates ``(N, d)`` to fields ``(N, m)``.

Construct without dimensions, build for a domain, move with ``.to``::

    model = PINN(width=64, depth=4, periodic={"x": 2.0}).build(domain, n_fields=1).to("cuda", torch.float64)
    arch = model.architecture()                    # JSON-able
    copy = from_architecture(arch)                 # identical, built
    copy.load_state_dict(model.state_dict())       # same weights

Modules: :mod:`.base` (base class, registry, rebuild), :mod:`.mlp` (MLP, ModifiedMLP),
:mod:`.embeddings` (Fourier features, periodic embedding), :mod:`.transforms` and
:mod:`.hard_conditions` (hard constraints), :mod:`.activations`, :mod:`.factory` (``PINN``).
"""

from .activations import ACTIVATIONS
from .base import MODELS, WRAPPERS, AbstractPINN, from_architecture, register_model
from .embeddings import EMBEDDINGS, AbstractEmbedding, FourierFeatures, PeriodicEmbedding
from .factory import PINN
from .hard_conditions import HardConditions
from .mlp import MLP, ModifiedMLP
from .transforms import TRANSFORMS, OutputTransform, ZeroOnBoxBoundary

__all__ = [
    "ACTIVATIONS", "AbstractEmbedding", "AbstractPINN", "EMBEDDINGS", "FourierFeatures", "HardConditions", "MLP",
    "MODELS",
    "ModifiedMLP", "OutputTransform", "PINN", "PeriodicEmbedding", "TRANSFORMS", "ZeroOnBoxBoundary",
    "WRAPPERS", "from_architecture", "register_model",
]

"""Name -> class registries for problems, models, samplers and derivative engines.

The packages that define the classes own their registry dicts (``problems.REGISTRY``,
``samplers.REGISTRY``, ``pde.models.MODELS``, ``pde.derivatives.ENGINES``); this module
imports them lazily so ``pde`` never depends on the other packages at import time.
A user's own class is named ``module.path:ClassName`` or ``path/to/file.py:ClassName``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys


class UnknownName(ValueError):
    """A name that no registry knows."""


def _load_spec(spec: str):
    """Load ``module:attr`` or ``file.py:attr``."""
    mod_name, _, attr = spec.rpartition(":")
    if mod_name.endswith(".py") or os.sep in mod_name:
        if not os.path.isfile(mod_name):
            raise UnknownName(f"no such file {mod_name!r} (from {spec!r})")
        name = "_pdekit_user_" + os.path.splitext(os.path.basename(mod_name))[0]
        module_spec = importlib.util.spec_from_file_location(name, mod_name)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(mod_name)
        except ModuleNotFoundError as e:
            raise UnknownName(f"cannot import module {mod_name!r} (from {spec!r}): {e}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UnknownName(f"module {mod_name!r} has no attribute {attr!r}") from None


def problems() -> dict:
    import problems as _p

    return dict(_p.REGISTRY)


def samplers() -> dict:
    try:
        import samplers as _s

        reg = dict(getattr(_s, "REGISTRY", {}))
    except ImportError:  # pragma: no cover - samplers ships with pdekit
        reg = {}
    if "uniform" not in reg:
        from .collocation import RandomSampler

        reg["uniform"] = RandomSampler
    return reg


def models() -> dict:
    from .models import MODELS

    return dict(MODELS)


def engines() -> dict:
    from . import derivatives

    reg = dict(getattr(derivatives, "ENGINES", {}))
    reg.setdefault("autograd", derivatives.Autograd)
    return reg


KINDS = {"problem": problems, "model": models, "sampler": samplers, "engine": engines}


def lookup(kind: str, name: str):
    """The class registered as ``name`` for ``kind`` (or loaded from ``module:Class``)."""
    if ":" in name:
        return _load_spec(name)
    reg = KINDS[kind]()
    if name not in reg:
        raise UnknownName(f"unknown {kind} {name!r}; allowed: {', '.join(sorted(reg))}")
    return reg[name]

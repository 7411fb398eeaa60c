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
        try:
            module_spec.loader.exec_module(module)
        except Exception as e:  # the user's file: a syntax error or a failing import is a bad input
            sys.modules.pop(name, None)
            raise UnknownName(f"cannot load {mod_name!r} (from {spec!r}): {type(e).__name__}: "
                              f"{str(e).splitlines()[0] if str(e) else ''}") from e
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

_BASES = {"problem": ("pde.problem", "AbstractProblem"), "model": ("torch.nn", "Module"),
          "sampler": ("pde.collocation", "AbstractSampler"), "engine": ("pde.derivatives.base",
                                                                      "AbstractDerivativeEngine")}


def _check_kind(kind: str, obj, name: str):
    """A class loaded from ``module:Class`` must be a subclass of the kind's base class."""
    mod, cls = _BASES[kind]
    base = getattr(importlib.import_module(mod), cls)
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise UnknownName(f"{name!r} is {type(obj).__name__} {getattr(obj, '__name__', obj)!r}, not a {kind} "
                          f"class (a subclass of {cls})")
    return obj


def lookup(kind: str, name: str):
    """The class registered as ``name`` for ``kind`` (or loaded from ``module:Class``)."""
    if ":" in name:
        return _check_kind(kind, _load_spec(name), name)
    reg = KINDS[kind]()
    if name not in reg:
        raise UnknownName(f"unknown {kind} {name!r}; allowed: {', '.join(sorted(reg))}")
    return reg[name]


#: run-file kind -> the handler of runs of that kind: an object (or a ``"module"`` / ``"module:attr"`` spec,
#: imported on first use) with ``load_run(data, path, *, device, model) -> pde.Run`` (``data``: what
#: :func:`pde.store.read_run` returns) and ``validate_command(args) -> int`` (``pde validate`` of such a run).
#: PINN runs are pde's own (handled in :mod:`pde.store` and :mod:`pde.commands.validate`); ``operator``
#: runs belong to the ``operators`` package, which ``pde`` reaches only through this entry.
RUN_KINDS: dict[str, object] = {"operator": "operators.runfile"}


def register_run_kind(kind: str, handler) -> None:
    """Register the handler (object or ``"module[:attr]"`` spec) of run files whose ``kind`` is ``kind``."""
    RUN_KINDS[str(kind)] = handler


def run_kind(kind: str):
    """The handler registered for run ``kind`` (loading a spec string on first use)."""
    if kind not in RUN_KINDS:
        raise UnknownName(f"no handler for runs of kind {kind!r}; registered: {', '.join(sorted(RUN_KINDS))}")
    handler = RUN_KINDS[kind]
    if isinstance(handler, str):
        try:
            handler = _load_spec(handler) if ":" in handler else importlib.import_module(handler)
        except ModuleNotFoundError as e:
            raise UnknownName(f"the handler {handler!r} of {kind} runs cannot be imported: {e}") from None
        RUN_KINDS[kind] = handler
    return handler


#: command-line plugins: ``"module:function"`` specs of ``add_commands(subparsers)`` functions that add
#: subcommands to ``pde`` (the ``operators`` package's ``dataset`` and ``train``); a package that is not
#: installed is skipped.
COMMAND_PLUGINS: list[str] = ["operators.cli:add_commands"]


def register_commands(spec: str) -> None:
    """Add a ``"module:function"`` spec to :data:`COMMAND_PLUGINS` (called before :func:`pde.cli.main`)."""
    if spec not in COMMAND_PLUGINS:
        COMMAND_PLUGINS.append(spec)


def command_plugins() -> list:
    """The ``add_commands(subparsers)`` functions of :data:`COMMAND_PLUGINS` whose module imports."""
    out = []
    for spec in COMMAND_PLUGINS:
        module = spec.rpartition(":")[0]
        try:
            out.append(_load_spec(spec))
        except UnknownName:
            if importlib.util.find_spec(module.split(".")[0]) is None:  # the package is not installed
                continue
            raise
    return out

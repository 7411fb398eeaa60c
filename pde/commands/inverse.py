"""``pde solve``'s inverse-problem options: unknown parameters and observation data from ``--set`` / ``--data``.

    pde solve my.py:Burgers --data obs.mat --set nu.init=0.1 --set data.subset=2000 --set data.noise=0.01

* ``--set NAME.OPTION=VALUE`` for a problem parameter ``NAME`` declares (or changes) it as unknown
  (:class:`pde.unknowns.Unknown`): ``init``, ``positive``, ``bounds``, ``lr``, ``true``, ``transform``. A parameter
  whose default is a number becomes unknown with that number as its initial value unless ``init`` is given.
* ``--data FILE`` (repeatable) adds observations (:mod:`pde.observations`: ``.mat``, ``.npz``, ``.h5``, ``.csv``);
  ``--set data.OPTION=VALUE`` sets, for every file: ``fields`` (``u`` or ``u,v``), ``names`` (``x=xx,t=tt,u=usol``),
  ``derivative`` (``u,x``: the values are ``u_x``), ``subset``, ``noise``, ``weight``.
"""

from __future__ import annotations

import ast
import dataclasses

from ..unknowns import Unknown
from .checks import UsageError, input_file

__all__ = ["split_inverse_sets", "build_data", "UNKNOWN_OPTIONS", "DATA_OPTIONS"]

UNKNOWN_OPTIONS = tuple(f.name for f in dataclasses.fields(Unknown))
DATA_OPTIONS = ("fields", "names", "derivative", "subset", "noise", "weight")


def _number(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"--set {key}={text!r}: expected a number") from None


def _unknown_value(key: str, option: str, text: str):
    if option in ("init", "lr", "true"):
        return _number(key, text)
    if option == "positive":
        low = text.lower()
        if low not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise UsageError(f"--set {key}={text!r}: expected true or false")
        return low in ("1", "true", "yes", "on")
    if option == "bounds":
        try:
            value = ast.literal_eval(text)
            lo, hi = (float(v) for v in value)
        except (ValueError, SyntaxError, TypeError):
            raise UsageError(f"--set {key}={text!r}: expected a pair lo,hi such as (0,1)") from None
        return (lo, hi)
    return text  # transform


def _data_value(key: str, option: str, text: str):
    if option in ("fields", "derivative"):
        return tuple(t.strip() for t in text.split(",") if t.strip())
    if option == "names":
        from .validate import parse_arrays

        try:
            return parse_arrays(text)
        except ValueError:
            raise UsageError(f"--set {key}={text!r}: expected NAME=ARRAY pairs such as x=xx,t=tt,u=usol") from None
    if option == "subset":
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"--set {key}={text!r}: expected an integer") from None
    return _number(key, text)


def split_inverse_sets(items: list[str], problem_cls) -> tuple[list[str], dict, dict]:
    """``(other --set items, {parameter: Unknown}, data options)`` from the ``--set`` items.

    Raises :class:`UsageError` (one line) for an unknown option, a value of the wrong type or a declaration the
    :class:`~pde.unknowns.Unknown` refuses (bounds that exclude the initial value, ...).
    """
    defaults = {f.name: f.default for f in dataclasses.fields(problem_cls)} \
        if dataclasses.is_dataclass(problem_cls) else {}
    rest, per_param, data = [], {}, {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        head, dot, option = key.partition(".")
        if not sep or not dot:
            rest.append(item)
        elif head == "data":
            if option not in DATA_OPTIONS:
                raise UsageError(f"unknown data option {option!r}; allowed: {', '.join(DATA_OPTIONS)}")
            data[option] = _data_value(key, option, text)
        elif head in defaults:
            if option not in UNKNOWN_OPTIONS:
                raise UsageError(f"unknown option {option!r} for the unknown parameter {head!r}; allowed: "
                                 f"{', '.join(UNKNOWN_OPTIONS)}")
            per_param.setdefault(head, {})[option] = _unknown_value(key, option, text)
        else:
            rest.append(item)
    unknowns = {}
    for name, opts in per_param.items():
        base = defaults[name]
        if not isinstance(base, Unknown):
            if "init" not in opts and not isinstance(base, (int, float)):
                raise UsageError(f"--set {name}.init=VALUE is needed to make {name!r} unknown (its default "
                                 f"{base!r} is not a number)")
            base = Unknown(init=float(opts.get("init", base)) if isinstance(base, (int, float)) else opts["init"])
        try:
            unknowns[name] = dataclasses.replace(base, **opts)
        except ValueError as e:
            raise UsageError(f"--set {name}.*: {e}") from None
    return rest, unknowns, data


def build_data(paths: list[str] | None, options: dict, problem):
    """The observations of ``--data`` files with ``--set data.*`` options (checked against the problem)."""
    from ..observations import make_observations

    if options and not paths:
        raise UsageError(f"--set data.{next(iter(options))}=... needs --data FILE")
    if not paths:
        return None
    items = []
    for i, p in enumerate(paths):
        input_file("--data", p)
        kw = dict(options)
        if "derivative" in kw:
            kw.setdefault("column", "_".join(kw["derivative"]))
        items.append({"path": p, "name": "data" if len(paths) == 1 else f"data{i + 1}", **kw})
    return make_observations(items, problem)

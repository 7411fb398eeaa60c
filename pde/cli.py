"""The ``pde`` command line.

    pde list
    pde solve PROBLEM [--set NAME=VALUE ...] [--steps N] [--device cpu|cuda] [--seed S] [--out FILE] [--quiet]

Every argument of every command (``pde``'s own and the ``operators`` commands ``train`` and
``dataset``) is checked before the command runs (:mod:`pde.commands.checks`: paths, formats,
devices, integer ranges; ``--set`` names and types in :func:`parse_sets`), so bad input fails
before anything is trained or written. User errors (``ValueError`` and its subclasses such as
``RunFileError``, ``KeyError``, ``OSError``, ``ImportError``, argparse errors) print one line
``pde: error: ...`` on stderr and exit with code 2; any other exception prints one line and
exits with 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import datetime
import importlib
import inspect
import sys

from . import registry
from .commands.checks import UsageError, check_args
from .training.trainer import COMPILE_MODES

COMMAND_MODULES = ("show", "validate", "plot", "export", "resume")

# errors a user's input causes: one line, exit 2 (anything else: one line, exit 1, with a --debug hint)
EXPECTED_ERRORS = (ValueError, KeyError, OSError, ImportError)


class Parser(argparse.ArgumentParser):
    """``argparse`` parser whose errors raise :class:`UsageError` (one line) instead of printing the usage."""

    def error(self, message):
        prog = self.prog.removeprefix("pde").strip()  # "pde: error: solve: argument --steps: ..."
        raise UsageError(f"{prog}: {message}" if prog else message)


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _coerce(name: str, text: str, default):
    """Convert ``text`` to the type of ``default`` (bool, int, float, str, tuple/list)."""
    if default is None:
        return _literal(text)
    kind = type(default)
    try:
        if kind is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind is str:
            return text
        value = _literal(text)
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ValueError
            return value
        if isinstance(default, (tuple, list)) and not isinstance(value, (tuple, list)):
            value = (value,)
        return kind(value) if isinstance(default, (tuple, list)) else value
    except (ValueError, TypeError):
        raise UsageError(f"parameter {name}={text!r}: expected a value of type {kind.__name__}") from None


_PLAIN_TYPES = {"dict": dict, "None": type(None), "bool": bool, "int": int, "float": (int, float), "str": str,
                "tuple": tuple, "list": list}


def _check_annotation(name: str, text: str, value, annotation: str):
    """Refuse a ``--set`` value whose type the field's annotation (``CausalWeighting | dict | None``) excludes.

    Class names in the annotation cannot come from the command line; only the plain types listed
    in it are accepted. An annotation with no plain type is not checked.
    """
    import re

    plain = [_PLAIN_TYPES[t] for t in re.findall(r"\w+", annotation) if t in _PLAIN_TYPES]
    flat = tuple(t for p in plain for t in (p if isinstance(p, tuple) else (p,)))
    if flat and not isinstance(value, flat):
        raise UsageError(f"parameter {name}={text!r}: expected {annotation.replace('None', 'None (off)')}")
    return value


def parse_sets(items: list[str], problem_cls) -> tuple[dict, dict, dict, dict, dict]:
    """Split ``--set`` items into problem, sampler, model, settings and engine keyword arguments."""
    from .training.trainer import Settings

    problem_defaults = {f.name: f.default for f in dataclasses.fields(problem_cls)} \
        if dataclasses.is_dataclass(problem_cls) else {}
    settings_defaults = {f.name: (f.default if f.default is not dataclasses.MISSING else
                                  f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
                         for f in dataclasses.fields(Settings)}
    annotations = {f.name: str(f.type) for f in dataclasses.fields(Settings)}
    settings_defaults["n_interior"] = 2000
    prob, samp, model, sets, eng = {}, {}, {}, {}, {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
        key, text = item.split("=", 1)
        key = key.strip()
        if not key or key.endswith("."):
            raise UsageError(f"--set expects NAME=VALUE with a non-empty NAME, got {item!r}")
        if key.startswith("sampler."):  # kept as text: typed against the class's signature in _construct
            samp[key[8:]] = text
        elif key.startswith("model."):
            model[key[6:]] = text
        elif key.startswith("engine."):
            eng[key[7:]] = text
        elif key.startswith("train.") or key in settings_defaults and key not in problem_defaults:
            k = key.split(".", 1)[-1]
            if k not in settings_defaults:
                raise UsageError(f"unknown training setting {k!r}; allowed: {', '.join(sorted(settings_defaults))}")
            sets[k] = _check_annotation(key, text, _coerce(key, text, settings_defaults[k]), annotations.get(k, ""))
        elif key in problem_defaults:
            prob[key] = _coerce(key, text, problem_defaults[key])
        else:
            allowed = ", ".join(sorted(problem_defaults)) or "(none)"
            raise UsageError(f"unknown parameter {key!r} for problem {getattr(problem_cls, 'name', '?')!r}; "
                             f"parameters: {allowed}; training settings: train.NAME; sampler.NAME; model.NAME")
    return prob, samp, model, sets, eng


def _typed_options(kind: str, cls, texts: dict, given: dict | None = None) -> dict:
    """``--set KIND.NAME=TEXT`` values converted to the types of ``cls``'s keyword defaults.

    An unknown NAME (one ``cls`` does not take, unless it takes ``**kwargs``) or a value that
    does not parse as the default's type raises :class:`UsageError` naming both.
    """
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):  # no signature to check against
        params = None
    out = dict(given or {})
    for key, text in texts.items():
        if params is not None and key not in params and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            allowed = ", ".join(n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
            raise UsageError(f"unknown {kind} option {key!r} for {getattr(cls, '__name__', cls)}; "
                             f"allowed: {allowed or '(none)'}")
        p = params.get(key) if params is not None else None
        default = p.default if p is not None and p.default is not p.empty else None
        if isinstance(default, (bool, int, float, str, tuple, list)):
            out[key] = _coerce(f"{kind}.{key}", text, default)
        else:
            out[key] = _literal(text)
    return out


def _construct(kind: str, cls, kwargs: dict, texts: dict | None = None):
    """``cls(**kwargs, **typed(texts))`` with a bad keyword reported as a usage error naming it."""
    kwargs = _typed_options(kind, cls, texts or {}, kwargs)
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise UsageError(f"bad {kind} option(s) {sorted(kwargs)} for {getattr(cls, '__name__', cls)}: {e}") from None


def cmd_list(args) -> int:
    for kind in ("problem", "model", "sampler", "engine"):
        try:
            reg = registry.KINDS[kind]()
        except ImportError as e:
            reg = {}
            print(f"{kind}s: unavailable ({e})")
            continue
        print(f"{kind}s:")
        for name, cls in sorted(reg.items()):
            doc = (cls.__doc__ or "").strip().splitlines()
            print(f"  {name:<14} {doc[0] if doc else ''}")
    return 0


def cmd_solve(args) -> int:
    from .commands.inverse import build_data, split_inverse_sets
    from .solve import solve

    cls = registry.lookup("problem", args.problem)
    items, unknowns, data_options = split_inverse_sets(args.set or [], cls)
    prob_kw, samp_kw, model_kw, sets, eng_kw = parse_sets(items, cls)
    prob_kw.update(unknowns)
    for key in ("steps", "lbfgs_steps"):  # --set steps=N is the same as --steps N
        if key in sets:
            flag = getattr(args, key)
            if flag is not None and flag != sets[key]:
                raise UsageError(f"--{key.replace('_', '-')} {flag} and --set {key}={sets[key]} disagree; give one")
            setattr(args, key, sets.pop(key))
    problem = _construct("problem", cls, prob_kw)
    data = build_data(args.data, data_options, problem)
    model = None
    if args.model or model_kw:
        from . import models as M

        model_cls = registry.lookup("model", args.model) if args.model else M.MLP
        model = _construct("model", model_cls, {}, model_kw)
    sampler = None
    if args.sampler or samp_kw:
        n = sets.pop("n_interior", None) or problem.default_settings().get("n_interior", 2000)
        sampler = _construct("sampler", registry.lookup("sampler", args.sampler or "uniform"), {"n": n}, samp_kw)
    if args.compile is not None:
        sets["compile"] = args.compile
    if getattr(args, "time", None) is not None:
        sets["time_budget"] = args.time
    engine = args.derivatives
    if engine is None and (eng_kw or args.directions is not None):
        engine = "taylor" if sets.get("compile") else "autograd"
    if eng_kw or args.directions is not None:
        engine_cls = registry.lookup("engine", engine)
        given = {}
        if "seed" in inspect.signature(engine_cls).parameters and "seed" not in eng_kw:
            given["seed"] = args.seed  # a named engine follows --seed (as in solve(engine="stde"))
        if args.directions is not None:
            if "n_directions" not in inspect.signature(engine_cls).parameters:
                raise UsageError(f"--directions {args.directions}: engine {engine!r} draws no random directions; "
                                 "use it with a stochastic engine (--derivatives stde)")
            given["n_directions"] = args.directions
        engine = _construct("engine", engine_cls, given, eng_kw)
    out = args.out
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = f"runs/{problem.name}-{stamp}.h5"
    hard = None if args.hard is None else args.hard == "on"
    from .distributed import from_environment

    comm = from_environment(device=args.device)  # several processes under torchrun, else one
    try:
        run = solve(problem, model, sampler=sampler, engine=engine, steps=args.steps, lbfgs_steps=args.lbfgs_steps,
                    device=args.device, dtype=args.dtype, seed=args.seed, out=out, quiet=args.quiet, hard=hard,
                    communicator=comm if comm.world_size > 1 else None, scaling=args.scaling, data=data,
                    recipe=None if args.recipe == "none" else args.recipe, **sets)
    finally:
        comm.close()
    if not comm.is_writer:
        return 0 if run.status == "finished" else 1
    m = run.metrics or {}
    errors = (f"relative L2 error {m['rel_l2']:.3e}  max abs error {m['max_abs']:.3e}" if "rel_l2" in m
              else "no reference to compare with")
    print(f"{problem.name}: {errors}  ({run.status}, {run.wall_time:.1f} s, run file {out})")
    if args.quiet and run.unknowns:  # without --quiet the run's last lines already said it
        from .unknowns import declared_unknowns, unknown_summary

        declared = {n: u.describe() for n, u in declared_unknowns(run.problem).items()}
        for line in unknown_summary(run.unknowns, declared)[1]:
            print(line)
    from .metrics import per_field

    for f, fm in per_field(m).items():
        print(f"  {f}: relative L2 error {fm['rel_l2']:.3e}  max abs error {fm['max_abs']:.3e}")
    return 0 if run.status == "finished" else 1


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="pde", description="Solve PDEs with physics-informed neural networks.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    ls = sub.add_parser("list", help="list problems, models, samplers and derivative engines")
    ls.set_defaults(func=cmd_list)
    s = sub.add_parser("solve", help="train a PINN on a problem and report its error against the reference")
    s.add_argument("problem", help="registered problem name (see `pde list`) or module:Class / file.py:Class")
    s.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="problem parameter; train.NAME, sampler.NAME, model.NAME, engine.NAME for the others")
    s.add_argument("--steps", type=int, help="Adam steps (default: the problem's)")
    s.add_argument("--lbfgs-steps", type=int, help="L-BFGS iterations after Adam")
    s.add_argument("--model", help="model name (see `pde list`)")
    s.add_argument("--sampler", help="collocation sampler name (see `pde list`)")
    s.add_argument("--derivatives", help="derivative engine: autograd, taylor, stde (`pde list`); default autograd, "
                   "taylor with --compile")
    s.add_argument("--directions", type=int, help="random directions per point for stochastic engines")
    s.add_argument("--hard", choices=("on", "off"), help="hard-constraint output transform (default: problem's)")
    s.add_argument("--recipe", default="auto", metavar="RECIPE",
                   help="training recipe from the problem's structure (pde.recipe): auto (default: for a problem "
                        "with no defaults of its own and no --model), generic (always; options as "
                        "generic:causal=false,...), none (plain settings)")
    s.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when available)")
    s.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    s.add_argument("--scaling", default="strong", choices=("strong", "weak"),
                   help="with several processes (torchrun): strong (shards of one process's points) or weak "
                        "(own points per process)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", help="run file (default runs/PROBLEM-TIME.h5)")
    s.add_argument("--quiet", action="store_true", help="no progress output")
    s.add_argument("--time", type=_duration, metavar="DURATION",
                   help="wall-clock training budget (90s, 10m, 1.5h), split over Adam and L-BFGS; steps stay caps")
    s.add_argument("--data", action="append", metavar="FILE",
                   help="observations (.mat, .npz, .h5, .csv) as a loss term; options: --set data.NAME=VALUE "
                   "(fields, names, derivative, subset, noise, weight); unknown parameters: --set NAME.init=VALUE")
    s.add_argument("--compile", nargs="?", const="default", choices=COMPILE_MODES, metavar="MODE",
                   help="torch.compile the training step (MODE: " + ", ".join(COMPILE_MODES) + "; default: default)")
    s.add_argument("--no-compile", dest="compile", action="store_const", const=False,
                   help="plain eager mode (the default)")
    s.set_defaults(func=cmd_solve)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"pde.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"pde.commands.{name}" and not (e.name or "").startswith("pde.commands"):
                raise
            continue
        mod.add_command(sub)
    for add_commands in registry.command_plugins():  # the operators package's dataset / train, through the registry
        add_commands(sub)
    return p


def _duration(text: str) -> float:
    """``--time``: seconds from 90, 90s, 10m or 1.5h (argparse reports a bad value in one line, exit 2)."""
    from .training.stopping import parse_duration

    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _one_line(e: BaseException) -> str:
    msg = e.args[0] if isinstance(e, KeyError) and e.args else e
    text = " ".join(part.strip() for part in str(msg).splitlines() if part.strip())
    if isinstance(e, OSError) and e.filename and str(e.filename) not in text:
        text += f" ({e.filename})"
    return text or type(e).__name__


def main(argv: list[str] | None = None) -> int:
    """Run ``pde ARGV``; returns the exit code (0 ok, 1 failed run or unexpected error, 2 bad input, 130 ^C).

    Arguments are parsed and checked up front (:func:`pde.commands.checks.check_args`: paths,
    devices, integers), so bad input fails before anything is trained or written. Errors print
    one line on stderr; ``--debug`` raises them with the traceback instead.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[:argv.index("--")] if "--" in argv else "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        check_args(args)
        code = args.func(args)
    except KeyboardInterrupt:
        print("pde: interrupted", file=sys.stderr)
        return 130
    except EXPECTED_ERRORS as e:
        if debug:
            raise
        print(f"pde: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug or an environment failure: still one line, the traceback with --debug
        if debug:
            raise
        print(f"pde: error: {type(e).__name__}: {_one_line(e)} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

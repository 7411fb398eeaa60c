"""``pde dataset``, ``pde train`` and ``pde validate`` subcommands for operators.

``add_commands(subparsers)`` registers them on an ``argparse`` subparsers object; each sets
``func=handler`` with ``handler(args) -> exit code``. Errors raise; pde's CLI prints them in one line.
"""

from __future__ import annotations

import argparse
import json
import sys

from pde.commands.checks import UsageError, _json_dict, output_file

from .runfile import validate_command

#: keyword arguments of :func:`operators.train` that are not ``--set`` options (objects, not text)
NOT_SETTABLE = ("model_options", "communicator")


def _dataset(args) -> int:
    from . import generate_dataset

    out = args.out or f"{args.name}_{args.resolution}_{args.samples}.h5"
    generate_dataset(args.name, args.samples, args.resolution, out, seed=args.seed, quiet=args.quiet,
                     workers=args.workers)
    print(out)
    return 0


def train_options(items: list[str] | None) -> tuple[dict, dict]:
    """``--set NAME=VALUE`` items of ``pde train`` -> ``(train options, model options)``.

    ``NAME`` is a keyword option of :func:`operators.train` (``lr``, ``batch_size``, ``schedule``, ...), typed
    like its default; ``model.NAME`` a model option (``model.n_modes=12``), read as a Python literal. The
    text is converted by the same function as ``pde solve --set`` (:func:`pde.cli._typed_options`).
    """
    import inspect

    from pde.cli import UsageError, _typed_options

    from . import train

    params = inspect.signature(train).parameters
    allowed = [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n not in NOT_SETTABLE]
    texts, model_texts = {}, {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or key.endswith("."):
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
        if key.startswith("model."):
            model_texts[key[6:]] = text
        elif key in allowed:
            texts[key] = text
        else:
            raise UsageError(f"unknown training option {key!r} for pde train; allowed: {', '.join(allowed)}, "
                             "model.NAME")
    return _typed_options("train", train, texts), _typed_options("model", lambda **kw: None, model_texts)


def _deprecated_json(flag: str, text: str | None) -> dict:
    if not text:
        return {}
    print(f"pde train: {flag} JSON is deprecated; use --set NAME=VALUE (model options: --set model.NAME=VALUE)",
          file=sys.stderr)
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"{flag} {text!r}: expected a JSON object of NAME: VALUE")
    return value


def _train(args) -> int:
    from . import train

    options, model_options = train_options(getattr(args, "set", None))
    options = {**_deprecated_json("--options", args.options), **options}
    model_options = {**_deprecated_json("--model-options", args.model_options), **model_options} or None
    from pde.distributed import from_environment

    out = args.out or args.dataset.rsplit(".", 1)[0] + f"_{args.model}_run.h5"
    comm = from_environment(device=args.device)  # several processes under torchrun, else one
    try:
        result = train(args.dataset, model=args.model, out=out, epochs=args.epochs, device=args.device,
                       quiet=args.quiet or not comm.is_writer, model_options=model_options, communicator=comm,
                       **options)
    finally:
        comm.close()
    if comm.is_writer:
        print(json.dumps({"run": out, **result.metrics}))
    return 0


# lower bounds of pde train's numeric options (operators.train keywords): (bound, strict)
TRAIN_BOUNDS = {"batch_size": (1, False), "train_stride": (1, False), "n_train": (1, False), "n_test": (1, False),
                "checkpoint_every": (0, False), "lr": (0, True), "weight_decay": (0, False),
                "physics_weight": (0, False)}


def _checked_train_options(args) -> dict:
    """The keyword options ``pde train`` would pass to :func:`operators.train`, checked for names and ranges."""
    import inspect

    from . import train

    params = inspect.signature(train).parameters
    allowed = [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n not in NOT_SETTABLE]
    opts = {}
    for item in getattr(args, "set", None) or []:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
    if getattr(args, "set", None):
        opts.update(train_options(args.set)[0])
    text = getattr(args, "options", None)
    if text:
        given = json.loads(text)
        unknown = sorted(set(given) - set(allowed))
        if unknown:
            raise UsageError(f"--options: unknown training option(s) {unknown}; allowed: {', '.join(allowed)}")
        opts.update(given)
    for name, (low, strict) in TRAIN_BOUNDS.items():
        v = opts.get(name)
        if v is None:
            continue
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and (v > low if strict else v >= low)
        if name in ("batch_size", "train_stride", "n_train", "n_test", "checkpoint_every"):
            ok = ok and int(v) == v
        if not ok:
            kind = "a number" if name in ("lr", "weight_decay", "physics_weight") else "an integer"
            raise UsageError(f"training option {name} must be {kind} {'>' if strict else '>='} {low}, got {v!r}")
    return opts


def _keywords(fn, skip: int) -> tuple[list[str], bool]:
    """The keyword parameter names of ``fn`` after its first ``skip`` (channels excluded), and whether it takes
    ``**kwargs``."""
    import inspect

    params = list(inspect.signature(fn).parameters.values())
    names = [p.name for p in params[skip:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
             and p.name not in ("in_channels", "out_channels")]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def _check_model_options(name: str, cls, opts: dict) -> None:
    """Model options must be keyword parameters of the model's builder, or of the class its ``**kw`` goes to
    (``builder.model_class``); a builder with ``**kw`` and no class named is not checked."""
    try:
        allowed, open_ended = _keywords(cls, 3)  # builder(in_channels, out_channels, dim, ...)
        if open_ended:
            target = getattr(cls, "model_class", None)
            if target is None:
                return
            more, open_ended = _keywords(target, 0)
            if open_ended:
                return
            allowed += [n for n in more if n not in allowed]
    except (TypeError, ValueError):  # no signature to check against
        return
    unknown = sorted(set(opts) - set(allowed))
    if unknown:
        raise UsageError(f"unknown model option(s) {unknown} for --model {name}; allowed: {', '.join(allowed)}")


def check_train_args(args) -> None:
    """``pde train``'s argument checks that need operators (model names, training options, the default
    output); run by :func:`pde.commands.checks.check_args` before the command, raising its ``UsageError``."""
    from .registry import MODELS

    if isinstance(args.model, str) and ":" not in args.model and args.model not in MODELS:
        raise UsageError(f"--model: unknown model {args.model!r}; allowed: {', '.join(sorted(MODELS))}")
    _json_dict("--options", getattr(args, "options", None))
    model_opts = _json_dict("--model-options", getattr(args, "model_options", None)) or {}
    _checked_train_options(args)
    if getattr(args, "set", None):
        model_opts = {**model_opts, **train_options(args.set)[1]}
    if isinstance(args.model, str) and args.model in MODELS and model_opts:
        _check_model_options(args.model, MODELS[args.model], model_opts)
    out = args.out if args.out is not None else str(args.dataset).rsplit(".", 1)[0] + f"_{args.model}_run.h5"
    output_file("--out" if args.out is not None else "--out (default: next to the dataset)", out, replace="run")



def add_commands(subparsers) -> None:
    """Register ``dataset``, ``train`` and ``validate`` on ``subparsers`` (from ``parser.add_subparsers()``)."""
    from .datasets import DATASETS

    p = subparsers.add_parser("dataset", help="generate an operator dataset with a classical solver (HDF5)")
    p.add_argument("name", choices=DATASETS)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--resolution", type=int, default=None, help="points per axis (darcy 85, burgers 1024, ns 64)")
    p.add_argument("--out", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="processes solving samples in parallel (same file)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=lambda a: _dataset(_with_resolution(a)))

    p = subparsers.add_parser("train", help="train a neural operator on a dataset file")
    p.add_argument("dataset")
    p.add_argument("--model", default="fno", help="registered model name: fno, mgno, ...")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--out", default=None)
    p.add_argument("--device", default=None)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="training option (lr, batch_size, schedule, loss, n_train, n_test, train_stride, "
                        "physics_weight, checkpoint_every, seed, weight_decay); model.NAME for model options")
    p.add_argument("--options", default=None, help="deprecated: JSON of train() options; use --set NAME=VALUE")
    p.add_argument("--model-options", default=None, help="deprecated: JSON of model options; use --set model.NAME=V")
    p.set_defaults(func=_train, check=check_train_args)

    if "validate" in subparsers.choices:  # pde's own `validate` recognises operator runs and delegates here
        return
    p = subparsers.add_parser("validate", help="re-evaluate an operator run file against its dataset")
    p.add_argument("run")
    p.add_argument("--device", default=None)
    p.set_defaults(func=validate_command)


def _with_resolution(args):
    if args.resolution is None:
        args.resolution = {"darcy": 85, "burgers": 1024, "navier_stokes": 64}[args.name]
    return args


def main(argv=None) -> int:
    """Stand-alone entry point (``python -m operators.cli``) until pde's CLI calls :func:`add_commands`."""
    parser = argparse.ArgumentParser(prog="operators")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, FloatingPointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

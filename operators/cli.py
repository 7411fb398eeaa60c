"""``pde dataset``, ``pde train`` and ``pde validate`` subcommands for operators.

``add_commands(subparsers)`` registers them on an ``argparse`` subparsers object; each sets
``func=handler`` with ``handler(args) -> exit code``. Errors raise; pde's CLI prints them in one line.
"""

from __future__ import annotations

import argparse
import json
import sys


def _dataset(args) -> int:
    from . import generate_dataset

    out = args.out or f"{args.name}_{args.resolution}_{args.samples}.h5"
    generate_dataset(args.name, args.samples, args.resolution, out, seed=args.seed, quiet=args.quiet)
    print(out)
    return 0


def _train(args) -> int:
    from . import train

    options = json.loads(args.options) if args.options else {}
    model_options = json.loads(args.model_options) if args.model_options else None
    out = args.out or args.dataset.rsplit(".", 1)[0] + f"_{args.model}_run.h5"
    result = train(args.dataset, model=args.model, out=out, epochs=args.epochs, device=args.device,
                   quiet=args.quiet, model_options=model_options, **options)
    print(json.dumps({"run": out, **result.metrics}))
    return 0


def _validate(args) -> int:
    from . import validate

    result = validate(args.run, device=args.device)
    print(json.dumps(result))
    return 0 if result["matches"] else 1


def add_commands(subparsers) -> None:
    """Register ``dataset``, ``train`` and ``validate`` on ``subparsers`` (from ``parser.add_subparsers()``)."""
    from .datasets import DATASETS

    p = subparsers.add_parser("dataset", help="generate an operator dataset with a classical solver (HDF5)")
    p.add_argument("name", choices=DATASETS)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--resolution", type=int, default=None, help="points per axis (darcy 85, burgers 1024, ns 64)")
    p.add_argument("--out", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=lambda a: _dataset(_with_resolution(a)))

    p = subparsers.add_parser("train", help="train a neural operator on a dataset file")
    p.add_argument("dataset")
    p.add_argument("--model", default="fno", help="registered model name: fno, mgno, ...")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--out", default=None)
    p.add_argument("--device", default=None)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--options", default=None, help='JSON of train() options, e.g. {"batch_size": 20, "lr": 1e-3}')
    p.add_argument("--model-options", default=None, help='JSON of model options, e.g. {"n_modes": 12}')
    p.set_defaults(func=_train)

    if "validate" in subparsers.choices:  # pde's own `validate` recognises operator runs and delegates here
        return
    p = subparsers.add_parser("validate", help="re-evaluate an operator run file against its dataset")
    p.add_argument("run")
    p.add_argument("--device", default=None)
    p.set_defaults(func=_validate)


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

"""``pde validate RUN.h5 [--reference FILE] [--json]``: relative L2 and max abs error of the stored model.

Without --reference the problem's own reference is used (or the one stored in the file). Any PINN run
file works with --reference, also a checkpoint of an unfinished or killed run. Runs of another kind
(operators) are validated by the handler registered for their kind (``pde.registry.run_kind``).
With --reference, gridded data in .mat, .npz or .h5 (layouts such as x, t, usol or x, tt, uu are
recognised); name the arrays with --x/--y/--z/--t/--u NAME or --arrays x=NAME,t=NAME,u=NAME when they are not.
"""

from __future__ import annotations

import json


def add_command(subparsers) -> None:
    p = subparsers.add_parser("validate", help="compare a run's model with a reference", description=__doc__)
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--reference", "-r", metavar="FILE", help="reference data (.mat, .npz, .h5)")
    for c in ("x", "y", "z", "t", "u"):
        p.add_argument(f"--{c}", dest=f"name_{c}", metavar="NAME", help=f"array holding {c} in the reference file")
    p.add_argument("--arrays", metavar="MAP", help="array names, e.g. x=xx,t=tt,u=uu (any coordinate, u, points)")
    p.add_argument("--dims", metavar="ORDER", help="axis order of the value array when ambiguous, e.g. t,x")
    p.add_argument("--field", metavar="NAME", help="compare only this model field")
    p.add_argument("--device", default=None, help="device to evaluate on (default cpu)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=handler)


def parse_arrays(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, sep, val = item.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise ValueError(f"--arrays takes NAME=ARRAY pairs separated by commas, got {item!r}")
        out[key.strip()] = val.strip()
    return out


def handler(args) -> int:
    from .. import registry
    from ..store import run_kind
    from ..validate import validate

    kind = run_kind(args.run)  # refuses non-runs and damaged files with one line
    if kind != "pinn":  # e.g. operator runs, validated against their dataset by the handler of their kind
        return registry.run_kind(kind).validate_command(args)

    names = parse_arrays(args.arrays)
    for c in ("x", "y", "z", "t", "u"):
        v = getattr(args, f"name_{c}", None)
        if v:
            names[c] = v
    if names and not args.reference:
        raise ValueError("array names (--x, --t, --u, --arrays) need --reference FILE")
    dims = [d.strip() for d in args.dims.split(",")] if args.dims else None
    res = validate(args.run, args.reference, names=names or None, dims=dims, field=args.field, device=args.device)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    grid = " x ".join(f"{k} {n}" for k, n in res["grid"].items()) if res["grid"] else "scattered"
    print(f"reference  {res['reference']}  ({res['n_points']} points, {grid})")
    print(f"fields     {', '.join(res['fields'])}")
    if res.get("dropped_nonfinite"):
        print(f"skipped    {res['dropped_nonfinite']} reference points with NaN/inf values")
    print(f"rel_l2     {res['rel_l2']:.6e}")
    print(f"max_abs    {res['max_abs']:.6e}")
    print(f"rmse       {res['rmse']:.6e}")
    for f, fm in res.get("per_field", {}).items():
        print(f"  {f:8s} rel_l2 {fm['rel_l2']:.6e}  max_abs {fm['max_abs']:.6e}")
    return 0

"""``pde plot RUN.h5 [--out FILE.png]``: prediction, reference, error, loss history and sampler snapshots."""

from __future__ import annotations

from pathlib import Path


def add_command(subparsers) -> None:
    p = subparsers.add_parser("plot", help="plot a run (needs matplotlib)", description=__doc__)
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--out", "-o", metavar="FILE", help="image file (default: RUN.png)")
    p.add_argument("--field", metavar="NAME", help="field to plot (default: the first)")
    p.set_defaults(func=handler)


def handler(args) -> int:
    from ..plot import plot_run

    out = args.out or str(Path(args.run).with_suffix(".png"))
    plot_run(args.run, out, field=args.field)
    print(out)
    return 0

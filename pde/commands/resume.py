"""``pde resume RUN.h5 [--steps N]``: continue a killed or finished run from its last checkpoint."""

from __future__ import annotations


def add_command(subparsers) -> None:
    p = subparsers.add_parser("resume", help="continue a run from its last checkpoint", description=__doc__)
    p.add_argument("run", help="run file (.h5), updated in place")
    p.add_argument("--steps", type=int, default=None, help="new total number of steps (default: the configured one)")
    p.add_argument("--device", default=None, help="device (default: the run's)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=handler)


def handler(args) -> int:
    from ..store import open_run
    from ..training import resume

    if args.steps is not None and args.steps < 0:
        raise ValueError(f"--steps must be >= 0, got {args.steps}")
    open_run(args.run).close()  # refuse non-runs and truncated files with a clear message first
    from ..distributed import from_environment

    kw = {"device": args.device} if args.device is not None else {}
    comm = from_environment(device=args.device)  # several processes under torchrun, else one
    try:
        run = resume(args.run, steps=args.steps, quiet=args.quiet, communicator=comm if comm.world_size > 1 else None,
                     **kw)
    finally:
        comm.close()
    metrics = getattr(run, "metrics", None) or {}
    if not args.quiet and comm.is_writer:
        err = f"relative L2 error {metrics['rel_l2']:.3e}" if "rel_l2" in metrics else "no reference, no error metrics"
        print(f"{args.run}: {run.status}, {err}")
    return 0

"""``pde export RUN.h5 --out FILE.vtu|.xdmf [--mesh MESH]``: fields for ParaView (via meshio).

Writes prediction, reference and error on the run's evaluation grid, or the model
evaluated at the points of a given mesh file.
"""

from __future__ import annotations


def add_command(subparsers) -> None:
    p = subparsers.add_parser("export", help="write a run's fields as VTU/XDMF (meshio)", description=__doc__)
    p.add_argument("run", help="run file (.h5)")
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="output file (.vtu, .xdmf, any meshio format)")
    p.add_argument("--mesh", metavar="FILE", help="evaluate the model at this mesh's points instead")
    p.add_argument("--device", default=None, help="device to evaluate on (default cpu)")
    p.set_defaults(func=handler)


def handler(args) -> int:
    from ..export import export_run

    path = export_run(args.run, args.out, mesh=args.mesh, device=args.device)
    print(path)
    return 0

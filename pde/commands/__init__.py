"""``pde`` subcommands about run files: show, validate, plot, export, resume.

Each module exposes ``add_command(subparsers)``, which adds its subparser with
``func=handler``; ``handler(args) -> int`` raises ``ValueError`` (``RunFileError``) for
user errors, which ``pde.cli`` prints in one line. :mod:`.checks` validates every command's
arguments (paths, devices, integers) before its handler runs.
"""

from . import export, plot, resume, show, validate

COMMANDS = (show, validate, plot, export, resume)

__all__ = ["COMMANDS", "add_all", "export", "plot", "resume", "show", "validate"]


def add_all(subparsers) -> None:
    """Add every run-file subcommand to ``subparsers``."""
    for mod in COMMANDS:
        mod.add_command(subparsers)

"""The HDF5 result store: one self-describing file per run (schema in ``docs/run-schema.md``).

``write_run(path, state)`` writes atomically, ``read_run(path)`` returns the same structure,
``load(path, device=None, model=True)`` returns a :class:`~pde.run.Run` (the one run type, of kind
``pinn`` or ``operator``) with the model rebuilt or loaded into the given module. Nothing is pickled.
"""

from ._file import FORMAT, KINDS, SCHEMA_VERSION, RunFileError, open_run, read_run, run_kind, write_run
from ._load import Run, load, rebuild_model, rebuild_problem
from ._serialize import read_value, write_value

__all__ = ["FORMAT", "KINDS", "SCHEMA_VERSION", "Run", "RunFileError", "load", "open_run", "read_run", "read_value",
           "rebuild_model", "rebuild_problem", "run_kind", "write_run", "write_value"]

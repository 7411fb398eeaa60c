"""The HDF5 result store: one self-describing file per run (schema in ``docs/run-schema.md``).

``write_run(path, state)`` writes atomically, ``read_run(path)`` returns the same structure,
``load(path, device=None)`` returns a :class:`Run` with the model rebuilt. Nothing is pickled.
"""

from ._file import FORMAT, SCHEMA_VERSION, RunFileError, open_run, read_run, write_run
from ._load import Run, load, rebuild_model, rebuild_problem
from ._serialize import read_value, write_value

__all__ = ["FORMAT", "SCHEMA_VERSION", "Run", "RunFileError", "load", "open_run", "read_run", "read_value",
           "rebuild_model", "rebuild_problem", "write_run", "write_value"]

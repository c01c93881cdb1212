"""The results database: every measurement of every run, one row each, in one SQLite file.

    import zooprof.results

    with zooprof.results.open("lab.db") as db:
        db.add(result, cell=key, sweep="lab1", machine=fingerprint, power_mode="15W", repeat=0)
        rows = db.query("runtime = 'tensorrt' and batch = 8")  # flat dicts, oldest first
        df = db.frame("status = 'ok'")  # a pandas DataFrame of the same columns
        results = db.results("model = 'resnet18'")  # ProfileResults, one measurement each
        db.export("lab.csv")  # or .json, .parquet (needs pyarrow)

`open(path)` creates the file, or migrates an older one to this zooprof's schema (a file of a
newer zooprof is refused). Several processes may add rows at once (WAL mode, writers wait for
each other). A `where` is one SQL expression over the columns, run on a read-only connection.
The columns are listed in docs/result-schema.md ("Results database") and in
`zooprof.results.schema.COLUMNS`; `zooprof results DB` prints or exports them.
"""

from __future__ import annotations

from pathlib import Path

from zooprof.results.db import ResultsDB
from zooprof.results.schema import COLUMN_NAMES, SCHEMA_VERSION

__all__ = ["COLUMN_NAMES", "SCHEMA_VERSION", "ResultsDB", "open"]


def open(path: str | Path, create: bool = True) -> ResultsDB:
    """The results database at `path`; see the module docstring."""
    return ResultsDB(path, create)

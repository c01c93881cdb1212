"""The results database's table, its version and the migrations between versions.

The file is SQLite. `PRAGMA application_id` marks it as zooprof's (`APPLICATION_ID`, the bytes
"zoop"); `PRAGMA user_version` is the schema version (`SCHEMA_VERSION`). Opening a file runs, in
one write transaction, every migration from the file's version up to this one (`MIGRATIONS`:
version -> the function that brings version - 1 to it) and records each in `schema_migrations`.
A file of a newer schema than this zooprof knows is refused, and a SQLite file with tables but
not marked as zooprof's is not touched. docs/result-schema.md lists the columns.

Schema 2 stores a row's result in three parts instead of one JSON text: the static analysis
(schema_version, model, totals, layers), the same for every row of a model, once in `analyses`;
the row's own part (its measurement, environment, graph) in `result`; its timed samples packed in
`arrays` (zooprof/results/arrays.py). Rows written under schema 1 keep their whole JSON in
`result` (`analysis` and `arrays` null) and read back as they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from zooprof.errors import UsageError
from zooprof.version import __version__

#: "zoop" as a big-endian 32-bit integer: the SQLite header field that says whose file it is.
APPLICATION_ID = 0x7A6F6F70
#: The schema version this zooprof writes; it reads this one and migrates any older one.
SCHEMA_VERSION = 2
TABLE = "measurements"
#: Schema 2: each distinct static analysis once, referenced by the rows of its model.
ANALYSES = "analyses"
HINT_NOT_DB = "give a results database written by zooprof (zooprof.results.open(PATH), `zooprof sweep`)"


@dataclass(frozen=True)
class Column:
    """One column of the measurements table: its name, SQLite type and pandas dtype."""

    name: str
    sql: str  # INTEGER, REAL, TEXT (BLOB: the packed arrays)
    meaning: str

    @property
    def dtype(self) -> str:
        return {"INTEGER": "Int64", "REAL": "Float64"}.get(self.sql, "string")


#: The flat columns, in table order (the stored result's columns, `STORED`, come after them).
COLUMNS: tuple[Column, ...] = (
    Column("id", "INTEGER", "row number, increasing in the order rows were added"),
    Column("created", "TEXT", "when the row was added, UTC ISO 8601"),
    Column("sweep", "TEXT", "the sweep that made the row (null: added by hand)"),
    Column("cell_key", "TEXT", "the key of the sweep's cell (zooprof.sweep.matrix.cell_key)"),
    Column("machine", "TEXT", "the machine fingerprint the row was measured on"),
    Column("model", "TEXT", "model.name"),
    Column("runtime", "TEXT", "the measurement's runtime (null: a static row)"),
    Column("device", "TEXT", "cpu, cuda:N, dla:N"),
    Column("precision", "TEXT", "fp32, fp16, bf16, int8 (null: the model's own)"),
    Column("batch", "INTEGER", "samples per call"),
    Column("threads", "INTEGER", "threads asked for (null: the runtime's default)"),
    Column("power_mode", "TEXT", "the board's power mode the row was measured in"),
    Column("repeat", "INTEGER", "which repeat of the cell (from 0)"),
    Column("status", "TEXT", "ok, failed, or static (a result without measurements)"),
    Column("failure", "TEXT", "on failure: exception, crash, timeout, memory or unsupported"),
    Column("reason", "TEXT", "why the row failed or was not measured"),
    Column("latency_median_ms", "REAL", "timing.latency_ms.median (ok rows)"),
    Column("latency_p99_ms", "REAL", "timing.latency_ms.p99 (ok rows)"),
    Column("ci_rel_halfwidth", "REAL", "timing.latency_ms.ci_rel_halfwidth: the median's 95 % CI half-width / median"),
    Column("iterations", "INTEGER", "timing.latency_ms.n: timed samples"),
    Column("energy_per_inference_mj", "REAL", "power.energy_per_inference_mj (ok rows)"),
    Column("avg_power_mw", "REAL", "power.avg_power_mw"),
    Column("params", "INTEGER", "totals.params"),
    Column("macs", "INTEGER", "totals.macs per call at the row's batch (as `zooprof compare`)"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
#: The columns after the flat ones, in table order: the stored result, read back by `results()`.
STORED: tuple[Column, ...] = (
    Column("result", "TEXT", "the row's result as JSON; from schema 2 without the static analysis"),
    Column("analysis", "INTEGER", "the row's static analysis: analyses.id (schema 2; null: a schema 1 row)"),
    Column("arrays", "BLOB", "the row's timed samples and time stamps, packed (null: none)"),
)
#: The columns an `add` writes (all but `id`).
INSERT_NAMES: tuple[str, ...] = (*COLUMN_NAMES[1:], "analysis", "result", "arrays")


class ResultsDBError(UsageError):
    """A file that is not a results database this zooprof can read or write."""


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    columns = ",\n  ".join(
        f"{c.name} INTEGER PRIMARY KEY AUTOINCREMENT" if c.name == "id" else f"{c.name} {c.sql}" for c in COLUMNS
    )
    conn.execute(f"CREATE TABLE {TABLE} (\n  {columns},\n  result TEXT NOT NULL\n)")
    conn.execute(f"CREATE INDEX {TABLE}_setting ON {TABLE} (model, runtime, device, precision, batch)")
    conn.execute(f"CREATE INDEX {TABLE}_cell ON {TABLE} (cell_key, machine)")
    conn.execute(f"CREATE INDEX {TABLE}_sweep ON {TABLE} (sweep)")


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    # the rows already there are not rewritten: opening a large file stays quick (other writers
    # wait on this transaction), and they read back byte for byte as they were written
    conn.execute(
        f"CREATE TABLE {ANALYSES} (\n  id INTEGER PRIMARY KEY,\n  digest BLOB NOT NULL UNIQUE,\n  document TEXT NOT NULL\n)"
    )
    conn.execute(f"ALTER TABLE {TABLE} ADD COLUMN analysis INTEGER REFERENCES {ANALYSES} (id)")
    conn.execute(f"ALTER TABLE {TABLE} ADD COLUMN arrays BLOB")


#: version -> the function that brings a file of version - 1 to it, run inside one transaction.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_to_1, 2: _migrate_to_2}


def user_tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return {r[0] for r in rows}


def check_and_migrate(conn: sqlite3.Connection, where: str, create: bool, target: int | None = None) -> int:
    """Bring the file open on `conn` (autocommit mode) to `target` (default SCHEMA_VERSION) and return
    its version. Raises ResultsDBError for a file of a newer zooprof, one that is not zooprof's, or
    (with `create` False) one that holds no results table yet."""
    target = SCHEMA_VERSION if target is None else target
    conn.execute("BEGIN IMMEDIATE")  # one migrator at a time; the others wait, then see it done
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = user_tables(conn)
        if app != APPLICATION_ID and (tables or version):
            raise ResultsDBError(
                f"{where}: not a zooprof results database (a SQLite file of another application)", HINT_NOT_DB
            )
        if app != APPLICATION_ID and not create:
            raise ResultsDBError(f"{where}: not a zooprof results database (an empty SQLite file)", HINT_NOT_DB)
        if version > target:
            raise ResultsDBError(
                f"{where}: written by a newer zooprof (results schema {version}); this zooprof ({__version__}) "
                f"reads results schema {target} and older",
                "upgrade zooprof: pip install -U zooprof",
            )
        if version < target:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied TEXT NOT NULL, zooprof_version TEXT NOT NULL)"
            )
            for step in range(version + 1, target + 1):
                try:
                    MIGRATIONS[step](conn)
                except sqlite3.Error as exc:
                    raise ResultsDBError(
                        f"{where}: could not migrate from results schema {step - 1} to {step} ({exc}); "
                        "the file is left as it was",
                        "report this with the file's `sqlite3 FILE .schema`",
                    ) from None
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (step, datetime.now(timezone.utc).isoformat(timespec="seconds"), __version__),
                )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return target

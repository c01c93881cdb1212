"""`ResultsDB`: every measurement of every run in one SQLite file, one row each.

Writers add rows in short `BEGIN IMMEDIATE` transactions on a WAL-mode file with a busy timeout,
so several processes (the workers of a sweep) add rows at once and wait for each other instead
of failing. Reads (`query`, `results`, `frame`, `export`) run on a second, read-only connection,
so a `--where` expression can read anything and change nothing.

A row stores its result in parts (schema 2, zooprof/results/schema.py): the static analysis once
per distinct analysis in `analyses` (found again by the SHA-256 of its JSON), the rest in the
row's `result`, the timed samples packed in `arrays`. `results()` joins them back into the same
JSON text a schema 1 row held.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from zooprof.errors import UsageError
from zooprof.result.document import ProfileResult, write_atomic
from zooprof.result.summary import NA, summary_row
from zooprof.results.arrays import pack_timing, unpack
from zooprof.results.schema import (
    ANALYSES,
    BY_NAME,
    COLUMN_NAMES,
    HINT_NOT_DB,
    INSERT_NAMES,
    TABLE,
    ResultsDBError,
    check_and_migrate,
)

#: How long a writer waits for another's transaction before giving up, seconds.
BUSY_TIMEOUT_S = 60.0
EXPORT_SUFFIXES = (".csv", ".json", ".parquet")
#: The keys of a result's static analysis: stored once in `analyses`, whatever rows share it.
ANALYSIS_KEYS = ("schema_version", "model", "totals", "layers")
_ANALYSIS = INSERT_NAMES.index("analysis")


def _encoder() -> Any:
    """orjson when installed (about 6x faster; the results database's `zooprof[fast]` extra), else
    the standard library; both give compact JSON with the keys in order. A result holds no NaN:
    figures that cannot be computed are None (zooprof.measure.stats.finite)."""
    try:
        import orjson
    except ImportError:
        return json.JSONEncoder(separators=(",", ":"), check_circular=False).encode

    def encode(obj: Any) -> str:
        try:
            return orjson.dumps(obj).decode()
        except TypeError:  # a value orjson does not take (an int over 64 bits): the standard encoder
            return json.JSONEncoder(separators=(",", ":"), check_circular=False).encode(obj)

    return encode


encode_json = _encoder()
#: One result to add: (result, cell key, sweep, machine, power mode, repeat).
Entry = tuple[ProfileResult, str | None, str | None, str | None, str | None, int | None]


class ResultsDB:
    """The results database at `path` (created, or migrated to this zooprof's schema, on open).

    With `create` False a missing file, or a SQLite file holding no results yet, is an error
    instead (what `zooprof results` wants)."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise UsageError(f"{self.path}: is a folder, not a results database", HINT_NOT_DB)
        if not self.path.exists():
            if not create:
                raise UsageError(f"{self.path}: no such results database", "check the path")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._reader: sqlite3.Connection | None = None
        self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self.version = check_and_migrate(self._conn, str(self.path), create)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")  # WAL: safe from corruption, faster commits
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            if type(exc) is sqlite3.DatabaseError:  # SQLITE_NOTADB, SQLITE_CORRUPT: not a SQLite file
                raise ResultsDBError(f"{self.path}: not a zooprof results database ({exc})", HINT_NOT_DB) from None
            raise ResultsDBError(f"{self.path}: cannot open the results database ({exc})", "check the file") from None
        except BaseException:
            self._conn.close()
            raise

    # -- writing ---------------------------------------------------------------------------------

    def add(
        self,
        result: ProfileResult,
        cell: str | None = None,
        sweep: str | None = None,
        machine: str | None = None,
        power_mode: str | None = None,
        repeat: int | None = None,
    ) -> list[int]:
        """Add one row per measurement of `result` (one row of status "static" when it has none);
        returns the new rows' ids. `cell` is the sweep cell's key, `machine` its fingerprint."""
        return self.add_many([(result, cell, sweep, machine, power_mode, repeat)])

    def add_many(self, entries: Iterable[Entry]) -> list[int]:
        """Add many results in one transaction (all or none); the ids of the new rows, in order."""
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        analyses: dict[str, int] = {}  # each distinct analysis JSON -> its analyses.id
        rows = [row for e in entries for row in _rows(e, created, analyses)]
        placeholders = ", ".join("?" * len(INSERT_NAMES))
        sql = f"INSERT INTO {TABLE} ({', '.join(INSERT_NAMES)}) VALUES ({placeholders})"
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for text in analyses:
                analyses[text] = _analysis_id(cur, text)
            for row in rows:
                row[_ANALYSIS] = analyses[row[_ANALYSIS]]
            cur.executemany(sql, rows)
            last = cur.execute("SELECT last_insert_rowid()").fetchone()[0]
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        # AUTOINCREMENT ids of one transaction are consecutive: nobody else writes meanwhile
        return list(range(last - len(rows) + 1, last + 1))

    # -- reading ---------------------------------------------------------------------------------

    def done_cells(self, machine: str | None) -> set[str]:
        """The cell keys with at least one row of status ok or failed measured on `machine`: what a
        resumed sweep skips."""
        rows = self._read(
            f"SELECT DISTINCT cell_key FROM {TABLE} WHERE machine IS ? AND cell_key IS NOT NULL "
            "AND status IN ('ok', 'failed')",
            (machine,),
        )
        return {r[0] for r in rows}

    def query(
        self,
        where: str | None = None,
        params: Sequence[Any] = (),
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Flat rows (dicts of COLUMN_NAMES, or of `columns`), oldest first. `where` is an SQL
        expression over the columns ("runtime = 'tensorrt' and batch = 8", `?` taking `params`),
        run read-only: it can read but not change the file."""
        names = check_columns(columns)
        sql, args = _select(", ".join(names), where, params, limit)
        return [dict(zip(names, r, strict=True)) for r in self._read(sql, args, where)]

    def count(self, where: str | None = None, params: Sequence[Any] = ()) -> int:
        sql, args = _select("COUNT(*)", where, params, None, order=False)
        return int(self._read(sql, args, where)[0][0])

    def results(self, where: str | None = None, params: Sequence[Any] = ()) -> list[ProfileResult]:
        """The stored result of each matching row: a ProfileResult whose `measurements` is that row's."""
        sql, args = _select("id, analysis, result, arrays", where, params, None)
        rows = self._read(sql, args, where)
        analyses = self._analyses({r[1] for r in rows if r[1] is not None})
        out = []
        for row_id, analysis, text, packed in rows:
            try:
                doc = json.loads(text if analysis is None else join_objects(analyses[analysis], text))
                if packed is not None:
                    unpack(doc, packed)
            except (ValueError, LookupError, TypeError, AttributeError, struct.error) as exc:
                raise ResultsDBError(
                    f"{self.path}: row {row_id}: its stored result cannot be read back ({type(exc).__name__}: {exc})",
                    "the file is damaged or was edited by hand: restore it from a copy",
                ) from None
            out.append(ProfileResult.from_dict(doc, str(self.path)))
        return out

    def _analyses(self, ids: set[int]) -> dict[int, str]:
        """The analysis JSON of each of `ids` (all there: analyses are only ever added, in the
        transaction of the first row that names them)."""
        found: dict[int, str] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):  # SQLite before 3.32 takes at most 999 parameters
            chunk = ordered[start : start + 500]
            sql = f"SELECT id, document FROM {ANALYSES} WHERE id IN ({', '.join('?' * len(chunk))})"
            found.update(self._read(sql, chunk))
        return found

    def frame(self, where: str | None = None, params: Sequence[Any] = (), columns: Sequence[str] | None = None) -> Any:
        """The rows of `query` as a pandas DataFrame (nullable Int64 / Float64 / string columns)."""
        try:
            import pandas as pd
        except ImportError:
            raise UsageError("a DataFrame needs pandas", "pip install pandas (or zooprof[pandas])") from None
        names = check_columns(columns)
        sql, args = _select(", ".join(names), where, params, None)
        data = list(zip(*self._read(sql, args, where), strict=True)) or [()] * len(names)
        return pd.DataFrame(
            {n: pd.array(list(col), dtype=BY_NAME[n].dtype) for n, col in zip(names, data, strict=True)},
            columns=list(names),
        )

    def export(
        self,
        path: str | Path,
        where: str | None = None,
        params: Sequence[Any] = (),
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> Path:
        """Write the matching flat rows to `path`, by suffix: .csv (missing figures "n/a"), .json (a
        list of row objects, null for missing) or .parquet (needs pyarrow)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in EXPORT_SUFFIXES:
            raise UsageError(f"{path}: cannot export to '{suffix or path.name}'", "use a .csv, .json or .parquet file")
        if suffix == ".parquet":
            import importlib.util

            if importlib.util.find_spec("pyarrow") is None:
                raise UsageError("exporting to .parquet needs pyarrow", "pip install pyarrow, or use .csv or .json")
        names = check_columns(columns)
        if suffix == ".parquet":
            frame = self.frame(where, params, names)
            if limit is not None:
                frame = frame.head(limit)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                frame.to_parquet(tmp, index=False)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            return path
        rows = self.query(where, params, names, limit)
        if suffix == ".json":
            return write_atomic(path, json.dumps(rows, indent=1) + "\n")
        from zooprof.result.columns import csv_safe  # text a spreadsheet would run as a formula

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([NA if r[n] is None else csv_safe(r[n]) for n in names] for r in rows)
        return write_atomic(path, buf.getvalue())

    def _read(self, sql: str, args: Sequence[Any], where: str | None = None) -> list[tuple[Any, ...]]:
        if self._reader is None:
            self._reader = read_only_connection(self.path)
        try:
            return self._reader.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            if where is None:
                raise
            raise UsageError(f"bad --where expression {where!r}: {exc}", _where_hint()) from None

    # -- life --------------------------------------------------------------------------------------

    def close(self) -> None:
        for conn in (self._reader, self._conn):
            if conn is not None:
                conn.close()
        self._reader = None

    def __enter__(self) -> ResultsDB:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that can only read: opened read-only (`mode=ro`) and with `query_only` set."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA query_only = 1")
    return conn


def check_columns(columns: Sequence[str] | None) -> tuple[str, ...]:
    """`columns` checked against the table's (None: all of them)."""
    if columns is None:
        return COLUMN_NAMES
    names = tuple(c.strip() for c in columns if c.strip())
    unknown = [c for c in names if c not in BY_NAME]
    if unknown or not names:
        raise UsageError(
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
            if unknown
            else "no columns given",
            f"choose from {', '.join(COLUMN_NAMES)}",
        )
    return names


def _where_hint() -> str:
    return f"give one SQL expression over the columns ({', '.join(COLUMN_NAMES)}), e.g. \"runtime = 'torch' and batch = 8\""


def _select(
    what: str, where: str | None, params: Sequence[Any], limit: int | None, order: bool = True
) -> tuple[str, list[Any]]:
    # the expression sits in its own parentheses, ending on its own line, so that a trailing
    # `-- comment` cannot swallow the rest of the statement
    sql = f"SELECT {what} FROM {TABLE}"
    args = list(params)
    if where is not None and where.strip():
        sql += f" WHERE (\n{where}\n)"
    if order:
        sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return sql, args


def join_objects(first: str, second: str) -> str:
    """The JSON text of one object with the members of the objects `first` then `second`."""
    if first == "{}" or second == "{}":
        return second if first == "{}" else first
    return f"{first[:-1]},{second[1:]}"


def _analysis_id(cur: sqlite3.Cursor, text: str) -> int:
    """The analyses.id of the analysis JSON `text`, added when the file does not hold it yet (inside
    the writer's transaction, so two writers never add the same one)."""
    digest = hashlib.sha256(text.encode()).digest()
    found = cur.execute(f"SELECT id FROM {ANALYSES} WHERE digest = ?", (digest,)).fetchone()
    if found is not None:
        return int(found[0])
    cur.execute(f"INSERT INTO {ANALYSES} (digest, document) VALUES (?, ?)", (digest, text))
    return int(cur.lastrowid)


def _rows(entry: Entry, created: str, analyses: dict[str, int]) -> list[list[Any]]:
    """The table rows of one result: one per measurement, or one static row. A row's `analysis`
    is the analysis JSON itself until `add_many` has its id; `analyses` collects those JSONs."""
    result, cell, sweep, machine, power_mode, repeat = entry
    if cell is not None and not isinstance(cell, str):
        raise TypeError(f"cell is the cell's key (zooprof.sweep.matrix.cell_key(cell)), not a {type(cell).__name__}")
    # the parts around the measurement are encoded once for all of the result's rows; joined, the
    # keys keep to_dict's order: schema_version, model, totals, layers, measurements, environment, graph
    doc = result.to_dict()
    analysis = encode_json({k: doc[k] for k in ANALYSIS_KEYS})
    analyses.setdefault(analysis, 0)
    tail = encode_json({k: doc[k] for k in doc if k not in ANALYSIS_KEYS and k != "measurements"})
    rows = []
    for m in result.measurements or [None]:
        s = summary_row(result, m, "")
        timing = ((m or {}).get("timing") or {}).get("latency_ms") or {}
        power = (m or {}).get("power") or {}
        stored, packed = (None, None) if m is None else pack_timing(m)
        own = join_objects(f'{{"measurements":[{"" if m is None else encode_json(stored)}]}}', tail)
        rows.append(
            [
                created,
                sweep,
                cell,
                machine,
                s["model"],
                s["runtime"],
                s["device"],
                s["precision"],
                s["batch"],
                None if m is None else m.get("threads"),
                power_mode,
                repeat,
                s["status"],
                None if m is None else m.get("failure"),
                s.get("reason") if m is None else m.get("reason"),
                s["latency_median_ms"],
                s["latency_p99_ms"],
                timing.get("ci_rel_halfwidth"),
                timing.get("n"),
                s["energy_per_inference_mj"],
                power.get("avg_power_mw"),
                s["params"],
                None if s["macs"] is None else round(s["macs"]),  # a fraction only for an odd batch ratio
                analysis,
                own,
                packed,
            ]
        )
    return rows

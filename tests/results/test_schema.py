"""The results file's version: older files are migrated, a newer zooprof's file and files that are
not results databases are refused in one line and left as they were."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import zooprof.results
from tests.results.helpers import tiny
from zooprof.errors import UsageError
from zooprof.results import schema
from zooprof.results.schema import APPLICATION_ID


def pragma(path: Path, name: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def migrations(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def test_a_version_0_file_is_migrated_to_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # a SQLite file with nothing in it: version 0
        conn.execute("PRAGMA user_version = 0")
    with zooprof.results.open(path) as db:
        assert db.version == 2
        db.add(tiny())
        assert db.count() == 3
    assert (pragma(path, "user_version"), pragma(path, "application_id")) == (2, APPLICATION_ID)
    assert migrations(path) == [1, 2]


def test_an_older_file_with_rows_is_migrated_and_keeps_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v2.db"
    with zooprof.results.open(path) as db:
        db.add(tiny())
    # a later zooprof: schema 3 adds a column
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(
        schema.MIGRATIONS, 3, lambda conn: conn.execute("ALTER TABLE measurements ADD COLUMN board_temp_c REAL")
    )
    with zooprof.results.open(path) as db:
        assert db.version == 3
        assert [r["runtime"] for r in db.query()] == ["torch", "onnxruntime", "tflite"]
        assert db.results()[0].measurements == [tiny().measurements[0]]
    assert pragma(path, "user_version") == 3 and migrations(path) == [1, 2, 3]
    with sqlite3.connect(path) as conn:
        assert "board_temp_c" in [r[1] for r in conn.execute("PRAGMA table_info(measurements)")]


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v2.db"
    zooprof.results.open(path).close()
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(schema.MIGRATIONS, 3, lambda conn: conn.execute("ALTER TABLE nowhere ADD COLUMN x"))
    with pytest.raises(UsageError, match="could not migrate from results schema 2 to 3 \\(no such table: nowhere\\)"):
        zooprof.results.open(path)
    assert pragma(path, "user_version") == 2 and migrations(path) == [1, 2]


def test_a_newer_zooprofs_file_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    zooprof.results.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(UsageError) as exc:
        zooprof.results.open(path)
    message = str(exc.value)
    assert "\n" not in message
    assert "newer zooprof (results schema 7)" in message and "reads results schema 2" in message
    assert "pip install -U zooprof" in message
    assert pragma(path, "user_version") == 7


def test_another_applications_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    before = path.read_bytes()
    with pytest.raises(UsageError, match="not a zooprof results database \\(a SQLite file of another application\\)"):
        zooprof.results.open(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"hello, not a database\n" * 10, b"\x00" * 4096])
def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(UsageError, match="x.db: not a zooprof results database") as exc:
        zooprof.results.open(path)
    assert "\n" not in str(exc.value)
    assert path.read_bytes() == content


def test_without_create_nothing_is_made(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such results database"):
        zooprof.results.open(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(UsageError, match="an empty SQLite file"):
        zooprof.results.open(empty, create=False)
    with pytest.raises(UsageError, match="is a folder"):
        zooprof.results.open(tmp_path)


def documented_columns(table: str) -> list[str]:
    """The column names of docs/result-schema.md's table of `table`: the rows after its lead-in."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "result-schema.md").read_text(encoding="utf-8")
    section = text[text.index("## Results database") :]
    lines = section[section.index(f"table `{table}`") :].splitlines()[2:]
    rows = lines[: lines.index("")] if "" in lines else lines
    return [line.split("`")[1] for line in rows if line.startswith("| `")]


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def test_the_docs_list_every_column(tmp_path: Path) -> None:
    zooprof.results.open(tmp_path / "r.db").close()
    with sqlite3.connect(tmp_path / "r.db") as conn:
        measurements, analyses = table_columns(conn, "measurements"), table_columns(conn, "analyses")
    assert measurements == [*schema.COLUMN_NAMES, *(c.name for c in schema.STORED)]
    assert documented_columns("measurements") == measurements
    assert documented_columns("analyses") == analyses == ["id", "digest", "document"]

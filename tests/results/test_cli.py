"""`zooprof results DB`: the table, --where, --columns, --limit, -o, and one-line errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import zooprof.results
from tests.helpers import run
from tests.results.helpers import tiny
from zooprof.results.schema import SCHEMA_VERSION


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    path = tmp_path / "lab.db"
    with zooprof.results.open(path) as db:
        db.add(tiny(), sweep="lab1", machine="m1", power_mode="15W", repeat=0)
    return path


def test_the_table_lists_every_row(capsys: pytest.CaptureFixture[str], dbfile: Path) -> None:
    code, out, err = run(capsys, "results", str(dbfile), "--width", "250")
    assert code == 0, err
    lines = out.splitlines()
    assert "latency_median_ms" in out and "power_mode" in out
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == 3
    assert "torch" in body[0] and "0.500" in body[0] and "1.250" in body[0] and "15W" in body[0]
    assert "tflite" in body[2] and "failed" in body[2] and "n/a" in body[2]
    assert "3 rows" in lines


def test_where_columns_and_limit(capsys: pytest.CaptureFixture[str], dbfile: Path) -> None:
    code, out, err = run(capsys, "results", str(dbfile), "--where", "status='ok'", "-c", "runtime,macs", "-n", "1")
    assert code == 0, err
    body = [line for line in out.splitlines() if line.startswith("│")]
    assert len(body) == 1 and "torch" in body[0] and "7,552" in body[0]
    assert "latency_median_ms" not in out
    assert "showing the first 1 of 2 rows where status='ok' (--limit)" in out


def test_output_by_suffix(capsys: pytest.CaptureFixture[str], dbfile: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "rows.json"
    code, out, err = run(capsys, "results", str(dbfile), "-w", "batch = 4", "-o", str(out_file))
    assert code == 0 and out == ""
    assert f"wrote {out_file} (1 row)" in err
    (row,) = json.loads(out_file.read_text())
    assert (row["runtime"], row["batch"], row["macs"], row["sweep"]) == ("onnxruntime", 4, 4 * 7552, "lab1")
    code, _, err = run(capsys, "results", str(dbfile), "-o", str(tmp_path / "rows.csv"))
    assert code == 0 and (tmp_path / "rows.csv").read_text().count("\n") == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-w", "1; drop table measurements"], "error: bad --where expression '1; drop table measurements'"),
        (["-w", "speed > 1"], "no such column: speed"),
        (["-c", "runtime,speed"], "unknown column 'speed'"),
        (["-o", "rows.xlsx"], "cannot write rows to 'rows.xlsx'"),
    ],
)
def test_bad_options_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], dbfile: Path, args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "results", str(dbfile), *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    with sqlite3.connect(dbfile) as conn:
        assert conn.execute("SELECT COUNT(*) FROM measurements").fetchone()[0] == 3


def test_a_missing_file_or_not_a_results_db(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "results", str(tmp_path / "none.db"))
    assert code == 2 and err.strip() == f"error: {tmp_path / 'none.db'}: no such results database; check the path"
    (tmp_path / "notes.txt").write_text("just text, long enough to look like a header? no\n" * 5)
    code, _, err = run(capsys, "results", str(tmp_path / "notes.txt"))
    assert code == 2 and "notes.txt: not a zooprof results database" in err and len(err.strip().splitlines()) == 1
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    code, _, err = run(capsys, "results", str(other))
    assert code == 2 and "a SQLite file of another application" in err
    newer = tmp_path / "newer.db"
    zooprof.results.open(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    code, _, err = run(capsys, "results", str(newer))
    assert code == 2 and "written by a newer zooprof" in err and len(err.strip().splitlines()) == 1

"""Exporting rows: CSV ("n/a" for a missing figure), JSON (null), Parquet (with pyarrow, else an
error naming it)."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest

import zooprof.results
from tests.results.helpers import tiny
from zooprof.errors import UsageError
from zooprof.results.schema import COLUMN_NAMES


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(tiny(), sweep="lab1")
        yield db


def test_csv_holds_the_query_rows(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db.export(tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))
    assert lines[0] == list(COLUMN_NAMES)
    want = [["n/a" if v is None else str(v) for v in r.values()] for r in db.query()]
    assert lines[1:] == want
    assert lines[3][COLUMN_NAMES.index("latency_median_ms")] == "n/a"  # the failed row: never 0
    assert lines[1][COLUMN_NAMES.index("latency_median_ms")] == "0.5"


def test_json_holds_the_query_rows_filtered(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db.export(tmp_path / "out.JSON", where="status = 'ok'", columns=["id", "runtime", "energy_per_inference_mj"])
    assert json.loads((tmp_path / "out.JSON").read_text()) == [
        {"id": 1, "runtime": "torch", "energy_per_inference_mj": 1.25},
        {"id": 2, "runtime": "onnxruntime", "energy_per_inference_mj": None},
    ]
    db.export(tmp_path / "two.json", limit=1)
    assert json.loads((tmp_path / "two.json").read_text()) == db.query(limit=1)


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow is not installed")
def test_parquet_reads_back_as_the_frame(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    db.export(tmp_path / "out.parquet")
    back = pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(back, db.frame(), check_dtype=False)


def test_parquet_without_pyarrow_names_it(db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # find_spec -> None, as when not installed
    with pytest.raises(UsageError, match="pip install pyarrow"):
        db.export(tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()


def test_an_unknown_suffix_says_which_work(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="use a .csv, .json or .parquet file"):
        db.export(tmp_path / "out.xlsx")

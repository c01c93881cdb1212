"""The results database: one row per measurement whose flat columns are the result's figures, the
stored results given back equal, done cells, read-only --where, DataFrames."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import zooprof.results
from tests.results.helpers import single, static, tiny, tiny_dict
from zooprof.errors import UsageError
from zooprof.results.db import read_only_connection
from zooprof.results.schema import APPLICATION_ID, COLUMN_NAMES, SCHEMA_VERSION


def expected_rows(d: dict[str, Any]) -> list[dict[str, Any]]:
    """The flat figures of each measurement, read from the result's JSON by hand (the reference)."""
    rows = []
    analysed_batch = d["model"]["input_shape"][0]
    for m in d["measurements"]:
        ok = m["status"] == "ok"
        lat = m.get("timing", {}).get("latency_ms", {})
        power = m.get("power", {})
        rows.append(
            {
                "model": d["model"]["name"],
                "runtime": m["runtime"],
                "device": m["device"],
                "precision": m["precision"],
                "batch": m["batch"],
                "threads": m["threads"],
                "status": m["status"],
                "failure": m.get("failure"),
                "reason": m.get("reason"),
                "latency_median_ms": lat["median"] if ok else None,
                "latency_p99_ms": lat["p99"] if ok else None,
                "ci_rel_halfwidth": lat.get("ci_rel_halfwidth"),
                "iterations": lat.get("n"),
                "energy_per_inference_mj": power.get("energy_per_inference_mj") if ok else None,
                "avg_power_mw": power.get("avg_power_mw"),
                "params": d["totals"]["params"],
                "macs": d["totals"]["macs"] * m["batch"] // analysed_batch,
            }
        )
    return rows


def test_one_row_per_measurement_with_the_results_figures(tmp_path: Path) -> None:
    result = tiny()
    with zooprof.results.open(tmp_path / "r.db") as db:
        ids = db.add(result, cell="abc", sweep="lab1", machine="m1", power_mode="15W", repeat=2)
        rows = db.query()
    assert ids == [1, 2, 3] == [r["id"] for r in rows]
    assert all(list(r) == list(COLUMN_NAMES) for r in rows)
    want = expected_rows(result.to_dict())
    assert [{k: r[k] for k in want[0]} for r in rows] == want
    # the figures the edits put in, spelled out
    assert (rows[0]["latency_median_ms"], rows[0]["ci_rel_halfwidth"], rows[0]["iterations"]) == (0.5, 0.0125, 100)
    assert (rows[0]["energy_per_inference_mj"], rows[0]["avg_power_mw"]) == (1.25, 5000.0)
    assert (rows[1]["batch"], rows[1]["macs"]) == (4, 4 * 7552)
    assert (rows[2]["status"], rows[2]["failure"], rows[2]["latency_median_ms"]) == ("failed", "unsupported", None)
    for r in rows:
        assert (r["cell_key"], r["sweep"], r["machine"], r["power_mode"], r["repeat"]) == (
            "abc",
            "lab1",
            "m1",
            "15W",
            2,
        )
        assert r["created"].endswith("+00:00")


def test_the_reference_reader_agrees_with_the_golden_file() -> None:
    # the expected rows come from the JSON, not from zooprof: check them once against the file
    first = expected_rows(tiny_dict())[0]
    assert (first["runtime"], first["latency_median_ms"], first["latency_p99_ms"], first["macs"]) == (
        "torch",
        0.5,
        0.8,
        7552,
    )


def test_results_give_back_each_measurement_as_an_equal_result(tmp_path: Path) -> None:
    result = tiny()
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(result)
        back = db.results()
        assert db.results("runtime = 'onnxruntime'") == [single(result, 1)]
    assert back == [single(result, i) for i in range(3)]
    assert back[0].layers == result.layers and back[0].environment == result.environment


def test_a_result_without_measurements_is_one_static_row(tmp_path: Path) -> None:
    result = static(tiny())
    with zooprof.results.open(tmp_path / "r.db") as db:
        assert db.add(result) == [1]
        (row,) = db.query()
        assert db.results() == [result]
    assert (row["status"], row["runtime"], row["latency_median_ms"], row["params"]) == ("static", None, None, 762)


def test_add_many_is_one_transaction_with_consecutive_ids(tmp_path: Path) -> None:
    result = tiny()
    entries = [(result, f"c{i}", "s", "m", None, i) for i in range(5)]
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(static(result))
        assert db.add_many(entries) == list(range(2, 17))
        assert db.count() == 16 and db.count("repeat = 4") == 3
        with pytest.raises(TypeError, match="cell_key"):
            db.add(result, cell={"model": "x"})  # type: ignore[arg-type]
        assert db.count() == 16


def test_done_cells_are_the_ok_or_failed_cells_of_that_machine(tmp_path: Path) -> None:
    result = tiny()
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(single(result, 0), cell="ok-here", machine="m1")
        db.add(single(result, 2), cell="failed-here", machine="m1")
        db.add(single(result, 0), cell="other-machine", machine="m2")
        db.add(static(result), cell="static-here", machine="m1")
        db.add(single(result, 0), machine="m1")  # no cell: added by hand
        assert db.done_cells("m1") == {"ok-here", "failed-here"}
        assert db.done_cells("m2") == {"other-machine"}
        assert db.done_cells("m3") == set()
        assert db.done_cells(None) == set()


def test_query_where_params_columns_limit(tmp_path: Path) -> None:
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(tiny(), machine="m1")
        assert [r["runtime"] for r in db.query("status = 'ok'")] == ["torch", "onnxruntime"]
        assert db.query("runtime = ? and batch = ?", ("onnxruntime", 4), columns=["id", "macs"]) == [
            {"id": 2, "macs": 30208}
        ]
        assert [r["id"] for r in db.query(limit=2)] == [1, 2]
        assert db.query("runtime = 'torch' -- a trailing comment") == db.query("id = 1")
        with pytest.raises(UsageError, match="unknown column 'nope'.*choose from id, created"):
            db.query(columns=["id", "nope"])
        with pytest.raises(UsageError, match="no such column: latency") as exc:
            db.query("latency < 1")
        assert "\n" not in str(exc.value)


ATTACKS = [
    "1; drop table measurements",
    "(select 1) = 1; delete from measurements",
    "1)\n; delete from measurements; select (1",
    "1) union all select * from measurements where (1",  # reads only (and fails: one column vs 24)
    "(delete from measurements) is null",
    "1 /* unterminated",
]


@pytest.mark.parametrize("where", ATTACKS)
def test_a_where_cannot_change_the_file(tmp_path: Path, where: str) -> None:
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(tiny())
        with pytest.raises(UsageError, match="bad --where expression"):
            db.query(where)
        with pytest.raises(UsageError):
            db.results(where)
        assert db.count() == 3
    with sqlite3.connect(tmp_path / "r.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM measurements").fetchone()[0] == 3


def test_the_query_connection_refuses_writes(tmp_path: Path) -> None:
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(tiny())
    conn = read_only_connection(tmp_path / "r.db")
    try:
        for sql in ("DELETE FROM measurements", "DROP TABLE measurements", "PRAGMA user_version = 9"):
            with pytest.raises(sqlite3.OperationalError, match="readonly|read-only|query_only"):
                conn.execute(sql)
        assert conn.execute("SELECT COUNT(*) FROM measurements").fetchone()[0] == 3
    finally:
        conn.close()


def test_the_file_is_wal_versioned_and_marked(tmp_path: Path) -> None:
    zooprof.results.open(tmp_path / "sub" / "r.db").close()
    with sqlite3.connect(tmp_path / "sub" / "r.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        indexes = {r[0]: r[1] for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")}
    assert "(model, runtime, device, precision, batch)" in indexes["measurements_setting"]
    assert "(cell_key, machine)" in indexes["measurements_cell"]
    assert "(sweep)" in indexes["measurements_sweep"]


def test_frame_has_the_columns_with_nullable_dtypes(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    with zooprof.results.open(tmp_path / "r.db") as db:
        assert list(db.frame().columns) == list(COLUMN_NAMES)  # empty, still typed
        db.add(tiny())
        df = db.frame()
        rows = db.query()
        assert db.frame("batch = 4", columns=["id"])["id"].tolist() == [2]
    assert list(df.columns) == list(COLUMN_NAMES)
    assert str(df["batch"].dtype) == "Int64" and str(df["latency_median_ms"].dtype) == "Float64"
    for i, row in enumerate(rows):
        for k, v in row.items():
            assert (pd.isna(df[k].iloc[i]) and v is None) or df[k].iloc[i] == v


def test_each_rows_document_is_its_analysis_joined_with_its_own_json(tmp_path: Path) -> None:
    import json

    result = tiny()
    result.graph = {"nodes": [{"name": "x", "measurements": []}]}  # a graph, and a key that looks like one
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(result)
        db.add(static(result))
    with sqlite3.connect(tmp_path / "r.db") as conn:
        stored = conn.execute("SELECT analysis, result, arrays FROM measurements ORDER BY id").fetchall()
        analyses = conn.execute("SELECT id, document FROM analyses").fetchall()
    want = [single(result, i).to_dict() for i in range(3)] + [static(result).to_dict()]
    # the four rows share one stored analysis: the result's first four keys, in to_dict's order
    assert [a for a, _, _ in stored] == [1] * 4 and len(analyses) == 1
    analysis = json.loads(analyses[0][1])
    assert list(analysis) == ["schema_version", "model", "totals", "layers"]
    assert analysis == {k: want[0][k] for k in analysis}
    # each row's own JSON: its measurement, the environment and the graph; no timed samples here
    own = [json.loads(text) for _, text, _ in stored]
    assert [list(o) for o in own] == [["measurements", "environment", "graph"]] * 4
    assert [o["measurements"] for o in own] == [w["measurements"] for w in want]
    assert all(packed is None for _, _, packed in stored)
    # the two joined give the result's JSON, keys in to_dict's order
    joined = [{**analysis, **o} for o in own]
    assert joined == want and [list(j) for j in joined] == [list(w) for w in want]


def test_the_stored_json_is_the_same_with_either_encoder(tmp_path: Path) -> None:
    """orjson (when installed) and the standard library write the same compact JSON."""
    import json

    from zooprof.results import db as dbmod

    doc = tiny().to_dict()
    standard = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode(doc)
    assert dbmod.encode_json(doc) == standard

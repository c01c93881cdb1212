"""How a row stores its result (schema 2): each static analysis once, the row's own JSON, the timed
samples packed; every result read back equal to the one added, floats bit for bit; and a file
written under schema 1 migrated and read back unchanged."""

from __future__ import annotations

import copy
import json
import math
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest

import zooprof.results
from tests.results.helpers import single, static, tiny
from zooprof.errors import UsageError
from zooprof.result.document import ProfileResult
from zooprof.results.schema import APPLICATION_ID, check_and_migrate

#: Floats whose bits a text round trip could get wrong: signed zero, the smallest subnormal, the
#: largest finite double, infinities, and values with 17 significant digits.
EDGE = [-0.0, 5e-324, 1.7976931348623157e308, math.inf, -math.inf, 0.1 + 0.2, 1 / 3, 2390.189863740001]


def sampled(n: int = 200, nan: bool = False) -> ProfileResult:
    """tiny()'s first measurement with `n` timed samples and time stamps as the timing harness makes
    them (perf_counter readings in whole nanoseconds, differences in ms), led by the EDGE floats
    (and a NaN, which no result equals)."""
    result = single(tiny(), 0)
    stamps = [
        [(2_390_189_863_740 + k * 513_417) / 1e9, (2_390_190_363_740 + k * 513_417 + k % 7) / 1e9] for k in range(n)
    ]
    timing = result.measurements[0]["timing"]
    lead = [*EDGE, math.nan] if nan else EDGE
    timing["samples_ms"] = lead + [(b - a) * 1e3 for a, b in stamps[len(lead) :]]
    timing["timestamps_s"] = stamps
    timing["stop_reason"] = "target_ci"  # after the arrays: key order is kept around them
    return result


def bits(values: list[Any]) -> list[Any]:
    """Each float as its 8 bytes (NaN equal to itself, -0.0 unequal to 0.0), lists of them alike."""
    return [
        bits(v) if isinstance(v, list) else (type(v), struct.pack("<d", v) if type(v) is float else v) for v in values
    ]


def stored(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT analysis, result, arrays FROM measurements ORDER BY id").fetchall()


def test_timed_samples_are_packed_and_come_back_bit_for_bit(tmp_path: Path) -> None:
    result = sampled(nan=True)
    added = copy.deepcopy(result.measurements[0]["timing"])
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(result)
        (back,) = db.results()
        assert db.query(columns=["iterations"]) == [{"iterations": 100}]
    # add left the result as it was (the placeholders went into copies)
    assert bits(list(result.measurements[0]["timing"].values())) == bits(list(added.values()))
    timing = back.measurements[0]["timing"]
    assert list(timing) == list(added)
    assert bits(timing["samples_ms"]) == bits(added["samples_ms"])
    assert bits(timing["timestamps_s"]) == bits(added["timestamps_s"])
    rest = {k: v for k, v in timing.items() if k not in ("samples_ms", "timestamps_s")}
    assert rest == {k: v for k, v in added.items() if k not in ("samples_ms", "timestamps_s")}
    assert back.layers == result.layers and back.model == result.model and back.environment == result.environment

    # the stored form, read with the standard library as the docs describe it
    ((_, text, packed),) = stored(tmp_path / "r.db")
    row_timing = json.loads(text)["measurements"][0]["timing"]
    assert list(row_timing) == list(added)
    assert (row_timing["samples_ms"], row_timing["timestamps_s"]) == ("float64[200]", "float64[200,2]")
    (length,) = struct.unpack_from("<I", packed)
    header = json.loads(packed[4 : 4 + length])
    assert header == [
        [["measurements", 0, "timing", "samples_ms"], [200]],
        [["measurements", 0, "timing", "timestamps_s"], [200, 2]],
    ]
    values = packed[4 + length :]
    flat = [x for pair in added["timestamps_s"] for x in pair]
    assert values == struct.pack("<200d", *added["samples_ms"]) + struct.pack("<400d", *flat)


def test_results_without_nan_compare_equal(tmp_path: Path) -> None:
    result = sampled()
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(result)
        assert db.results() == [result]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("samples_ms", [0.5] * 20 + [1]),  # an int, as a hand-written JSON file may hold
        ("samples_ms", [0.5] * 20 + [None]),
        ("samples_ms", [0.5] * 20 + [True]),
        ("samples_ms", [0.5] * 15),  # too short to be worth packing
        ("timestamps_s", [[1.0, 2.0]] * 20 + [[3.0]]),  # ragged
        ("timestamps_s", [[1.0, 2.0]] * 20 + [(3.0, 4.0)]),  # a tuple row
        ("timestamps_s", [[1.0, 2.0]] * 20 + [[3.0, 4]]),
        ("timestamps_s", [[]] * 20),
        ("timestamps_s", [{"a": 1.0}] * 20),
    ],
)
def test_a_list_that_is_not_all_floats_stays_in_the_json(tmp_path: Path, key: str, value: list[Any]) -> None:
    result = single(tiny(), 0)
    result.measurements[0]["timing"][key] = value
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(result)
        (back,) = db.results()
    ((_, text, packed),) = stored(tmp_path / "r.db")
    assert packed is None
    want = [list(v) if isinstance(v, tuple) else v for v in value]  # JSON has no tuples
    assert json.loads(text)["measurements"][0]["timing"][key] == want
    assert bits(back.measurements[0]["timing"][key]) == bits(want)  # 1 stays an int, True a bool


def test_only_the_float_list_of_a_timing_is_packed(tmp_path: Path) -> None:
    result = sampled(40)
    timing = result.measurements[0]["timing"]
    timing["timestamps_s"][3][1] = None  # a lost time stamp: this list stays JSON
    timing["block_sizes"] = [float(k) for k in range(32)]  # any other float list under timing is packed
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(result)
        (back,) = db.results()
    ((_, text, packed),) = stored(tmp_path / "r.db")
    row_timing = json.loads(text)["measurements"][0]["timing"]
    assert row_timing["timestamps_s"][3] == [timing["timestamps_s"][3][0], None]
    assert (row_timing["samples_ms"], row_timing["block_sizes"]) == ("float64[40]", "float64[32]")
    assert len(packed) == 4 + struct.unpack_from("<I", packed)[0] + 8 * (40 + 32)
    assert bits(back.measurements[0]["timing"]["samples_ms"]) == bits(timing["samples_ms"])
    assert back.measurements[0]["timing"]["timestamps_s"] == timing["timestamps_s"]
    assert back.measurements[0]["timing"]["block_sizes"] == timing["block_sizes"]


def test_rows_of_one_analysis_share_it_across_adds_and_writers(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    other = tiny()
    other.layers = [{**other.layers[0], "params": 113}, *other.layers[1:]]
    with zooprof.results.open(path) as db:
        db.add(tiny())
        db.add_many([(tiny(), "a", None, None, None, 0), (static(tiny()), "b", None, None, None, 0)])
    with zooprof.results.open(path) as db:  # another writer, later
        db.add(sampled())
        db.add(other)
        back = db.results()
    assert back == [single(tiny(), i) for i in range(3)] * 2 + [static(tiny()), sampled()] + [
        single(other, i) for i in range(3)
    ]
    analyses = [a for a, _, _ in stored(path)]
    assert analyses == [1] * 8 + [2] * 3
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, digest, document FROM analyses ORDER BY id").fetchall()
    import hashlib

    assert [(i, hashlib.sha256(doc.encode()).digest()) for i, _, doc in rows] == [(i, d) for i, d, _ in rows]
    assert json.loads(rows[1][2])["layers"][0]["params"] == 113


def test_a_where_reads_the_flat_columns_and_the_rows_own_json(tmp_path: Path) -> None:
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(sampled())
        db.add(tiny())
        assert [r["runtime"] for r in db.query("status = 'ok' and batch = 1")] == ["torch", "torch"]
        stop = "json_extract(result, '$.measurements[0].timing.stop_reason') = 'target_ci'"
        assert db.query(stop, columns=["id"]) == [{"id": 1}]
        assert db.results("arrays is not null")[0].measurements[0]["timing"]["timestamps_s"][0] == [
            2390.18986374,
            2390.19036374,
        ]


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (
            lambda packed: ("UPDATE measurements SET arrays = ?", (packed[:-8],)),
            "(error: unpack_from requires a buffer",
        ),
        (lambda packed: ("UPDATE measurements SET arrays = ?", (packed + b"\0",)), "(ValueError: 1 bytes after"),
        (
            lambda packed: ("UPDATE measurements SET result = replace(result, '\"float64[200]\"', '1')", ()),
            "(ValueError: no placeholder at measurements.0.timing.samples_ms)",
        ),
        (lambda packed: ("DELETE FROM analyses", ()), "(KeyError: 1)"),
    ],
)
def test_a_damaged_row_is_a_one_line_error(tmp_path: Path, damage: Any, why: str) -> None:
    with zooprof.results.open(tmp_path / "r.db") as db:
        db.add(sampled())
    with sqlite3.connect(tmp_path / "r.db") as conn:
        (packed,) = conn.execute("SELECT arrays FROM measurements").fetchone()
        conn.execute(*damage(packed))
    with zooprof.results.open(tmp_path / "r.db") as db, pytest.raises(UsageError) as exc:
        db.results()
    message = str(exc.value)
    assert "r.db: row 1: its stored result cannot be read back " + why in message and "\n" not in message


# -- a file written under schema 1 ---------------------------------------------------------------


def write_schema_1(path: Path, results: list[ProfileResult]) -> list[dict[str, Any]]:
    """A results file as zooprof with results schema 1 wrote it: the schema 1 table (its own
    migration), one row per measurement with the flat figures and the whole result's compact JSON.
    The flat figures are taken from a current file (they did not change); returns them."""
    with zooprof.results.open(path.with_name("flat.db")) as db:
        db.add_many([(r, f"cell{i}", "lab1", "m1", "15W", 0) for i, r in enumerate(results)])
        flat = db.query()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert check_and_migrate(conn, str(path), True, target=1) == 1
        documents = [
            json.dumps(one.to_dict(), separators=(",", ":"))
            for r in results
            for one in ([single(r, i) for i in range(len(r.measurements))] or [r])
        ]
        names = [c for c in flat[0] if c != "id"]
        conn.executemany(
            f"INSERT INTO measurements ({', '.join(names)}, result) VALUES ({', '.join('?' * (len(names) + 1))})",
            [(*(row[c] for c in names), doc) for row, doc in zip(flat, documents, strict=True)],
        )
    finally:
        conn.close()
    return flat


def test_a_schema_1_file_is_migrated_and_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    with_samples = sampled()
    results = [tiny(), with_samples, static(tiny())]
    flat = write_schema_1(path, results)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        columns = [r[1] for r in conn.execute("PRAGMA table_info(measurements)")]
        assert columns[-1] == "result" and "analysis" not in columns
        before = conn.execute("SELECT result FROM measurements ORDER BY id").fetchall()
    want = [single(tiny(), i) for i in range(3)] + [with_samples, static(tiny())]

    with zooprof.results.open(path) as db:
        assert db.version == 2
        assert db.query() == flat
        back = db.results()
        assert back == want
        timing = back[3].measurements[0]["timing"]
        assert bits(timing["samples_ms"]) == bits(with_samples.measurements[0]["timing"]["samples_ms"])
        assert db.results("runtime = 'onnxruntime'") == [want[1]]
        assert db.done_cells("m1") == {"cell0", "cell1"}
        # rows added after the migration sit beside the old ones
        db.add(sampled(), cell="new")
        assert db.count() == 6
        assert [a for a, _, _ in stored(path)] == [None] * 5 + [1]
        assert db.results("cell_key = 'new'")[0].measurements[0]["timing"]["stop_reason"] == "target_ci"
        csv_path = db.export(tmp_path / "rows.csv")
        json_path = db.export(tmp_path / "rows.json")
    assert json.loads(json_path.read_text())[:5] == flat
    assert len(csv_path.read_text().splitlines()) == 7
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")] == [1, 2]
        # the old rows were not rewritten: their JSON is byte for byte what schema 1 wrote
        assert conn.execute("SELECT result FROM measurements WHERE id <= 5 ORDER BY id").fetchall() == before
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

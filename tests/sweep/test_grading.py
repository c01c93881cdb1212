"""`zooprof grade`: one complete, one incomplete and one tampered submission (a latency edited by
hand, samples and all, which breaks energy = power x time) ranked with the reasons."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import run
from zooprof import results
from zooprof.sensors.base import POWER, Channel, Trace


def lab(tmp_path: Path) -> Path:
    """mnist-mlp on torch at batch 1 and 2, power from a replayed constant 5 W trace."""
    trace = Trace("rig", {"VDD_IN": Channel("VDD_IN", "mW", POWER)}, total="VDD_IN", total_source="VDD_IN")
    for i in range(30_001):  # 30 s at 1 kHz: replayed from the start of the sampling
        trace.append(i / 1000, {"VDD_IN": 5000.0})
    (tmp_path / "trace.json").write_text(json.dumps(trace.to_dict()))
    path = tmp_path / "lab.toml"
    path.write_text(
        f"""
[assignment]
name = "grading lab"
[matrix]
models = ["mnist-mlp"]
runtimes = ["torch"]
batches = [1, 2]
[measure]
max_time = 0.3
power = true
sensor = "replay:{tmp_path / "trace.json"}"
idle = "0"
[grading]
required = "all"
max_ci_rel = 0.5
min_iterations = 5
energy_rel_tol = 0.02
"""
    )
    return path


@pytest.mark.slow
def test_complete_incomplete_and_tampered_are_ranked_with_reasons(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assignment = lab(tmp_path)
    subs = tmp_path / "submissions"
    subs.mkdir()
    code, _, err = run(capsys, "sweep", str(assignment), "--db", str(subs / "alice.db"))
    assert code == 0, err
    with results.open(subs / "alice.db") as db:
        rows = db.query()
        stored = db.results()
    assert [r["status"] for r in rows] == ["ok", "ok"] and rows[0]["energy_per_inference_mj"] is None  # idle 0

    # bob handed in one cell of two
    shutil.copy(subs / "alice.db", subs / "bob.db")
    conn = sqlite3.connect(subs / "bob.db")
    conn.execute("DELETE FROM measurements WHERE batch = 2")
    conn.commit()
    conn.close()

    # carol edited batch 1's latency to half, samples and all, in her result files
    carol = subs / "carol"
    carol.mkdir()
    for i, result in enumerate(stored):
        m = result.measurements[0]
        if m["batch"] == 1:
            timing = m["timing"]
            timing["samples_ms"] = [x / 2 for x in timing["samples_ms"]]
            for key in ("median", "mean", "p90", "p99", "min", "max"):
                timing["latency_ms"][key] /= 2
        result.save(carol / f"r{i}.json")

    out_csv = tmp_path / "grades.csv"
    code, out, err = run(
        capsys,
        "grade",
        str(subs),
        "--assignment",
        str(assignment),
        "-o",
        str(out_csv),
        "--report",
        str(tmp_path / "c.html"),
    )
    assert code == 0, err
    grades = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert [g["submission"] for g in grades] == ["alice", "bob", "carol"]
    alice, bob, carol_row = grades
    assert float(alice["score"]) == 100.0 and alice["complete"] == "2" and not alice["tampered"]
    assert float(bob["score"]) == 50.0 and bob["complete"] == "1"
    assert float(carol_row["score"]) == 0.0 and "energy = power x time does not hold" in carol_row["tampered"]
    assert "mnist-mlp torch b1" in carol_row["tampered"]
    page = (tmp_path / "c.html").read_text()
    assert "<h1>grading lab</h1>" in page and "carol" in page


def test_grading_needs_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "lab.toml"
    path.write_text("[assignment]\nname = 'x'\n[matrix]\nmodels = ['mnist-mlp']\n")
    code, _, err = run(capsys, "grade", str(tmp_path / "none"), "--assignment", str(path))
    assert code == 2 and "not a folder of submissions" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "grade", str(tmp_path / "empty"), "--assignment", str(path))
    assert code == 2 and "no submissions" in err

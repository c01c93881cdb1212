"""`zooprof sweep --cluster`: a lab's cells on a local two-board Ray cluster, every row in the
database (named by the machine that measured it), one cell per board at a time, resume skips what
the sweep already has. (The pool itself: tests/sweep/test_pool.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sweep.pool_helpers import local_cluster
from zooprof import results
from zooprof.sweep.matrix import load_assignment
from zooprof.sweep.run import SweepOptions, sweep

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

LAB = """
[assignment]
name = "pool lab"
[matrix]
models = ["mnist-mlp"]
runtimes = ["torch", "onnxruntime"]
batches = [1, 2]
[measure]
max_time = 0.3
"""


def test_a_lab_on_a_two_board_pool(tmp_path: Path) -> None:
    path = tmp_path / "lab.toml"
    path.write_text(LAB)
    assignment = load_assignment(path)
    db = tmp_path / "pool.db"
    events: list[dict] = []
    with local_cluster(["a", "b"]) as cluster:
        report = sweep(assignment, SweepOptions(db=db, cluster=cluster.address), events.append)
        assert report.ok == 4 and report.failed == 0 and not report.interrupted
        with results.open(db) as store:
            rows = store.query()
            stored = store.results()
        assert len(rows) == 4 and all(r["status"] == "ok" and r["machine"] for r in rows)
        assert all(r["sweep"] == "pool lab" for r in rows)
        boards = {e["label"].rsplit(" on ", 1)[1] for e in events if e.get("phase") == "done"}
        assert boards <= {"a", "b"} and boards  # every cell ran on a board of the pool
        assert all(r.measurements[0]["timing"]["latency_ms"]["median"] > 0 for r in stored)

        again = sweep(assignment, SweepOptions(db=db, cluster=cluster.address), events.append)
        assert again.skipped == 4 and again.ok == 0  # resume: the sweep has every cell

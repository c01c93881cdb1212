"""Several processes adding rows to one new results file at once lose and corrupt nothing."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

import zooprof.results
from tests.results.helpers import add_concurrently
from zooprof.results.schema import SCHEMA_VERSION

WRITERS = 3
EACH = 200


@pytest.mark.slow
def test_concurrent_writers_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"  # created by whichever writer comes first
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS)
    procs = [ctx.Process(target=add_concurrently, args=(str(path), w, EACH, barrier)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    with zooprof.results.open(path) as db:
        assert db.count() == WRITERS * EACH
        for w in range(WRITERS):
            assert sorted(r["repeat"] for r in db.query("sweep = ?", (f"w{w}",), columns=["repeat"])) == list(
                range(EACH)
            )
        assert len({r["id"] for r in db.query(columns=["id"])}) == WRITERS * EACH
        assert len(db.done_cells("m")) == WRITERS * EACH
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # one analysis for all of the writers' rows: none added twice by writers racing
        assert conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0] == 1

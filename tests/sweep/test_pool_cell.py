"""zooprof.sweep.cluster.PoolCell, what a board's Ray actor runs per cell: one ssh connection held
across the board's cells, dropped after a cell that failed over it, closed at the end. Stand-ins
for the connection and the measurement (the real ones run in tests/sweep/test_pool_ssh.py)."""

from __future__ import annotations

from typing import Any

import pytest

from zooprof.sweep import cell as cell_module
from zooprof.sweep import cluster
from zooprof.sweep.cell import failed_result
from zooprof.sweep.pool import BoardUnavailable, BoardWorker


class FakeBoard:
    def __init__(self, n: int) -> None:
        self.n, self.closed = n, False

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    state: dict[str, Any] = {"boards": [], "used": [], "fail_next": None}

    def reach(remote: Any) -> FakeBoard:
        if remote.on == "down":
            raise BoardUnavailable("cannot connect to down")
        board = FakeBoard(len(state["boards"]))
        state["boards"].append(board)
        return board

    def run_cell(assignment: Any, cell: dict[str, Any], remote: Any = None, board: Any = None) -> Any:
        assert board is not None and not board.closed
        state["used"].append(board.n)
        failure, state["fail_next"] = state["fail_next"], None
        if failure:
            return failed_result(cell, f"{failure} failure", failure)
        result = failed_result(cell, "measured")  # any result will do: its rows are what matter
        result.measurements[0].update(status="ok", failure=None)
        return result

    monkeypatch.setattr(cluster, "reach", reach)
    monkeypatch.setattr(cell_module, "run_cell", run_cell)
    return state


def cell(batch: int, target: str = "zp-board") -> dict[str, Any]:
    return {"model": "mnist-mlp", "batch": batch, "_assignment": None, "_ssh": {"near": target}}


def test_one_connection_for_the_boards_cells_closed_at_the_end(fakes: dict[str, Any]) -> None:
    worker = BoardWorker("near", cluster.PoolCell())
    for batch in (1, 2, 4):
        out = worker.run(cell(batch))
        assert out["error"] is None and out["result"]["board"] == "near"
    assert fakes["used"] == [0, 0, 0] and len(fakes["boards"]) == 1 and not fakes["boards"][0].closed
    worker.close()
    assert fakes["boards"][0].closed
    worker.close()  # twice is harmless


def test_a_cell_failed_over_the_connection_makes_the_next_reconnect(fakes: dict[str, Any]) -> None:
    run = cluster.PoolCell()
    run(cell(1), "near")
    fakes["fail_next"] = "remote"  # e.g. "connection lost during the agent's run"
    out = run(cell(2), "near")
    assert out["measurements"][0]["failure"] == "remote" and fakes["boards"][0].closed
    fakes["fail_next"] = "exception"  # the cell's own failure: the connection is kept
    run(cell(4), "near")
    run(cell(8), "near")
    assert fakes["used"] == [0, 0, 1, 1] and not fakes["boards"][1].closed
    run.close()
    assert all(b.closed for b in fakes["boards"])


def test_an_unreachable_board_is_the_boards_fault_not_the_cells(fakes: dict[str, Any]) -> None:
    worker = BoardWorker("near", cluster.PoolCell())
    out = worker.run(cell(1, target="down"))
    assert out["unavailable"] == "cannot connect to down" and out["result"] is None
    assert fakes["boards"] == []


def test_a_worker_whose_run_cell_holds_nothing_closes_quietly() -> None:
    BoardWorker("near", lambda c, b: {}).close()

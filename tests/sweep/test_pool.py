"""The pool of boards on Ray (zooprof.sweep.pool): a local cluster whose nodes hold `board:a` and
`board:b`, cells that sleep and say when they ran. Checked against the boards' own clocks: every
cell ends once, both boards work, and no board ever runs two cells at once; a board killed under a
cell loses nothing; a cell that raises fails alone; a cluster without boards is a UsageError."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sweep.pool_helpers import add_board, free_port, local_cluster, make_cells, picky_cell, sleepy_cell
from zooprof.errors import UsageError
from zooprof.sweep.pool import board_resources, run_pool

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster(["a", "b"], client_port=free_port()) as c:
        yield c


def _collect() -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], Any]:
    done: list[tuple[dict[str, Any], dict[str, Any]]] = []
    return done, lambda cell, result: done.append((cell, result))


@pytest.mark.slow
def test_every_cell_runs_once_and_a_board_never_runs_two_at_once(cluster: Any) -> None:
    done, on_done = _collect()
    events: list[dict[str, Any]] = []
    cells = make_cells(12, seconds=0.3)
    report = run_pool(cells, sleepy_cell, on_done, address=cluster.address, progress=events.append)

    assert [r.status for r in report.runs] == ["ok"] * 12
    assert sorted(c["model"] for c, _ in done) == sorted(c["model"] for c in cells)  # each once
    assert {r.board for r in report.runs} == {"a", "b"} and report.boards == ["a", "b"] and not report.lost
    assert all(r.attempts == 1 for r in report.runs)
    for cell, result in done:  # on_done got run_cell's own dict; the actor's times wrap run_cell's
        run = report.runs[cells.index(cell)]
        assert run.board == result["board"]
        assert run.start <= result["start"] < result["start"] + 0.3 <= result["end"] <= run.end < run.start + 1.0
    for board in ("a", "b"):
        spans = sorted((r.start, r.end) for r in report.runs if r.board == board)
        assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False)), spans
        assert len({res["pid"] for _, res in done if res["board"] == board}) == 1  # one actor per board
    assert [e["event"] for e in events].count("started") == 12 and events[-1]["ok"] == 12


@pytest.mark.slow
def test_a_cell_that_raises_fails_alone_and_is_not_retried(cluster: Any) -> None:
    done, on_done = _collect()
    cells = make_cells(6, seconds=0.1)
    cells[2]["broken"] = True
    report = run_pool(cells, picky_cell, on_done, address=cluster.address, max_retries=2)

    assert [r.status for r in report.runs] == ["ok", "ok", "failed", "ok", "ok", "ok"]
    failed = report.runs[2]
    assert failed.reason == "ValueError: model m2 cannot be read" and failed.attempts == 1
    assert failed.board in {"a", "b"} and failed.start is not None and not report.lost
    (result,) = [res for cell, res in done if cell["model"] == "m2"]
    assert result == {"status": "failed", "reason": failed.reason, "board": failed.board, "attempts": 1}


@pytest.mark.slow
def test_a_cell_over_its_time_limit_fails_and_frees_its_board(cluster: Any) -> None:
    done, on_done = _collect()
    cells = make_cells(3, seconds=0.1)
    cells[0]["seconds"] = 30.0
    report = run_pool(cells, sleepy_cell, on_done, address=cluster.address, boards=["a"], cell_timeout=3.0)

    assert [r.status for r in report.runs] == ["failed", "ok", "ok"]
    assert report.runs[0].reason == "timed out after 3 s on board a"
    assert {r.board for r in report.runs} == {"a"} and not report.lost


@pytest.mark.slow
def test_a_driver_elsewhere_runs_the_pool_over_ray_client(cluster: Any) -> None:
    # `zooprof sweep --cluster ray://HEAD:10001` from a laptop: a separate process, Ray Client only;
    # the helpers travel by value (a real run_cell is zooprof's own, installed on every node)
    port = cluster.client_port
    code = textwrap.dedent(f"""
        import json, ray.cloudpickle
        import tests.sweep.pool_helpers as helpers
        from zooprof.sweep.pool import run_pool
        ray.cloudpickle.register_pickle_by_value(helpers)
        done = []
        report = run_pool(helpers.make_cells(4, seconds=0.2), helpers.sleepy_cell,
                          lambda cell, result: done.append(result), address="ray://127.0.0.1:{port}", boards=["a", "b"])
        print(json.dumps({{"status": [r.status for r in report.runs], "boards": sorted({{r.board for r in report.runs}}),
                          "done": sorted(result["model"] for result in done)}}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    logs = Path(cluster.head_node.get_session_dir_path()) / "logs"
    server_logs = "".join(p.read_text()[-1500:] for p in sorted(logs.glob("ray_client_server*.err")))
    assert proc.returncode == 0, proc.stderr[-1500:] + server_logs
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"status": ["ok"] * 4, "boards": ["a", "b"], "done": ["m0", "m1", "m2", "m3"]}


@pytest.mark.slow
def test_a_board_killed_under_a_cell_loses_nothing(cluster: Any) -> None:
    node_c = add_board(cluster, "c")
    done, on_done = _collect()
    on_c: dict[int, str] = {}  # cell -> what became of it on board c: "running", "done"
    killed: list[dict[int, str]] = []

    def progress(event: dict[str, Any]) -> None:
        if event["board"] == "c" and event["event"] in ("started", "done"):
            on_c[event["index"]] = "running" if event["event"] == "started" else "done"
        # once 3 cells are done and c is in the middle of one: c's node dies (no goodbye)
        if not killed and event["ok"] >= 3 and "running" in on_c.values():
            killed.append(dict(on_c))
            cluster.remove_node(node_c, allow_graceful=False)

    # a cell takes 0.5 s on a, 8 s on c: c's node is surely killed while c is running a cell
    cells = make_cells(12, seconds=0.5, seconds_on={"c": 8.0})
    report = run_pool(cells, sleepy_cell, on_done, address=cluster.address, boards=["a", "c"], progress=progress)

    assert killed, "board c never ran a cell"
    (lost,) = [index for index, state in killed[0].items() if state == "running"]
    assert [r.status for r in report.runs] == ["ok"] * 12 and len(done) == 12
    assert sorted(c["model"] for c, _ in done) == sorted(c["model"] for c in cells)  # each cell once
    assert report.runs[lost].attempts == 2 and report.runs[lost].boards_tried == ["c", "a"]
    assert report.runs[lost].board == "a"
    assert [r.index for r in report.runs if r.attempts != 1] == [lost]
    assert set(report.lost) == {"c"} and all(r.board == "a" for r in report.runs)


@pytest.mark.slow
def test_the_last_board_lost_fails_the_rest_instead_of_hanging(cluster: Any) -> None:
    node_d = add_board(cluster, "d")
    done, on_done = _collect()

    def progress(event: dict[str, Any]) -> None:
        if event["event"] == "started" and event["index"] == 2:
            cluster.remove_node(node_d, allow_graceful=False)

    cells = make_cells(5, seconds=0.3)
    cells[2]["seconds"] = 8.0  # still running when its node dies
    report = run_pool(cells, sleepy_cell, on_done, address=cluster.address, boards=["d"],
                      max_retries=1, progress=progress, board_timeout=5.0)  # fmt: skip

    assert [r.status for r in report.runs] == ["ok", "ok", "failed", "failed", "failed"]
    assert set(report.lost) == {"d"} and len(done) == 5
    assert [r.reason for r in report.runs[2:]] == [f"no board left (d: {report.lost['d']})"] * 3
    assert report.runs[2].attempts == 1


@pytest.mark.slow
def test_a_board_the_cluster_lacks_is_a_usage_error(cluster: Any) -> None:
    with pytest.raises(UsageError, match=r"board nano is not in the Ray cluster \(its boards: a, b"):
        run_pool(make_cells(1), sleepy_cell, lambda c, r: None, address=cluster.address, boards=["nano"])


class _NoBoards:
    """Just enough of the `ray` module for a cluster without any board resource."""

    def is_initialized(self) -> bool:
        return True

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 2.0, "memory": 1e9, "node:__internal_head__": 1.0}


def test_a_cluster_without_boards_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", _NoBoards())
    with pytest.raises(UsageError) as exc:
        run_pool(make_cells(1), sleepy_cell, lambda c, r: None, address="auto")
    assert "no boards" in str(exc.value)
    assert """ray start --address HEAD:6379 --resources '{"board:nano": 1}'""" in str(exc.value)


class _NoCluster:
    """Just enough of the `ray` module for a process connected to nothing, with no cluster to find."""

    def is_initialized(self) -> bool:
        return False

    def init(self, address: str | None = None, **kwargs: Any) -> None:
        raise ConnectionError("Could not find any running Ray instance.\nPlease specify the one to connect to.")


def test_no_cluster_to_connect_to_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", _NoCluster())
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(UsageError, match=r"^no Ray cluster to run the pool on \(pass the cluster's address"):
        run_pool(make_cells(1), sleepy_cell, lambda c, r: None)  # None never starts a cluster here
    with pytest.raises(UsageError) as exc:
        run_pool(make_cells(1), sleepy_cell, lambda c, r: None, address="auto")
    assert str(exc.value).startswith(
        "cannot connect to the Ray cluster at auto: Could not find any running Ray instance. (check that the head"
    )


def test_board_names_come_from_the_board_resources() -> None:
    resources = {"CPU": 4.0, "board:nano": 1.0, "board:orin-nx": 1.0, "board:gone": 0.0, "boardx": 1.0}
    assert board_resources(resources) == ["nano", "orin-nx"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries": -1}, "max_retries must be a whole number >= 0"),
        ({"cell_timeout": 0}, "cell_timeout must be a number of seconds > 0"),
        ({"cells": [("m", "torch")]}, "the pool's cells must be a list of dicts"),
    ],
)
def test_bad_arguments_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    cells = kwargs.pop("cells", make_cells(1))
    with pytest.raises(UsageError, match=message):
        run_pool(cells, sleepy_cell, lambda c, r: None, **kwargs)

"""`zooprof sweep --cluster ... --boards NAME=user@host`: boards of the Ray pool driven over SSH by the
node that holds their resource. A local Ray cluster (tests/sweep/pool_helpers.py) whose board `near`
reaches the real OpenSSH server on 127.0.0.1 (tests/remote/sshd.py, a fake Orin Nano tree): real
cells measured by the board's agent, their rows in the results database under the board's machine
record; a board whose ssh target refuses connections leaves the pool and its cells go back to the
queue or fail with the one-line reason, never a hang."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run
from tests.remote.sshd import LocalSshd, board_env, free_port, missing, open_connections, start_board
from tests.sweep.pool_helpers import local_cluster
from zooprof import results
from zooprof.sweep.matrix import machine_fingerprint

pytest.importorskip("ray")
REQUIRED = os.environ.get("ZOOPROF_REQUIRE_SSH") == "1"  # `make test` installs OpenSSH
pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None and not REQUIRED, reason=str(missing()))]

LAB = """
[assignment]
name = "ssh pool lab"
[matrix]
models = ["mnist-mlp"]
runtimes = ["onnxruntime"]
batches = [1, 2, 4]
[measure]
max_time = 0.5
"""
BOARD_MODEL = "NVIDIA Jetson Orin Nano Developer Kit"  # tests/sensors/fake_boards.orin_nano_board


@pytest.fixture
def pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, LocalSshd]]:
    """The ssh server and a cluster with boards `near` and `far`; the boards' nodes start with the
    board's cache, Python and fake tree in their environment (board_env), as their actors need."""
    sshd = start_board(tmp_path)
    for key, value in board_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    try:
        with local_cluster(["near", "far"]) as cluster:
            yield cluster, sshd
    finally:
        sshd.stop()


def sweep(capsys: pytest.CaptureFixture[str], tmp_path: Path, cluster: Any, sshd: LocalSshd, boards: str, db: str):
    lab = tmp_path / "lab.toml"
    lab.write_text(LAB)
    args = ["sweep", str(lab), "--db", str(tmp_path / db), "--cluster", cluster.address, "--boards", boards]
    return run(capsys, *args, "--ssh-config", str(sshd.config))


def test_boards_over_ssh_in_a_ray_pool(
    pool: tuple[Any, LocalSshd], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cluster, sshd = pool
    dead = f"root@127.0.0.1:{free_port()}"  # nothing listens there: ssh's connection is refused

    # near reaches the board, far does not: far leaves the pool, every cell is measured on near
    code, out, err = sweep(capsys, tmp_path, cluster, sshd, f"near=zp-board,far={dead}", "ok.db")
    assert code == 0, out + err
    assert "ssh pool lab: 3 ok, 0 failed, 0 already done of 3 cells" in out
    assert f"board far lost: cannot connect to {dead}: ssh: connect to host 127.0.0.1 port" in out
    assert "Connection refused" in out and "Traceback" not in out + err
    # the board's actor held one connection for its 3 cells and closed it as the pool ended
    assert sshd.logins() == 1 and open_connections(sshd) == 0
    with results.open(tmp_path / "ok.db") as store:
        rows = store.query()
        stored = store.results()
    assert len(rows) == 3 and all(r["status"] == "ok" and r["sweep"] == "ssh pool lab" for r in rows)
    assert sorted(r["batch"] for r in rows) == [1, 2, 4]
    for row, result in zip(rows, stored, strict=True):
        env = result.environment
        assert env["board"]["model"] == BOARD_MODEL and env["remote"]["target"] == "zp-board"
        assert env["host"]  # the record of the node that drove the board, kept aside
        assert row["machine"] == machine_fingerprint(env)
        measured = result.measurements[0]
        assert measured["timing"]["timer"].endswith("on the board") and measured["timing"]["latency_ms"]["median"] > 0
    (machine,) = {r["machine"] for r in rows}
    assert machine != machine_fingerprint(stored[0].environment["host"])  # the board's, not the node's

    # only the unreachable board: every cell fails at once with the reason on one line
    started = time.monotonic()
    code, out, err = sweep(capsys, tmp_path, cluster, sshd, f"far={dead}", "dead.db")
    assert time.monotonic() - started < 60 and code == 1
    assert "ssh pool lab: 0 ok, 3 failed" in out and "Traceback" not in out + err
    with results.open(tmp_path / "dead.db") as store:
        rows = store.query()
    assert len(rows) == 3 and all(r["status"] == "failed" and r["failure"] == "remote" for r in rows)
    reasons = {r["reason"] for r in rows}
    assert len(reasons) == 1 and "\n" not in next(iter(reasons))
    assert next(iter(reasons)).startswith(f"no board left (far: cannot connect to {dead}: ssh: connect to host")
    assert sshd.logins() == 1  # nothing reached the server

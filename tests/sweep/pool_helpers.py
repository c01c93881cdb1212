"""Helpers for the pool tests: a local Ray cluster with boards, cells, and the `run_cell` functions
the boards' actors run (module-level, so Ray can import them on every node)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock


def make_cells(n: int, seconds: float = 0.3, **extra: Any) -> list[dict[str, Any]]:
    """`n` sweep cells (the keys of zooprof.sweep.matrix's cells), each asking to take `seconds`."""
    return [
        {"model": f"m{i}", "runtime": "onnxruntime", "device": None, "precision": None, "batch": 1, "threads": None,
         "input_shape": None, "power_mode": None, "repeat": 0, "seconds": seconds, **extra}
        for i in range(n)
    ]  # fmt: skip


def sleepy_cell(cell: dict[str, Any], board: str) -> dict[str, Any]:
    """A stand-in measurement: holds the board for cell["seconds"] (or cell["seconds_on"][board]),
    says when, where and who."""
    start = time.time()
    time.sleep(cell.get("seconds_on", {}).get(board, cell["seconds"]))
    return {"model": cell["model"], "board": board, "start": start, "end": time.time(), "pid": os.getpid()}


def picky_cell(cell: dict[str, Any], board: str) -> dict[str, Any]:
    """Like sleepy_cell, but a cell with "broken" fails the way a model zooprof cannot read does."""
    if cell.get("broken"):
        raise ValueError(f"model {cell['model']} cannot be read")
    return sleepy_cell(cell, board)


@contextmanager
def local_cluster(boards: list[str], client_port: int | None = None) -> Iterator[Any]:
    """A Ray cluster on this machine: a head with no CPUs (it runs nothing; with a Ray Client
    server on `client_port`) and one node per board, holding the resource `board:NAME`; this
    process connected to it."""
    import ray
    from ray.cluster_utils import Cluster

    temp_dir = tempfile.mkdtemp(prefix="zr")  # short: Ray's unix sockets live under it
    # Cluster() also writes the head's address to Ray's default folder (/tmp/ray), which a fresh
    # machine does not have yet
    os.makedirs(os.path.join(os.environ.get("RAY_TMPDIR") or tempfile.gettempdir(), "ray"), exist_ok=True)
    head_args = {"num_cpus": 0, "temp_dir": temp_dir, "ray_client_server_port": client_port}
    # the head's Ray Client proxy gives each client's own server 30 s to start: short on a busy machine
    with mock.patch.dict(os.environ, {"RAY_CLIENT_SERVER_CHECK_CHANNEL_TIMEOUT_S": "120"}):
        cluster = Cluster(initialize_head=True, head_node_args=head_args)
    try:
        cluster.client_port = client_port
        cluster.board_nodes = {b: add_board(cluster, b) for b in boards}
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_board(cluster: Any, board: str) -> Any:
    """A node of `cluster` with one CPU and the resource of `board`."""
    return cluster.add_node(num_cpus=1, resources={f"board:{board}": 1}, temp_dir=cluster.head_node.get_temp_dir_path())

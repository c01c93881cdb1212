"""`zooprof sweep --cluster ADDRESS`: the cells of a sweep spread over a Ray pool of boards
(zooprof.sweep.pool), each result streamed into the results database as it arrives.

A board that runs Ray itself measures its cells locally; a board given as `NAME=user@host` in
`--boards` is driven over SSH (`--on`, with the sweep's `--ssh-config` and `--board-python`) by the
node that holds its `board:NAME` resource (boards on JetPack 4/5 have no Python for Ray). That
board's actor connects once (one ssh ControlMaster) and runs all its cells through the connection;
it reconnects after a cell whose row failed over the connection ("remote"), and closes it when the
pool ends. An actor killed under a cell (its time limit, a lost node) cannot close it: ssh's master
then ends by itself 120 s after its last use (ControlPersist). A board whose SSH target cannot be
reached leaves the pool and its cell goes back to the queue (zooprof.sweep.pool.BoardUnavailable).
Rows are named by the machine that measured them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.result.document import ProfileResult
from zooprof.sweep.matrix import Assignment, Cell, cell_label, machine_fingerprint


class PoolCell:
    """What a board's Ray actor runs for each cell (`run_pool`'s `run_cell`; each actor has its own
    copy): the cell on this node, or on the board over SSH through a connection held between
    cells. `close()` ends the connection (the pool calls it through `BoardWorker.close`)."""

    def __init__(self) -> None:
        self.held: dict[tuple[str, str | None, str | None], Any] = {}  # (target, config, python) -> Board

    def __call__(self, cell: dict[str, Any], board: str) -> dict[str, Any]:
        """Run one cell on `board`; the result as a plain dict. A board driven over SSH is reached
        first: BoardUnavailable if it cannot be (the cell is not at fault)."""
        from types import SimpleNamespace

        from zooprof.sweep.cell import run_cell

        assignment: Assignment = cell["_assignment"]
        target = (cell.get("_ssh") or {}).get(board)
        plain = {k: v for k, v in cell.items() if not k.startswith("_")}
        if target is None:
            result = run_cell(assignment, plain)
        else:
            remote = SimpleNamespace(
                on=target, ssh_config=cell.get("_ssh_config"), board_python=cell.get("_board_python")
            )
            key = (target, remote.ssh_config, remote.board_python)
            if key not in self.held:
                self.held[key] = reach(remote)
            result = run_cell(assignment, plain, remote, self.held[key])
            if any(m.get("failure") == "remote" for m in result.measurements or []):
                self.held.pop(key).close()  # the connection may be what failed: the next cell reconnects
        out = result.to_dict(include_graph=False)
        out["board"] = board
        return out

    def close(self) -> None:
        while self.held:
            self.held.popitem()[1].close()


def reach(remote: Any) -> Any:
    """The board at `remote.on` with its agent in place (the connection open, closed by `with`),
    or BoardUnavailable with the one-line reason (ssh cannot connect, --ssh-config missing on this
    node, the agent cannot be copied)."""
    from zooprof.errors import ZooprofError
    from zooprof.remote.board import Board
    from zooprof.remote.ssh import parse_target
    from zooprof.sweep.pool import BoardUnavailable

    try:
        board = Board(parse_target(remote.on), remote.ssh_config, remote.board_python)
    except ZooprofError as exc:
        raise BoardUnavailable(str(exc)) from None
    try:
        board.ensure_agent()
    except ZooprofError as exc:
        board.close()
        raise BoardUnavailable(str(exc)) from None
    return board


def boards_and_targets(entries: tuple[str, ...]) -> tuple[list[str] | None, dict[str, str]]:
    """--boards 'a,b' or 'nano=nano@192.168.55.1,orin': names to use, and SSH targets by name
    (each checked: a malformed one is a UsageError before anything runs)."""
    from zooprof.remote.ssh import parse_target

    names, targets = [], {}
    for entry in entries:
        name, _, target = entry.partition("=")
        if not name.strip():
            raise UsageError(f"--boards entry '{entry}' has no board name", "give NAME or NAME=user@host")
        names.append(name.strip())
        if target.strip():
            parse_target(target.strip())
            targets[name.strip()] = target.strip()
    return (names or None), targets


def node_path(path: str | None) -> str | None:
    """--ssh-config for the boards' nodes: absolute when it exists here (a Ray worker does not run
    in this folder), else as given (a path on the node that drives the board)."""
    if path is None:
        return None
    here = Path(path).expanduser()
    return str(here.resolve()) if here.is_file() else path


def sweep_on_pool(
    assignment: Assignment, todo: list[Cell], options: Any, db: Any, sweep_id: str, report: Any, say: Any
) -> None:
    from zooprof.sweep.cell import count, failed_result, status_of, store
    from zooprof.sweep.pool import run_pool

    names, targets = boards_and_targets(options.boards)
    remote = {"_ssh": targets, "_ssh_config": node_path(options.ssh_config), "_board_python": options.board_python}
    payload = [{**cell, "_assignment": assignment, **remote} for cell in todo]
    done = {"n": 0}

    def on_done(cell: dict[str, Any], out: dict[str, Any]) -> None:
        plain = {k: v for k, v in cell.items() if not k.startswith("_")}
        if "model" in out and "measurements" in out:
            result = ProfileResult.from_dict({k: v for k, v in out.items() if k != "board"})
        else:  # the pool's own failure: the board was lost too often, or none is left
            where = f" (board {out['board']})" if out.get("board") else ""
            result = failed_result(plain, f"{out.get('reason')}{where}", "remote")
        machine = machine_fingerprint(result.environment) if result.environment else None
        store(db, result, plain, sweep_id, machine)
        count(result, plain, report)
        done["n"] += 1
        say({"cell": done["n"], "of": len(todo), "label": f"{cell_label(plain)} on {out.get('board') or 'no board'}",
             "phase": "done", "status": status_of(result),
             "elapsed": 0.0})  # fmt: skip

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") in ("retry", "board-lost"):
            say(
                {
                    "phase": f"{event.get('event')}: {event.get('board')} {event.get('reason') or ''}".strip(),
                    "note": True,
                }
            )

    try:
        pool = run_pool(payload, PoolCell(), on_done, address=options.cluster, boards=names, progress=on_event)
    except KeyboardInterrupt:
        report.interrupted = True
        return
    for board, why in pool.lost.items():
        report.notes.append(f"board {board} lost: {why}")

"""`zooprof sweep --cluster ADDRESS`: the cells of a sweep spread over a Ray pool of boards
(zooprof.sweep.pool), each result streamed into the results database as it arrives.

A board that runs Ray itself measures its cells locally; a board given as `NAME=user@host` in
`--boards` is driven over SSH (`--on`) by the node that holds its `board:NAME` resource (boards on
JetPack 4/5 have no Python for Ray). Rows are named by the machine that measured them.
"""

from __future__ import annotations

from typing import Any

from zooprof.result.document import ProfileResult
from zooprof.sweep.matrix import Assignment, Cell, cell_label, machine_fingerprint


def pool_cell(cell: dict[str, Any], board: str) -> dict[str, Any]:
    """Run one cell on `board` (inside its Ray actor); the result as a plain dict."""
    from types import SimpleNamespace

    from zooprof.sweep.cell import run_cell

    assignment: Assignment = cell["_assignment"]
    target = (cell.get("_ssh") or {}).get(board)
    remote = SimpleNamespace(on=target, ssh_config=None, board_python=None) if target else None
    plain = {k: v for k, v in cell.items() if not k.startswith("_")}
    result = run_cell(assignment, plain, remote)
    out = result.to_dict(include_graph=False)
    out["board"] = board
    return out


def boards_and_targets(entries: tuple[str, ...]) -> tuple[list[str] | None, dict[str, str]]:
    """--boards 'a,b' or 'nano=nano@192.168.55.1,orin': names to use, and SSH targets by name."""
    names, targets = [], {}
    for entry in entries:
        name, _, target = entry.partition("=")
        names.append(name.strip())
        if target.strip():
            targets[name.strip()] = target.strip()
    return (names or None), targets


def sweep_on_pool(
    assignment: Assignment, todo: list[Cell], options: Any, db: Any, sweep_id: str, report: Any, say: Any
) -> None:
    from zooprof.sweep.cell import count, failed_result, status_of, store
    from zooprof.sweep.pool import run_pool

    names, targets = boards_and_targets(options.boards)
    payload = [{**cell, "_assignment": assignment, "_ssh": targets} for cell in todo]
    done = {"n": 0}

    def on_done(cell: dict[str, Any], out: dict[str, Any]) -> None:
        plain = {k: v for k, v in cell.items() if not k.startswith("_")}
        if "model" in out and "measurements" in out:
            result = ProfileResult.from_dict({k: v for k, v in out.items() if k != "board"})
        else:  # the pool's own failure: the board was lost too often, or none is left
            result = failed_result(plain, f"{out.get('reason')} (board {out.get('board')})", "remote")
        machine = machine_fingerprint(result.environment) if result.environment else None
        store(db, result, plain, sweep_id, machine)
        count(result, plain, report)
        done["n"] += 1
        say({"cell": done["n"], "of": len(todo), "label": f"{cell_label(plain)} on {out.get('board')}",
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
        pool = run_pool(payload, pool_cell, on_done, address=options.cluster, boards=names, progress=on_event)
    except KeyboardInterrupt:
        report.interrupted = True
        return
    for board, why in pool.lost.items():
        report.notes.append(f"board {board} lost: {why}")

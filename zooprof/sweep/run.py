"""`zooprof sweep`: every cell of an assignment, measured one at a time, each row into the results
database as soon as it ends.

- Resume (default): a cell the database already has for this machine is skipped; `--rerun`
  measures every cell again (the old rows stay, the newest counts).
- A cell that fails (a crash, a timeout, a model zooprof cannot read) is a failed row with the
  reason; the sweep goes on. Ctrl-C stops after saying what is done; every finished cell is kept,
  and running the same command again measures only the rest.
- Power modes (Jetson): cells are ordered by mode; the mode is set (`nvpmodel -m`), given time to
  settle and checked before its cells, and the board's own mode is restored at the end.
- Cooldown between cells: a fixed wait and/or until the hottest thermal zone is below a
  temperature (at most `max_wait_s`).
- `--on HOST`: every cell on a board over ssh, through one connection (one ssh ControlMaster)
  for the whole sweep: the machine record, every cell and the power-mode switches; closed when
  the sweep ends, also on Ctrl-C or an error. `--cluster ADDRESS`: cells spread over a Ray pool
  of boards (zooprof.sweep.pool), results streamed back into the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zooprof.sweep.cell import SweepReport, count, run_cell, status_of, store
from zooprof.sweep.matrix import Assignment, Cell, cell_key, cell_label, machine_fingerprint

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class SweepOptions:
    db: Path
    resume: bool = True
    on: str | None = None
    ssh_config: str | None = None
    board_python: str | None = None
    cluster: str | None = None
    boards: tuple[str, ...] = ()
    settle_s: float = 5.0
    sweep_id: str | None = None


def sweep_board(options: SweepOptions) -> AbstractContextManager[Any]:
    """The sweep's board over ssh (`--on`), closed when the `with` ends however it ends; a
    context of None without `--on`."""
    if not options.on:
        return nullcontext(None)
    from zooprof.remote.board import Board
    from zooprof.remote.ssh import parse_target

    return Board(parse_target(options.on), options.ssh_config, options.board_python)


def this_machine(options: SweepOptions, board: Any = None) -> dict[str, Any]:
    """The environment record whose fingerprint names the rows (a board's, with --on: asked over
    `board`, the sweep's open Board, or a connection of its own)."""
    if not options.on:
        from zooprof.measure.environment import environment

        return environment()
    if board is None:
        with sweep_board(options) as own:
            return this_machine(options, own)
    from zooprof.remote.run import board_root

    found = board.agent("check", {"sysfs_root": board_root()} if board_root() else {}, 120.0)
    record = found.get("board") or {}
    return {"board": record, "cpu_model": record.get("cpu_model"), "memory_bytes": record.get("memory_bytes")}


def cooldown(
    settings: dict[str, Any],
    sleep: Callable[[float], None] = time.sleep,
    hottest: Callable[[], float | None] | None = None,
) -> str | None:
    """Wait between cells as the assignment says; what was waited for, or None. `hottest` reads the
    hottest thermal zone of the machine that runs the cells (default: this one's; with --on, the
    board's through the sweep's connection)."""
    seconds = float(settings.get("seconds", 0.0))
    if seconds > 0:
        sleep(seconds)
    limit = settings.get("temperature_c")
    if limit is None:
        return f"waited {seconds:g} s" if seconds > 0 else None
    if hottest is None:
        from zooprof.sensors import sysfs_root

        def hottest() -> float | None:
            return hottest_zone(sysfs_root())

    waited, cap = 0.0, float(settings.get("max_wait_s", 120.0))
    while True:
        now = hottest()
        if now is None:
            return "no thermal zone to wait on"
        if now < float(limit) or waited >= cap:
            return f"hottest zone {now:.1f} °C after {waited:g} s"
        sleep(2.0)
        waited += 2.0


def hottest_zone(root: Path) -> float | None:
    """The hottest thermal zone now (°C), as the board agent reads them; None without zones."""
    from zooprof.sensors.board_power import board_state

    return _hottest(board_state(str(root))["temperatures_c"])


def board_hottest(board: Any) -> Callable[[], float | None]:
    """The hottest thermal zone of the sweep's board, asked of its agent (`state`)."""
    from zooprof.remote.run import board_root

    job = {"sysfs_root": board_root()} if board_root() else {}
    return lambda: _hottest(board.agent("state", job, 60.0).get("state", {}).get("temperatures_c") or {})


def _hottest(temps: dict[str, float]) -> float | None:
    return max(temps.values()) if temps else None


def sweep(assignment: Assignment, options: SweepOptions, progress: Progress | None = None) -> SweepReport:
    """Run the assignment's matrix into `options.db`; see the module docstring."""
    from zooprof import results

    cells = assignment.cells()
    report = SweepReport(total=len(cells))
    say = progress or (lambda info: None)
    sweep_id = options.sweep_id or assignment.name
    with sweep_board(options) as board, results.open(options.db) as db:
        machine = machine_fingerprint(this_machine(options, board)) if not options.cluster else None
        done = db.done_cells(machine) if (options.resume and machine) else set()
        if options.resume and options.cluster:  # any board of the pool: what this sweep already has
            rows = db.query("sweep = ? AND status IN ('ok', 'failed')", (sweep_id,), columns=["cell_key"])
            done = {r["cell_key"] for r in rows}
        todo = [c for c in cells if cell_key(c) not in done]
        report.skipped = len(cells) - len(todo)
        if report.skipped:
            say({"phase": f"{report.skipped} of {len(cells)} cells already in {options.db} for this machine: skipped"})
        if options.cluster:
            from zooprof.sweep.cluster import sweep_on_pool

            sweep_on_pool(assignment, todo, options, db, sweep_id, report, say)
            return report
        _sweep_here(assignment, todo, options, db, machine, sweep_id, report, say, board)
    return report


def _sweep_here(
    assignment: Assignment,
    todo: list[Cell],
    options: SweepOptions,
    db: Any,
    machine: str | None,
    sweep_id: str,
    report: SweepReport,
    say: Progress,
    board: Any = None,
) -> None:
    modes = _power_modes(todo, board)
    current_mode: str | None = None
    mode_note: tuple[bool, str] = (False, "")
    started = time.monotonic()
    try:
        for i, cell in enumerate(todo):
            t0 = time.monotonic()
            if cell.get("power_mode") is not None and cell["power_mode"] != current_mode and modes is not None:
                current_mode = cell["power_mode"]
                mode_note = modes.apply(current_mode, options.settle_s)
                say({"phase": mode_note[1], "note": True})
            say({"cell": i, "of": len(todo), "label": cell_label(cell), "phase": "measuring", "elapsed": t0 - started})
            result = run_cell(assignment, cell, options, board)
            if cell.get("power_mode") is not None:
                for row in result.measurements:
                    row["power_mode_applied"], row["power_mode_note"] = mode_note
            measured = sum(float(m.get("worker_seconds") or 0.0) for m in result.measurements)
            store(db, result, cell, sweep_id, machine)
            count(result, cell, report)
            report.cell_overhead_s.append(max(0.0, time.monotonic() - t0 - measured))
            say({"cell": i + 1, "of": len(todo), "label": cell_label(cell), "phase": "done", "status": status_of(result),
                 "elapsed": time.monotonic() - started})  # fmt: skip
            if assignment.cooldown and i + 1 < len(todo):
                waited = cooldown(assignment.cooldown, hottest=board_hottest(board) if board is not None else None)
                if waited:
                    say({"phase": f"cooldown: {waited}", "note": True})
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        if modes is not None:
            restored = modes.restore()
            if restored:
                report.notes.append(restored)


def _power_modes(todo: list[Cell], board: Any) -> Any:
    """The power-mode switcher: here, or over the sweep's `board` connection (--on)."""
    if not any(c.get("power_mode") is not None for c in todo):
        return None
    from zooprof.sweep.powermodes import PowerModes

    if board is not None:
        from zooprof.remote.ssh import RemoteError

        def remote(argv: list[str]) -> tuple[int, str]:
            import shlex

            try:
                return 0, board.ssh.run(" ".join(shlex.quote(a) for a in argv) + " 2>&1", "nvpmodel", 60.0)
            except RemoteError as exc:
                return 1, str(exc)

        return PowerModes(remote)
    return PowerModes()

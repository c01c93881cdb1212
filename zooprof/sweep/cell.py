"""One cell of a sweep: its ProfileOptions, its measurement, its failure row, its count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from zooprof.errors import ZooprofError
from zooprof.result.document import ProfileResult
from zooprof.sweep.matrix import Assignment, Cell, cell_label


@dataclass
class SweepReport:
    total: int = 0
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    cell_overhead_s: list[float] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.ok + self.failed


class Remote(Protocol):
    """Where cells run when not here: a board over ssh (SweepOptions has these fields)."""

    on: str | None
    ssh_config: str | None
    board_python: str | None


def profile_options(assignment: Assignment, cell: Cell, remote: Remote | None = None) -> Any:
    """The ProfileOptions of one cell: the cell's settings and the assignment's [measure]."""
    from zooprof.measure.options import ProfileOptions
    from zooprof.sensors.sampling import PowerOptions, parse_duration

    m = assignment.measure
    power = None
    if m.get("power"):
        power = PowerOptions(
            str(m.get("sensor", "auto")), float(m.get("sample_hz", 50.0)), parse_duration(m.get("idle", "3s"))
        )
    return ProfileOptions.parse(
        runtime=cell.get("runtime"),
        batch=cell["batch"],
        input_shape=cell.get("input_shape"),
        threads=cell.get("threads"),
        device=cell.get("device"),
        precision=cell.get("precision"),
        max_time=float(m.get("max_time", 10.0)),
        target_ci=m.get("target_ci", "1%"),
        timeout=float(m.get("timeout", 300.0)),
        per_layer=bool(m.get("per_layer", False)),
        trust=bool(m.get("trust", False)),
        power=power,
        # the board's agent runs its own workers, without zooprof's watch: a limit is for cells run here
        memory_limit=None if remote and remote.on else m.get("memory_limit"),
        on=remote.on if remote else None,
        ssh_config=remote.ssh_config if remote else None,
        board_python=remote.board_python if remote else None,
        command=f"zooprof sweep {assignment.path}",
    )


def failed_result(cell: Cell, reason: str, failure: str = "exception") -> ProfileResult:
    """The row of a cell that never reached a measurement (an unreadable model, a bad option)."""
    return ProfileResult(
        model={"name": cell["model"], "reference": cell["model"]},
        totals={},
        layers=[],
        measurements=[
            {
                "runtime": cell.get("runtime") or "default",
                "batch": cell["batch"],
                "threads": cell.get("threads"),
                "device": cell.get("device"),
                "precision": cell.get("precision"),
                "status": "failed",
                "failure": failure,
                "reason": reason,
            }
        ],
    )


def run_cell(assignment: Assignment, cell: Cell, remote: Remote | None = None, board: Any = None) -> ProfileResult:
    """One cell, measured (its own worker, or the board's agent); never raises for the cell's fault.
    `board`: the sweep's open zooprof.remote.board.Board for `remote.on` (its connection reused, left
    open); without it the cell opens and closes its own."""
    from zooprof.measure.profiling import profile

    try:
        return profile(cell["model"], profile_options(assignment, cell, remote), board=board)
    except ZooprofError as exc:
        return failed_result(cell, str(exc), "unsupported" if "runtime" in str(exc) else "exception")


def status_of(result: ProfileResult) -> str:
    statuses = {m.get("status") for m in result.measurements} or {"static"}
    return "ok" if statuses == {"ok"} else "failed"


def count(result: ProfileResult, cell: Cell, report: SweepReport) -> None:
    if status_of(result) == "ok":
        report.ok += 1
        return
    report.failed += 1
    reasons = [m.get("reason") or "no reason" for m in result.measurements if m.get("status") != "ok"]
    report.failures.append((cell_label(cell), reasons[0] if reasons else "no measurement"))


def store(db: Any, result: ProfileResult, cell: Cell, sweep: str, machine: str | None) -> None:
    """The cell's rows into the results database, named by cell, sweep and machine."""
    from zooprof.sweep.matrix import cell_key

    db.add(
        result,
        cell=cell_key(cell),
        sweep=sweep,
        machine=machine,
        power_mode=cell.get("power_mode"),
        repeat=cell["repeat"],
    )

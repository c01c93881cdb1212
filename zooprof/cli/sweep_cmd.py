"""`zooprof sweep ASSIGNMENT`: the assignment's matrix, measured cell by cell into a results database."""

from __future__ import annotations

import sys
from typing import Any

import typer


def eta_text(elapsed: float, done: int, total: int) -> str:
    if done <= 0 or total <= done:
        return ""
    seconds = elapsed / done * (total - done)
    return f", ETA {int(seconds // 60)}m{int(seconds % 60):02d}s"


class SweepProgress:
    """A bar with the ETA on a terminal; one line per cell otherwise (logs, CI)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> SweepProgress:
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self.bar.__enter__()
        return self

    def __call__(self, info: dict[str, Any]) -> None:
        if "cell" not in info:
            if self.bar is not None:
                self.bar.console.print(info.get("phase", ""))
            else:
                print(info.get("phase", ""), file=sys.stderr, flush=True)
            return
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task("sweep", total=info["of"])
            self.bar.update(self.task, completed=info["cell"], description=f"{info['label']}: {info['phase']}")
            return
        if info["phase"] == "done":
            eta = eta_text(info["elapsed"], info["cell"], info["of"])
            print(f"[{info['cell']}/{info['of']}] {info['label']}: {info['status']}{eta}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def sweep(
    assignment: str = typer.Argument(..., help="The assignment file (TOML), e.g. labs/lab1.toml."),
    db: str = typer.Option("runs.db", "--db", help="The results database (SQLite), created if missing."),
    rerun: bool = typer.Option(False, "--rerun", help="Measure every cell again (default: skip cells the db has)."),
    on: str = typer.Option(
        None, "--on", help="Run every cell on a board over SSH (user@host or a ~/.ssh/config host)."
    ),
    ssh_config: str = typer.Option(
        None, "--ssh-config", help="With --on, or --cluster boards given as NAME=user@host: an ssh_config file."
    ),
    board_python: str = typer.Option(
        None, "--board-python", help="With --on, or --cluster boards over SSH: the board's Python for the agent."
    ),
    cluster: str = typer.Option(
        None, "--cluster", help="Spread the cells over a Ray pool of boards: ray://HEAD:10001 or auto."
    ),
    boards: str = typer.Option(
        None,
        "--boards",
        help="With --cluster: only these boards (comma-separated names); NAME=user@host for a board "
        "that the node holding board:NAME drives over SSH.",
    ),
    settle: float = typer.Option(5.0, "--settle", min=0, help="Seconds to let a new Jetson power mode settle."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the cells and which would run, measure nothing."),
) -> None:
    """Run a lab assignment: every cell of its matrix measured and stored; rerun to resume."""
    from pathlib import Path

    from zooprof.errors import UsageError
    from zooprof.sweep.matrix import cell_label, load_assignment
    from zooprof.sweep.run import SweepOptions
    from zooprof.sweep.run import sweep as run_sweep

    if on and cluster:
        raise UsageError("--on and --cluster both given", "one board over SSH (--on) or a pool (--cluster)")
    board_list = tuple(b.strip() for b in (boards or "").split(",") if b.strip())
    if boards is not None and not cluster:
        raise UsageError("--boards is for --cluster", "add --cluster ray://HEAD:10001 (or auto)")
    over_ssh = on or any("=" in b for b in board_list)
    if (ssh_config or board_python) and not over_ssh:
        raise UsageError(
            "--ssh-config and --board-python are for boards reached over SSH",
            "add --on user@board, or with --cluster name them --boards NAME=user@host",
        )
    if board_list:
        from zooprof.sweep.cluster import boards_and_targets

        boards_and_targets(board_list)  # a malformed NAME=user@host: exit 2 before anything runs
    spec = load_assignment(assignment)
    cells = spec.cells()
    if dry_run:
        typer.echo(f"{spec.name}: {len(cells)} cells")
        for cell in cells:
            typer.echo(f"  {cell_label(cell)}")
        return
    options = SweepOptions(
        db=Path(db),
        resume=not rerun,
        on=on,
        ssh_config=ssh_config,
        board_python=board_python,
        cluster=cluster,
        boards=board_list,
        settle_s=settle,
    )
    typer.echo(f"{spec.name}: {len(cells)} cells into {db}", err=True)
    with SweepProgress() as progress:
        report = run_sweep(spec, options, progress)
    lines = [
        f"{spec.name}: {report.ok} ok, {report.failed} failed, {report.skipped} already done"
        + (f", {report.total - report.skipped - report.done} not run (interrupted)" if report.interrupted else "")
        + f" of {report.total} cells; results in {db}"
    ]
    lines += [f"  failed: {label}: {reason}" for label, reason in report.failures]
    lines += [f"  {note}" for note in report.notes]
    if report.interrupted:
        lines.append(
            f"interrupted: run the same command again to measure the {report.total - report.skipped - report.done} cells left"
        )
    typer.echo("\n".join(lines))
    if report.interrupted:
        raise typer.Exit(130)
    if report.failed:
        raise typer.Exit(1)

"""`zooprof report`: re-render a saved result (result.json) as HTML, CSV, Markdown, JSON or a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

HINT = "give a result.json written by `zooprof profile` or `zooprof inspect -o NAME.json`"


def report(
    result_file: str = typer.Argument(
        ..., metavar="RESULT.json", help="A saved result (or the run folder holding result.json).", show_default=False
    ),
    output: str = typer.Option(
        None, "--output", "-o", help="Write to FILE; the format from its extension (.html, .csv, .md, .json, .txt)."
    ),
    fmt: str = typer.Option(
        None, "--format", "-f", help="table, csv, json, md or html (default: from -o, else table)."
    ),
    depth: int = typer.Option(None, "--depth", "-d", min=1, help="Collapse layers nested deeper than this."),
    columns: str = typer.Option(None, "--columns", "-c", help="Comma-separated columns (see docs/report-format.md)."),
    width: int = typer.Option(None, "--width", help="Table width in characters (default: the terminal's)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column whole, however wide the table."),
) -> None:
    """Render a saved result again, anywhere: measure on the board once, report on a laptop."""
    from zooprof.renderers import format_for, render
    from zooprof.renderers.views import collapse
    from zooprof.result.columns import parse_columns
    from zooprof.result.document import write_atomic

    kind = format_for(output, fmt)
    cols = parse_columns(columns)
    result = load_result(result_file)
    rows = collapse(result.layers, depth)
    tty = output is None and _stdout_tty()
    if width is None and tty:
        import shutil

        width = shutil.get_terminal_size().columns
    text = render(result, kind, rows, cols, color=tty, width=width, columns_given=columns is not None, wide=wide)
    if kind == "table" and result.measurements:
        from zooprof.renderers.measurements import render_measurements

        text = text + ("" if text.endswith("\n") else "\n") + render_measurements(result, width=width, wide=wide)
    if output:
        path = write_atomic(Path(output), text)
        typer.echo(f"wrote {path}", err=True)
    else:
        typer.echo(text, nl=not text.endswith("\n"))


def _stdout_tty() -> bool:
    import sys

    return sys.stdout.isatty()


def load_result(name: str) -> Any:
    """A ProfileResult from a file, or from a run folder's result.json. A file that is missing, not
    JSON or not a result this zooprof reads is a one-line error (zooprof.result.schema.ResultFileError)."""
    from zooprof.errors import UsageError
    from zooprof.result.document import ProfileResult

    path = Path(name)
    if path.is_dir():
        if not (path / "result.json").is_file():
            raise UsageError(f"no result.json in the folder {name}", HINT)
        path = path / "result.json"
    return ProfileResult.load(path)

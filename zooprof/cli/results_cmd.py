"""`zooprof results DB`: the rows of a results database as a table, or exported by -o's suffix."""

from __future__ import annotations

import typer

#: The columns of the table when --columns is not given (-o writes every column).
TABLE_COLUMNS = (
    "id",
    "model",
    "runtime",
    "device",
    "precision",
    "batch",
    "threads",
    "power_mode",
    "repeat",
    "status",
    "latency_median_ms",
    "latency_p99_ms",
    "ci_rel_halfwidth",
    "energy_per_inference_mj",
    "machine",
)


def results(
    database: str = typer.Argument(
        ...,
        metavar="DB",
        help="A results database (written by `zooprof sweep` or zooprof.results).",
        show_default=False,
    ),
    where: str = typer.Option(
        None, "--where", "-w", help="SQL expression over the columns, e.g. \"runtime='tensorrt' and batch=8\"."
    ),
    output: str = typer.Option(None, "--output", "-o", help="Write the rows to FILE: .csv, .json or .parquet."),
    columns: str = typer.Option(
        None, "--columns", "-c", help="Comma-separated columns (docs/result-schema.md, 'Results database')."
    ),
    limit: int = typer.Option(None, "--limit", "-n", min=0, help="At most N rows (the oldest first)."),
    width: int = typer.Option(None, "--width", help="Table width in characters (default: the terminal's)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column whole, however wide the table."),
) -> None:
    """List the measurements of a results database, filtered with --where; print or export them."""
    from zooprof.errors import UsageError
    from zooprof.results import ResultsDB
    from zooprof.results.db import EXPORT_SUFFIXES, check_columns
    from zooprof.results.schema import BY_NAME

    names = check_columns(columns.split(",") if columns is not None else None)
    if output is not None and not output.lower().endswith(EXPORT_SUFFIXES):
        raise UsageError(f"cannot write rows to '{output}'", "use a .csv, .json or .parquet file")
    with ResultsDB(database, create=False) as db:
        if output is not None:
            db.export(output, where, columns=names, limit=limit)
            n = db.count(where) if limit is None else min(limit, db.count(where))
            typer.echo(f"wrote {output} ({n} row{'s' if n != 1 else ''})", err=True)
            return
        shown = names if columns is not None else TABLE_COLUMNS
        rows = db.query(where, columns=shown, limit=limit)
        total = db.count(where)
    from zooprof.renderers.results_text import render_results_table

    matched = f" where {where}" if where else ""
    note = f"{total} row{'s' if total != 1 else ''}{matched}"
    if len(rows) < total:
        note = f"showing the first {len(rows)} of {total} rows{matched} (--limit)"
    numeric = {c for c in shown if BY_NAME[c].sql in ("INTEGER", "REAL")}
    notes = [note, "n/a: not measured or not available for that row (never 0)"]
    from zooprof.cli.common import terminal_width

    title = f"Results: {database}"
    text = render_results_table(rows, shown, title, numeric, notes, width or terminal_width(), wide)
    typer.echo(text, nl=False)

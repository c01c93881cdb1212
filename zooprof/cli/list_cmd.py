"""`zooprof list`: the zoo, from its manifests (imports no framework)."""

from __future__ import annotations

import json

import typer

from zooprof.result.columns import human


def list_models(
    pattern: str = typer.Argument("*", help="Shell-style pattern, e.g. 'mobilenet*'."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    width: int = typer.Option(None, "--width", help="Table width in characters (default: the terminal's)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column whole, however wide the table."),
) -> None:
    """List the zoo: name, task, source, input shape, params and MACs (published reference figures)."""
    from zooprof.errors import UsageError
    from zooprof.reference.registry import zoo

    entries = zoo().entries(pattern)
    if not entries:
        raise UsageError(f"no zoo entry matches '{pattern}'", "run `zooprof list` to see them all")
    records = [
        {
            "name": e.name,
            "task": e.task,
            "framework": e.framework,
            "source": e.source + ("?" + "&".join(f"{k}={v}" for k, v in e.kwargs.items()) if e.kwargs else ""),
            "input_shape": "x".join(map(str, e.input_shape)),
            "params": e.reference.get("params"),
            "macs": e.reference.get("macs"),
            "description": e.description,
        }
        for e in entries
    ]
    if fmt == "json":
        typer.echo(json.dumps(records, indent=2))
        return
    if fmt == "csv":
        import csv
        import sys

        w = csv.DictWriter(sys.stdout, fieldnames=list(records[0]), lineterminator="\n")
        w.writeheader()
        from zooprof.renderers.escape import csv_record

        w.writerows(csv_record(r) for r in records)
        return
    if fmt != "table":
        raise UsageError(f"unknown format '{fmt}'", "choose from: table, json, csv")
    from zooprof.cli.common import terminal_width
    from zooprof.renderers.fit import FitColumn, fit_table
    from zooprof.renderers.textconsole import exported, recording_console

    # names whole (two names must never look alike); the long Source is shortened, then hidden
    columns = [
        FitColumn("Name", min_width=40),
        FitColumn("Task", drop=3, min_width=8),
        FitColumn("Source", drop=4, min_width=16),
        FitColumn("Input", figure=True, drop=2),
        FitColumn("Params", figure=True, drop=1, right=True),
        FitColumn("MACs", figure=True, drop=1, right=True),
    ]
    rows = [
        [
            r["name"],
            r["task"],
            r["source"],
            r["input_shape"],
            f"{r['params']:,}" if r["params"] else "–",
            human(r["macs"]) if r["macs"] else "–",
        ]
        for r in records
    ]
    width = width or terminal_width()
    title = "zooprof zoo (params and MACs: published reference figures)"
    console = recording_console(width)
    fit_table(title, columns, rows, width, wide, pad_edge=True).print_to(console)
    typer.echo(exported(console), nl=False)

"""`zooprof list`: the zoo, from its manifests (imports no framework)."""

from __future__ import annotations

import json

import typer

from zooprof.result.columns import human


def list_models(
    pattern: str = typer.Argument("*", help="Shell-style pattern, e.g. 'mobilenet*'."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
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
        w.writerows(records)
        return
    if fmt != "table":
        raise UsageError(f"unknown format '{fmt}'", "choose from: table, json, csv")
    from rich.console import Console
    from rich.table import Table

    table = Table(title="zooprof zoo (params and MACs: published reference figures)", title_justify="left")
    for heading in ("Name", "Task", "Source", "Input", "Params", "MACs"):
        table.add_column(heading, justify="right" if heading in ("Params", "MACs") else "left", no_wrap=True)
    for r in records:
        table.add_row(
            r["name"],
            r["task"],
            r["source"],
            r["input_shape"],
            f"{r['params']:,}" if r["params"] else "–",
            human(r["macs"]) if r["macs"] else "–",
        )
    import sys

    Console(width=None if sys.stdout.isatty() else 200).print(table)

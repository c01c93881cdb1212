"""`zooprof inspect`: static analysis of one or more models, rendered as table/CSV/JSON/Markdown."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def inspect(
    models: list[str] = typer.Argument(
        ..., help="Zoo name, torchvision:NAME, package.module:callable or a model file.", show_default=False
    ),
    input_shape: str = typer.Option(None, "--input-shape", "-i", help="Input shape, batch first: 1x3x224x224."),
    depth: int = typer.Option(None, "--depth", "-d", min=1, help="Collapse layers nested deeper than this."),
    fmt: str = typer.Option(
        None, "--format", "-f", help="table, csv, json, md or html (default: from -o, else table)."
    ),
    output: str = typer.Option(
        None, "--output", "-o", help="Write to FILE (format from its extension); with several models use {model}."
    ),
    columns: str = typer.Option(None, "--columns", "-c", help="Comma-separated columns (see docs/report-format.md)."),
    explain: bool = typer.Option(False, "--explain", help="Add the formula behind each output size."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use or fill the analysis cache."),
    trust: bool = typer.Option(False, "--trust", help="Allow loading pickled model files (runs code from the file)."),
    width: int = typer.Option(None, "--width", help="Table width in characters (default: the terminal's)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column whole, however wide the table."),
) -> None:
    """Per-layer shapes, kernel/stride/padding, receptive field, params, MACs/FLOPs and memory."""
    from zooprof.cli.common import analyze_or_report, safe_name
    from zooprof.errors import UsageError
    from zooprof.renderers import format_for, render
    from zooprof.renderers.views import collapse
    from zooprof.result.columns import parse_columns

    # validate every option before loading anything
    kind = format_for(output, fmt)
    cols = parse_columns(columns, explain)
    if output and len(models) > 1 and "{model}" not in output:
        raise UsageError("several models but one output file", "put {model} in the name, e.g. -o reports/{model}.csv")
    if input_shape:
        from zooprof.reference.resolve import parse_shape

        parse_shape(input_shape)

    failures = 0
    for model in models:
        result = analyze_or_report(model, models, lambda m: _analyze(m, input_shape, trust, not no_cache))
        if result is None:
            failures += 1
            continue
        rows = collapse(result.layers, depth)
        tty = output is None and sys.stdout.isatty()
        if width is None and tty:
            import shutil

            width = shutil.get_terminal_size().columns
        text = render(result, kind, rows, cols, color=tty, width=width, columns_given=columns is not None, wide=wide)
        if output:
            path = Path(output.replace("{model}", safe_name(model)))
            from zooprof.result.document import write_atomic

            write_atomic(path, text)
            typer.echo(f"wrote {path}", err=True)
        else:
            typer.echo(text, nl=not text.endswith("\n"))
    if failures:
        raise typer.Exit(1)


def _analyze(model: str, input_shape: str | None, trust: bool, use_cache: bool):  # type: ignore[no-untyped-def]
    import contextlib

    from zooprof.measure.static import inspect as api_inspect

    status = contextlib.nullcontext()
    if sys.stderr.isatty():
        from rich.console import Console

        status = Console(stderr=True).status(f"reading {model}...")
    with status:
        return api_inspect(
            model,
            input_shape=input_shape,
            trust=trust,
            use_cache=use_cache,
            command="zooprof " + " ".join(sys.argv[1:]),
        )

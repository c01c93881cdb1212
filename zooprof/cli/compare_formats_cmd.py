"""`zooprof compare-formats`: one model in several formats side by side.

Parses and checks the arguments, calls `zooprof.compare.parity.compare` (-> ParityReport) and
prints it with the renderers of zooprof.renderers.parity_text / parity_data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from zooprof.cli.common import MEMORY_LIMIT_HELP


def compare_formats(
    models: list[str] = typer.Argument(
        ...,
        show_default=False,
        help="One folder holding several formats of a model (e.g. keras_model.h5, "
        "model.json, model_unquant.tflite, model.tflite, .onnx), or several "
        "model references (files, zoo names).",
    ),
    latency: bool = typer.Option(False, "--latency", help="Also time each format on its default runtime (batch 1)."),
    max_time: float = typer.Option(5.0, "--max-time", min=0.1, help="Time budget per format with --latency, seconds."),
    memory_limit: str = typer.Option(None, "--memory-limit", help=MEMORY_LIMIT_HELP + " Needs --latency."),
    output: str = typer.Option(
        None, "--output", "-o", help="Also write FILE: .md, .csv (one row per format) or .json (the whole comparison)."
    ),
    width: int = typer.Option(None, "--width", help="Table width in characters (default: the terminal's)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column whole, however wide the table."),
) -> None:
    """Parity view: params, MACs, per-layer shapes (and latency) of one model per format, differences explained."""
    from zooprof.compare.parity import compare
    from zooprof.errors import UsageError
    from zooprof.renderers import extensions_text, format_by_extension, render_document
    from zooprof.renderers.parity_text import render_table

    kind = None
    if output:
        kind = format_by_extension(output, "parity")
        if kind is None:
            raise UsageError(
                f"cannot tell the format of '{output}' from its extension", f"use {extensions_text('parity')}"
            )
    tty = sys.stderr.isatty()

    def progress(message: str) -> None:
        if latency or tty:
            print(f"{message}...", file=sys.stderr, flush=True)

    report = compare(list(models), latency=latency, max_time=max_time, progress=progress, memory_limit=memory_limit)
    from zooprof.cli.common import terminal_width

    typer.echo(render_table(report, width=width or terminal_width(), wide=wide), nl=False)
    if output and kind:
        from zooprof.result.document import write_atomic

        write_atomic(Path(output), render_document("parity", kind, report))
        typer.echo(f"wrote {output}", err=True)
    if report.failed:
        raise typer.Exit(1)

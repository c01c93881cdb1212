"""`zooprof compare-formats`: one model in several formats side by side (zooprof.compare.parity).

The renderers here lay out the comparison dict that `zooprof.compare.parity.compare` builds; they
compute no figure and write no explanation of their own.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import typer

OUTPUT_FORMATS = {".md": "md", ".markdown": "md", ".csv": "csv", ".json": "json"}

#: CSV columns: one row per format, raw figures (keys of the format records)
CSV_FIELDS = (
    "format",
    "file",
    "reference",
    "status",
    "reason",
    "framework",
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
    "flops",
    "weight_bytes",
    "weight_dtypes",
    "float32_weight_bytes",
    "weight_bytes_ratio",
    "layers",
    "mac_layers",
    "coverage_percent",
    "batchnorm_layers",
    "batchnorm_channels",
    "quantize_layers",
    "dequantize_layers",
    "params_vs_baseline",
    "params_explanation",
    "latency_runtime",
    "latency_status",
    "latency_median_ms",
    "latency_reason",
)


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
    output: str = typer.Option(
        None, "--output", "-o", help="Also write FILE: .md, .csv (one row per format) or .json (the whole comparison)."
    ),
    width: int = typer.Option(None, "--width", help="Table width in characters."),
) -> None:
    """Parity view: params, MACs, per-layer shapes (and latency) of one model per format, differences explained."""
    from zooprof.compare.parity import compare
    from zooprof.errors import UsageError

    kind = None
    if output:
        kind = OUTPUT_FORMATS.get(Path(output).suffix.lower())
        if kind is None:
            raise UsageError(f"cannot tell the format of '{output}' from its extension", "use .md, .csv or .json")
    tty = sys.stderr.isatty()

    def progress(message: str) -> None:
        if latency or tty:
            print(f"{message}...", file=sys.stderr, flush=True)

    comparison = compare(list(models), latency=latency, max_time=max_time, progress=progress)
    if width is None and sys.stdout.isatty():
        import shutil

        width = shutil.get_terminal_size().columns
    typer.echo(render_table(comparison, width=width), nl=False)
    if output and kind:
        from zooprof.result.document import write_atomic

        text = {"md": render_markdown, "csv": render_csv, "json": render_json}[kind](comparison)
        write_atomic(Path(output), text)
        typer.echo(f"wrote {output}", err=True)
    if comparison["failed"]:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------
# renderers (layout only)


def render_table(comparison: dict[str, Any], width: int | None = None) -> str:
    from rich.table import Table
    from rich.text import Text

    from zooprof.renderers.textconsole import exported, recording_console

    console = recording_console(width)
    summary = comparison["summary_table"]
    table = Table(title=Text("One model, several formats"), title_justify="left", pad_edge=False)
    for h in summary["headings"]:
        table.add_column(
            Text(h),
            justify="left" if h in ("Format", "File", "Weight dtype(s)", "Status", "Runtime") else "right",
            overflow="fold",
        )
    for row in summary["rows"]:
        table.add_row(*(Text(c) for c in row), style="" if row[-1] == "ok" else "red")
    console.print(table)
    console.print(Text(""))
    for line in comparison["explanations"]:
        console.print(Text(f"- {line}"))
    layers = comparison["layer_table"]
    if layers["rows"]:
        console.print(Text(""))
        lt = Table(
            title=Text("Conv/dense layers in execution order: output shape (N, C, H, W) per format"),
            title_justify="left",
            pad_edge=False,
        )
        for h in layers["headings"]:
            lt.add_column(Text(h), justify="right" if h in ("#", "MACs") else "left", overflow="fold")
        for row in layers["rows"]:
            lt.add_row(*(Text(c) for c in row), style="" if row[-1] == "yes" else "red")
        console.print(lt)
    return exported(console)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(headings: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) for h in headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(comparison: dict[str, Any]) -> str:
    summary, layers = comparison["summary_table"], comparison["layer_table"]
    lines = ["# One model, several formats", ""]
    lines += _md_table(summary["headings"], summary["rows"])
    lines += ["", "## Differences", ""]
    lines += [f"- {_md_cell(x)}" for x in comparison["explanations"]]
    if layers["rows"]:
        lines += ["", "## Conv/dense layers: output shape (N, C, H, W) per format", ""]
        lines += _md_table(layers["headings"], layers["rows"])
    return "\n".join(lines) + "\n"


def csv_rows(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    findings = {p["format"]: p for p in comparison["params"]["findings"]}
    rows = []
    for f in comparison["formats"]:
        bn = f.get("batchnorm") or {}
        lat = f.get("latency") or {}
        finding = findings.get(f["column"], {})
        row = {k: f.get(k) for k in CSV_FIELDS}
        row.update(
            format=f["column"],
            weight_dtypes=";".join(f.get("weight_dtypes") or []),
            batchnorm_layers=bn.get("layers"),
            batchnorm_channels=bn.get("channels"),
            params_vs_baseline=finding.get("difference"),
            params_explanation=finding.get("text"),
            latency_runtime=lat.get("runtime"),
            latency_status=lat.get("status"),
            latency_median_ms=lat.get("median_ms"),
            latency_reason=lat.get("reason"),
        )
        rows.append(row)
    return rows


def render_csv(comparison: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_FIELDS), lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(comparison):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def render_json(comparison: dict[str, Any]) -> str:
    return json.dumps(comparison, indent=1) + "\n"

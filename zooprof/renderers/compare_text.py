"""`zooprof compare` as a console table, CSV, Markdown or JSON, from the rows of
zooprof.compare.rows (the HTML form is renderers/html.py `render_compare_html`). Computes nothing."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from zooprof.compare.columns import human
from zooprof.compare.rows import CSV_KEYS, STATIC_STATUS, Row

#: key, heading, how to write the number (None: as text; "int": 1,234; "si": 1.23 G; n: n decimals)
COMPARE_COLUMNS: tuple[tuple[str, str, str | int | None], ...] = (
    ("model", "Model", None),
    ("runtime", "Runtime", None),
    ("batch", "Batch", None),
    ("status", "Status", None),
    ("params", "Params", "int"),
    ("macs", "MACs", "si"),
    ("weights_mb", "Weights MB", 2),
    ("peak_activation_mb", "Peak act. MB", 2),
    ("latency_median_ms", "Median ms", 3),
    ("latency_p99_ms", "p99 ms", 3),
    ("throughput_per_s", "Throughput/s", 1),
    ("energy_per_inference_mj", "Energy mJ", 3),
    ("achieved_gflops", "GFLOP/s", 2),
    ("pareto", "Pareto", None),
    ("source", "Source", None),
)
NUMERIC = {k for k, _, how in COMPARE_COLUMNS if how is not None} | {"batch"}
NA_NOTE = "n/a: not measured or not available for that row (never 0); figures are per call at the row's batch"


def cell(key: str, how: str | int | None, row: Row) -> str:
    v = row.get(key)
    if key == "pareto":
        return "yes" if v else ""
    if key == "runtime" and v is None:
        return "–"
    if v is None:
        return "n/a"
    if how == "int" and isinstance(v, (int, float)):
        return f"{v:,}"
    if how == "si" and isinstance(v, (int, float)):
        return human(v)
    if isinstance(how, int) and isinstance(v, (int, float)):
        # small figures keep 3 significant digits instead of rounding to 0.00
        return f"{v:.3g}" if 0 < abs(v) < 10 ** -(how - 1) else f"{v:,.{how}f}"
    return str(v)


def notes(rows: list[Row], extra: list[str] | None = None) -> list[str]:
    """The lines under a table: what n/a means, why rows were not measured, coverage."""
    lines = [NA_NOTE]
    for r in rows:
        if r.get("status") not in ("ok", STATIC_STATUS):
            lines.append(f"{r['model']} {r['runtime']} b{r['batch']}: {r['status']}: {r.get('reason')}")
    if any(r.get("status") == STATIC_STATUS for r in rows):
        lines.append("static rows: not measured (give --runtime to measure models)")
    if any(r.get("pareto") for r in rows):
        lines.append("Pareto: not beaten in both MACs and median latency by another measured row")
    return lines + list(extra or [])


def render_compare_table(rows: list[Row], extra_notes: list[str] | None = None, width: int | None = None) -> str:
    from rich.table import Table
    from rich.text import Text

    from zooprof.renderers.textconsole import exported, recording_console

    table = Table(title=Text("Comparison"), title_justify="left", pad_edge=False)
    for key, heading, _ in COMPARE_COLUMNS:
        table.add_column(heading, justify="right" if key in NUMERIC else "left", overflow="fold")
    for r in rows:
        style = "red" if r.get("status") not in ("ok", STATIC_STATUS) else ""
        table.add_row(*(Text(cell(k, how, r)) for k, _, how in COMPARE_COLUMNS), style=style)
    console = recording_console(width)
    console.print(table)
    for line in notes(rows, extra_notes):
        console.print(Text(line))
    return exported(console)


def _csv_value(v: Any) -> Any:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def render_compare_csv(rows: list[Row]) -> str:
    """The stable compare CSV (docs/report-format.md): CSV_KEYS, raw numbers, "n/a" for missing."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_KEYS)
    for r in rows:
        writer.writerow([_csv_value(r.get(k)) if k != "reason" else (r.get("reason") or "") for k in CSV_KEYS])
    return buf.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_compare_markdown(rows: list[Row], extra_notes: list[str] | None = None) -> str:
    models = list(dict.fromkeys(str(r["model"]) for r in rows))
    lines = [f"## Comparison: {_md(', '.join(models))}", ""]
    lines.append("| " + " | ".join(h for _, h, _ in COMPARE_COLUMNS) + " |")
    lines.append("|" + "|".join("---:" if k in NUMERIC else "---" for k, _, _ in COMPARE_COLUMNS) + "|")
    for r in rows:
        lines.append("| " + " | ".join(_md(cell(k, how, r)) for k, _, how in COMPARE_COLUMNS) + " |")
    lines.append("")
    lines.extend(f"- {_md(s)}" for s in notes(rows, extra_notes))
    return "\n".join(lines) + "\n"


def render_compare_json(
    rows: list[Row],
    sources: list[dict[str, Any]],
    checks: list[dict[str, Any]] | None = None,
) -> str:
    doc: dict[str, Any] = {"kind": "zooprof-compare", "rows": rows, "sources": sources}
    if checks is not None:
        doc["checks"] = checks
    return json.dumps(doc, indent=2) + "\n"

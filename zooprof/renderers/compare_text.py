"""`zooprof compare` as a console table, CSV or Markdown, from the rows of zooprof.result.summary
(JSON: renderers/jsonfile.py; HTML: renderers/html.py `render_compare_html`). Headings, digits and
the text of a missing value are the summary columns' (`SUMMARY_COLUMNS`). Computes nothing."""

from __future__ import annotations

import csv
import io

from zooprof.renderers.documents import Comparison
from zooprof.renderers.escape import csv_cells, md_cell
from zooprof.renderers.fit import FitColumn
from zooprof.result.summary import (
    CSV_KEYS,
    NA,
    STATIC_STATUS,
    SUMMARY_COLUMNS,
    SUMMARY_TABLE_COLUMNS,
    Row,
    SummaryColumn,
)

NA_NOTE = f"{NA}: not measured or not available for that row (never 0); figures are per call at the row's batch"


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


#: when the table is wider than the terminal, the highest is hidden first; 0: always shown
DROP_RANK = {
    "model": 0,
    "latency_median_ms": 1,
    "runtime": 2,
    "macs": 3,
    "params": 4,
    "batch": 5,
    "status": 6,
    "throughput_per_s": 7,
    "latency_p99_ms": 8,
    "energy_per_inference_mj": 9,
    "pareto": 10,
    "device": 11,
    "precision": 12,
    "weights_mb": 13,
    "peak_activation_mb": 14,
    "achieved_gflops": 15,
    "source": 16,
    "reason": 17,
}


def fit_column(col: SummaryColumn) -> FitColumn:
    """How the terminal table lays out a summary column: figures whole, text shortened."""
    return FitColumn(
        col.heading,
        figure=col.numeric or col.key == "batch",
        drop=DROP_RANK.get(col.key, 18),
        right=col.numeric,
        min_width=14 if col.key == "model" else 8,
        cut="end" if col.key == "reason" else "middle",
    )


def render_compare_table(
    rows: list[Row], extra_notes: list[str] | None = None, width: int | None = None, wide: bool = False
) -> str:
    """The comparison on the terminal, fitted to `width` unless `wide`, with its notes under it."""
    from rich.text import Text

    from zooprof.renderers.escape import printable
    from zooprof.renderers.fit import fit_table
    from zooprof.renderers.textconsole import exported, recording_console

    cells = [[col.text(r) for col in SUMMARY_TABLE_COLUMNS] for r in rows]
    styles = ["red" if r.get("status") not in ("ok", STATIC_STATUS) else "" for r in rows]
    columns = [fit_column(c) for c in SUMMARY_TABLE_COLUMNS]
    fitted = fit_table("Comparison", columns, cells, width, wide, styles)
    console = recording_console(width)
    fitted.print_to(console)
    for line in notes(rows, extra_notes):
        console.print(Text(printable(line)))
    return exported(console)


def render_compare_csv(rows: list[Row]) -> str:
    """The stable compare CSV (docs/report-format.md): CSV_KEYS, raw numbers, "n/a" for missing,
    text cells neutralised for spreadsheets (zooprof.result.columns.csv_safe)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_KEYS)
    for r in rows:
        writer.writerow(csv_cells(SUMMARY_COLUMNS[k].value(r) for k in CSV_KEYS))
    return buf.getvalue()


def render_compare_markdown(rows: list[Row], extra_notes: list[str] | None = None) -> str:
    models = list(dict.fromkeys(str(r["model"]) for r in rows))
    lines = [f"## Comparison: {md_cell(', '.join(models))}", ""]
    lines.append("| " + " | ".join(c.heading for c in SUMMARY_TABLE_COLUMNS) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in SUMMARY_TABLE_COLUMNS) + "|")
    for r in rows:
        lines.append("| " + " | ".join(md_cell(c.text(r)) for c in SUMMARY_TABLE_COLUMNS) + " |")
    lines.append("")
    lines.extend(f"- {md_cell(s)}" for s in notes(rows, extra_notes))
    return "\n".join(lines) + "\n"


def comparison_table(doc: Comparison) -> str:
    """The registry's entry (zooprof.renderers): the console table with its notes."""
    return render_compare_table(doc.rows, doc.notes, doc.width, doc.wide)


def comparison_csv(doc: Comparison) -> str:
    """The registry's entry (zooprof.renderers): the stable compare CSV."""
    return render_compare_csv(doc.rows)


def comparison_markdown(doc: Comparison) -> str:
    """The registry's entry (zooprof.renderers): the Markdown table with its notes."""
    return render_compare_markdown(doc.rows, doc.notes)

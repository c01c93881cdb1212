"""`zooprof compare` as a console table, CSV or Markdown, from the rows of zooprof.result.summary
(JSON: renderers/jsonfile.py; HTML: renderers/html.py `render_compare_html`). Headings, digits and
the text of a missing value are the summary columns' (`SUMMARY_COLUMNS`). Computes nothing."""

from __future__ import annotations

import csv
import io

from zooprof.renderers.documents import Comparison
from zooprof.result.summary import CSV_KEYS, NA, STATIC_STATUS, SUMMARY_COLUMNS, SUMMARY_TABLE_COLUMNS, Row

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


def render_compare_table(rows: list[Row], extra_notes: list[str] | None = None, width: int | None = None) -> str:
    from rich.table import Table
    from rich.text import Text

    from zooprof.renderers.textconsole import exported, recording_console

    table = Table(title=Text("Comparison"), title_justify="left", pad_edge=False)
    for col in SUMMARY_TABLE_COLUMNS:
        table.add_column(col.heading, justify="right" if col.numeric else "left", overflow="fold")
    for r in rows:
        style = "red" if r.get("status") not in ("ok", STATIC_STATUS) else ""
        table.add_row(*(Text(col.text(r)) for col in SUMMARY_TABLE_COLUMNS), style=style)
    console = recording_console(width)
    console.print(table)
    for line in notes(rows, extra_notes):
        console.print(Text(line))
    return exported(console)


def render_compare_csv(rows: list[Row]) -> str:
    """The stable compare CSV (docs/report-format.md): CSV_KEYS, raw numbers, "n/a" for missing."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_KEYS)
    for r in rows:
        writer.writerow([SUMMARY_COLUMNS[k].value(r) for k in CSV_KEYS])
    return buf.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_compare_markdown(rows: list[Row], extra_notes: list[str] | None = None) -> str:
    models = list(dict.fromkeys(str(r["model"]) for r in rows))
    lines = [f"## Comparison: {_md(', '.join(models))}", ""]
    lines.append("| " + " | ".join(c.heading for c in SUMMARY_TABLE_COLUMNS) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in SUMMARY_TABLE_COLUMNS) + "|")
    for r in rows:
        lines.append("| " + " | ".join(_md(c.text(r)) for c in SUMMARY_TABLE_COLUMNS) + " |")
    lines.append("")
    lines.extend(f"- {_md(s)}" for s in notes(rows, extra_notes))
    return "\n".join(lines) + "\n"


def comparison_table(doc: Comparison) -> str:
    """The registry's entry (zooprof.renderers): the console table with its notes."""
    return render_compare_table(doc.rows, doc.notes, doc.width)


def comparison_csv(doc: Comparison) -> str:
    """The registry's entry (zooprof.renderers): the stable compare CSV."""
    return render_compare_csv(doc.rows)


def comparison_markdown(doc: Comparison) -> str:
    """The registry's entry (zooprof.renderers): the Markdown table with its notes."""
    return render_compare_markdown(doc.rows, doc.notes)

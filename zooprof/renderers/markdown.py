"""Markdown: the layer table as a pipe table, then the totals lines."""

from __future__ import annotations

from typing import Any

from zooprof.renderers.documents import LayerReport
from zooprof.renderers.escape import md_cell
from zooprof.result.columns import Column
from zooprof.result.document import ProfileResult
from zooprof.result.lines import summary_lines, title


def render_markdown(result: ProfileResult, rows: list[dict[str, Any]], columns: list[Column]) -> str:
    lines = [f"## {md_cell(title(result))}", ""]
    lines.append("| " + " | ".join(c.heading for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(md_cell(c.text(row)) for c in columns) + " |")
    lines.append("")
    lines.extend(f"- {md_cell(s)}" for s in summary_lines(result))
    return "\n".join(lines) + "\n"


def report_markdown(doc: LayerReport) -> str:
    """The registry's entry (zooprof.renderers): the columns given, or none."""
    return render_markdown(doc.result, doc.rows, doc.columns)

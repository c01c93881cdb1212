"""Markdown (pipe table + totals) and the HTML fragment shown in Jupyter."""

from __future__ import annotations

import html
from typing import Any

from zooprof.compare.columns import COLUMNS, DEFAULT_COLUMNS, Column
from zooprof.renderers.summary import summary_lines, title
from zooprof.result.document import ProfileResult


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: ProfileResult, rows: list[dict[str, Any]], columns: list[Column]) -> str:
    lines = [f"## {_cell(title(result))}", ""]
    lines.append("| " + " | ".join(c.heading for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_cell(c.text(row)) for c in columns) + " |")
    lines.append("")
    lines.extend(f"- {_cell(s)}" for s in summary_lines(result))
    return "\n".join(lines) + "\n"


def render_html_fragment(result: ProfileResult) -> str:
    """A plain escaped HTML table for notebooks (the full report is a later renderer)."""
    columns = [COLUMNS[k] for k in DEFAULT_COLUMNS]
    head = "".join(f"<th>{html.escape(c.heading)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c.text(r))}</td>" for c in columns) + "</tr>" for r in result.layers
    )
    summary = "".join(f"<li>{html.escape(s)}</li>" for s in summary_lines(result))
    return (
        f"<div><strong>{html.escape(title(result))}</strong><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table><ul>{summary}</ul></div>"
    )

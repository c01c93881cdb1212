"""The HTML fragment a notebook shows for a result (`ProfileResult._repr_html_`): a plain escaped
table of the default layer columns and the totals lines. The full report is
zooprof.renderers.html."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from zooprof.result.columns import COLUMNS, DEFAULT_COLUMNS
from zooprof.result.lines import summary_lines, title

if TYPE_CHECKING:
    from zooprof.result.document import ProfileResult


def render_html_fragment(result: ProfileResult) -> str:
    """A plain escaped HTML table for notebooks."""
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

"""The per-layer table on the terminal (rich)."""

from __future__ import annotations

from typing import Any

from zooprof.renderers.documents import LayerReport
from zooprof.renderers.textconsole import exported, recording_console
from zooprof.result.columns import Column
from zooprof.result.document import ProfileResult
from zooprof.result.lines import summary_lines, title


def render_console(
    result: ProfileResult,
    rows: list[dict[str, Any]],
    columns: list[Column],
    width: int | None = None,
    color: bool | None = None,
) -> str:
    from rich.table import Table
    from rich.text import Text

    # Text objects, never markup strings: a layer named "[red]x" or "<img ...>" prints as is.
    table = Table(title=Text(title(result)), title_justify="left", show_lines=False, pad_edge=False)
    cells = [[col.text(row) for col in columns] for row in rows]
    for i, col in enumerate(columns):
        if col.numeric:  # numbers are never cut or wrapped; text columns fold instead
            widest = max((len(c[i]) for c in cells), default=1)
            table.add_column(col.heading, justify="right", no_wrap=True, min_width=widest)
        else:
            table.add_column(col.heading, no_wrap=width is None, overflow="fold")
    for row, texts in zip(rows, cells, strict=True):
        style = "yellow" if not row.get("counted", True) else ""
        table.add_row(*(Text(text) for text in texts), style=style)
    console = recording_console(width, color)
    console.print(table)
    for line in summary_lines(result):
        console.print(Text(line))
    return exported(console, color)


def report_table(doc: LayerReport) -> str:
    """The registry's entry (zooprof.renderers): the columns given, or none."""
    return render_console(doc.result, doc.rows, doc.columns, width=doc.width, color=doc.color)

"""The per-layer table on the terminal (rich), laid out to fit the width (zooprof.renderers.fit)."""

from __future__ import annotations

from typing import Any

from zooprof.renderers.documents import LayerReport
from zooprof.renderers.escape import printable
from zooprof.renderers.fit import FitColumn, fit_table
from zooprof.renderers.textconsole import exported, recording_console
from zooprof.result.columns import Column
from zooprof.result.document import ProfileResult
from zooprof.result.lines import summary_lines, title

#: columns of text (shortened with an ellipsis when space is short); the others hold figures
TEXT_KEYS = ("name", "op", "source_op", "formula", "stage", "data_dependent")
#: when the table is wider than the terminal, the highest is hidden first; 0: always shown
DROP_RANK = {
    "name": 0,
    "macs": 1,
    "output_shape": 2,
    "params": 3,
    "op": 4,
    "macs_pct": 5,
    "stage": 6,
    "kernel": 7,
    "rf": 8,
    "activation_bytes": 9,
    "data_dependent": 10,
    "rf_size": 11,
    "rf_stride": 12,
    "weight_bytes": 13,
    "flops": 14,
    "trainable_params": 15,
    "buffers": 16,
    "groups": 17,
    "stride": 18,
    "padding": 19,
    "dilation": 20,
    "rf_padding": 21,
    "source_op": 22,
    "formula": 23,
}


def fit_column(col: Column) -> FitColumn:
    text = col.key in TEXT_KEYS
    return FitColumn(
        col.heading,
        figure=not text,
        drop=DROP_RANK.get(col.key, 15),
        right=col.numeric,
        min_width=16 if col.key == "name" else 10,
        cut="end" if col.key == "formula" else "middle",
    )


def render_console(
    result: ProfileResult,
    rows: list[dict[str, Any]],
    columns: list[Column],
    width: int | None = None,
    color: bool | None = None,
    wide: bool = False,
) -> str:
    from rich.text import Text

    # plain text cells, never markup strings: a layer named "[red]x" or "<img ...>" prints as is
    cells = [[col.text(row) for col in columns] for row in rows]
    styles = ["yellow" if not row.get("counted", True) else "" for row in rows]
    fitted = fit_table(title(result), [fit_column(c) for c in columns], cells, width, wide, styles)
    console = recording_console(width, color)
    fitted.print_to(console)
    for line in summary_lines(result):
        console.print(Text(printable(line)))
    return exported(console, color)


def report_table(doc: LayerReport) -> str:
    """The registry's entry (zooprof.renderers): the columns given, or none."""
    return render_console(doc.result, doc.rows, doc.columns, width=doc.width, color=doc.color, wide=doc.wide)

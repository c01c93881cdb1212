"""CSV: one row per layer, raw numbers, the stable columns of docs/report-format.md; text cells
neutralised for spreadsheets (a leading quote before =, +, -, @: zooprof.result.columns.csv_safe)."""

from __future__ import annotations

import csv
import io
from typing import Any

from zooprof.renderers.documents import LayerReport
from zooprof.renderers.escape import csv_cells
from zooprof.result.columns import COLUMNS, CSV_COLUMNS, Column
from zooprof.result.document import ProfileResult


def render_csv(result: ProfileResult, rows: list[dict[str, Any]], columns: list[Column]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow(csv_cells(c.value(row) for c in columns))
    return buf.getvalue()


def report_csv(doc: LayerReport) -> str:
    """The registry's entry (zooprof.renderers): the columns of --columns, else the stable CSV columns."""
    columns = doc.columns if (doc.columns and doc.columns_given) else [COLUMNS[k] for k in CSV_COLUMNS]
    return render_csv(doc.result, doc.rows, columns)

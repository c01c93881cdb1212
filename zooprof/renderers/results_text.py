"""Rows of the results database (`zooprof results`) as a console table. Lays out; computes nothing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from zooprof.renderers.fit import FitColumn
from zooprof.result.summary import NA

#: when the table is wider than the terminal, the highest is hidden first (a column not named
#: here before any named one); id, model and the median are always shown
DROP_ORDER = (
    "id",
    "model",
    "latency_median_ms",
    "runtime",
    "batch",
    "status",
    "device",
    "precision",
    "energy_per_inference_mj",
    "latency_p99_ms",
    "threads",
    "ci_rel_halfwidth",
    "power_mode",
    "repeat",
    "machine",
)


def fit_column(name: str, numeric: bool) -> FitColumn:
    rank = DROP_ORDER.index(name) if name in DROP_ORDER else len(DROP_ORDER)
    return FitColumn(name, figure=numeric, drop=0 if rank < 3 else rank, right=numeric, min_width=10)


def cell_text(value: Any) -> str:
    """One value as the table shows it: counts with separators, decimals to 3 significant digits
    at least, a missing value as "n/a" (never 0)."""
    if value is None:
        return NA
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) >= 0.1 else f"{value:.3g}"
    return str(value)


def render_results_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    title: str,
    numeric: Collection[str] = (),
    notes: Sequence[str] = (),
    width: int | None = None,
    wide: bool = False,
) -> str:
    """A table of `rows` with `columns` (headings are the column names, as `--where` uses them;
    the `numeric` ones right-aligned, never cut), fitted to `width` unless `wide`; rows whose
    status is "failed" are red; `notes` are printed under it."""
    from rich.text import Text

    from zooprof.renderers.escape import printable
    from zooprof.renderers.fit import fit_table
    from zooprof.renderers.textconsole import exported, recording_console

    cells = [[cell_text(r.get(c)) for c in columns] for r in rows]
    styles = ["red" if r.get("status") == "failed" else "" for r in rows]
    fit_cols = [fit_column(c, c in numeric) for c in columns]
    fitted = fit_table(title, fit_cols, cells, width, wide, styles)
    console = recording_console(width)
    fitted.print_to(console)
    for line in notes:
        console.print(Text(printable(line)))
    return exported(console)

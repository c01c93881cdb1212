"""Rows of the results database (`zooprof results`) as a console table. Lays out; computes nothing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from zooprof.result.summary import NA


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
) -> str:
    """A table of `rows` with `columns` (headings are the column names, as `--where` uses them;
    the `numeric` ones right-aligned); rows whose status is "failed" are red; `notes` are printed under it."""
    from rich.table import Table
    from rich.text import Text

    from zooprof.renderers.textconsole import exported, recording_console

    table = Table(title=Text(title), title_justify="left", pad_edge=False)
    for name in columns:
        table.add_column(name, justify="right" if name in numeric else "left", overflow="fold")
    for r in rows:
        table.add_row(*(Text(cell_text(r.get(c))) for c in columns), style="red" if r.get("status") == "failed" else "")
    console = recording_console(width)
    console.print(table)
    for line in notes:
        console.print(Text(line))
    return exported(console)

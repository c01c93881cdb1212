"""Tables of more than LARGE_TABLE_ROWS rows (a 20,000-layer model) are printed as aligned plain
text: every row, the same widths, nothing interpreted, in a fraction of the time rich takes."""

from __future__ import annotations

from zooprof.renderers.fit import LARGE_TABLE_ROWS, FitColumn, fit_table
from zooprof.renderers.textconsole import exported, recording_console


def test_a_large_table_is_plain_aligned_text() -> None:
    columns = [FitColumn("Layer"), FitColumn("MACs", figure=True, right=True)]
    rows = [[f"relu_{i}", f"{i:,}"] for i in range(LARGE_TABLE_ROWS + 500)]
    rows[7] = ["[bold red]markup[/] <b>", "7"]
    fitted = fit_table("big", columns, rows, width=100)
    assert fitted.table is None and fitted.lines is not None
    console = recording_console(100)
    fitted.print_to(console)
    text = exported(console)
    lines = text.splitlines()
    assert lines[0] == "big" and lines[1].split() == ["Layer", "MACs"]
    assert len(lines) == 3 + len(rows)  # title, heading, rule, every row
    assert "[bold red]markup[/] <b>" in text  # printed as is, never as markup
    assert all(len(line) <= 100 for line in lines)
    last = lines[-1]
    assert last.startswith(f"relu_{len(rows) - 1}") and last.endswith(f"{len(rows) - 1:,}")
    # figures right-aligned in one column: every row ends at the same cell
    assert len({len(line) for line in lines[3:]}) == 1


def test_a_small_table_is_still_drawn_by_rich() -> None:
    fitted = fit_table(None, [FitColumn("Layer")], [["a"]], width=80)
    assert fitted.table is not None and fitted.lines is None

"""Tables that fit the terminal: every console table of zooprof is laid out here.

Contract: a table declares its columns (`FitColumn`): whether a column holds figures (numbers,
shapes, kernel sizes: never shortened, never wrapped) or text (names, prose: shortened with an
ellipsis when space is short), and its `drop` rank (0: always shown; when the table is wider than
the terminal, the highest rank is hidden first). `fit_table` hides columns by rank until every
figure fits whole, gives the rest of the width to text columns, and returns the one line to print
under the table that says which columns were hidden ("hidden at 100 columns: Std, Min; --wide
shows all"). With no width (output to a file or a pipe) or `wide`, every column is shown whole.
Widths are computed here; rich only draws. Nothing computes a figure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zooprof.renderers.escape import printable

ELLIPSIS = "…"
#: above this many rows a table is printed as aligned plain text without borders: rich draws about
#: 2 ms per row, so a 20,000-layer model's table would take 40 s
LARGE_TABLE_ROWS = 2000


@dataclass(frozen=True)
class FitColumn:
    heading: str
    figure: bool = False  # numbers and shapes: never shortened or wrapped
    drop: int = 0  # 0: always shown; the highest rank is hidden first when the table is too wide
    right: bool = False  # aligned right
    min_width: int = 10  # text columns: the narrowest they are shortened to
    cut: str = "middle"  # text columns: where the ellipsis goes, "middle" (names) or "end" (prose)


@dataclass(frozen=True)
class Layout:
    shown: list[int]  # indices of the columns shown, in order
    widths: list[int]  # their widths (cells), in the same order
    hidden: list[str]  # headings of the hidden columns, in table order


def cell_width(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


def heading_pieces(heading: str) -> list[tuple[str, bool]]:
    """A heading in the pieces it may wrap between: at spaces and after a '/'; each piece with
    whether a space follows it."""
    out: list[tuple[str, bool]] = []
    words = heading.split(" ")
    for i, word in enumerate(words):
        pieces = re.findall(r"[^/]*/|[^/]+", word) or [word]
        for j, piece in enumerate(pieces):
            out.append((piece, j == len(pieces) - 1 and i < len(words) - 1))
    return out


def wrap_heading(heading: str, width: int) -> str:
    """The heading on lines of at most `width` cells, broken at spaces and after '/'."""
    if cell_width(heading) <= width:
        return heading
    lines: list[str] = []
    line, space = "", False
    for piece, space_after in heading_pieces(heading):
        joined = line + (" " if space else "") + piece
        if line and cell_width(joined) > width:
            lines.append(line)
            joined = piece
        while cell_width(joined) > width:  # a piece wider than the column: folded
            lines.append(joined[:width])
            joined = joined[width:]
        line, space = joined, space_after
    lines.append(line)
    return "\n".join(lines)


def shorten(text: str, width: int, cut: str = "middle") -> str:
    """`text` in at most `width` cells, with an ellipsis where it was cut (in the middle keeps a
    name's end, which tells fasterrcnn_mobilenet_v3_large_fpn from ..._320_fpn)."""
    if cell_width(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    keep = width - 1
    head, tail = (keep - keep // 2, keep // 2) if cut == "middle" else (keep, 0)
    out = text[:head] + ELLIPSIS + (text[len(text) - tail :] if tail else "")
    while cell_width(out) > width and (head or tail):  # wide characters
        if head >= tail:
            head -= 1
        else:
            tail -= 1
        out = text[:head] + ELLIPSIS + (text[len(text) - tail :] if tail else "")
    return out


def overhead(n: int, pad_edge: bool = False) -> int:
    """Cells a rich table with box edges adds to its columns' widths: n + 1 rules, one cell of
    padding each side of a column (not at the outer edges without pad_edge)."""
    return (n + 1) + 2 * n - (0 if pad_edge else 2) if n else 0


def layout(
    columns: Sequence[FitColumn], rows: Sequence[Sequence[str]], width: int | None, pad_edge: bool = False
) -> Layout:
    """Which columns to show and how wide, for a table of at most `width` cells (None: no limit)."""
    natural, least = [], []
    for i, col in enumerate(columns):
        longest = max((cell_width(r[i]) for r in rows), default=0)
        head = cell_width(col.heading)
        piece = max((cell_width(p) for p, _ in heading_pieces(col.heading)), default=0)
        natural.append(max(longest, head, 1))
        if col.figure:
            least.append(max(longest, piece, 1))
        else:
            least.append(max(min(longest, col.min_width), min(piece, col.min_width), 1))
    shown = list(range(len(columns)))
    if width is None:
        return Layout(shown, natural, [])

    def need(idx: list[int]) -> int:
        return sum(least[i] for i in idx) + overhead(len(idx), pad_edge)

    # hide by rank, the highest first; among equal ranks the rightmost first
    order = sorted((i for i, c in enumerate(columns) if c.drop > 0), key=lambda i: (-columns[i].drop, -i))
    hidden: list[int] = []
    for i in order:
        if need(shown) <= width:
            break
        shown.remove(i)
        hidden.append(i)
    widths = {i: least[i] for i in shown}
    spare = width - need(shown)
    # text columns toward their full width; then the headings of figures on one line
    # (the column short of the least first: a short word is made whole before a long path is cut less)
    growing = sorted((i for i in shown if not columns[i].figure), key=lambda i: natural[i] - widths[i])
    for i in growing:
        grow = min(natural[i] - widths[i], spare)
        widths[i] += grow
        spare -= grow
    for i in [*growing, *shown]:  # headings that still do not fit whole: on one line where there is room
        if spare > 0 and widths[i] < natural[i]:
            grow = min(natural[i] - widths[i], spare)
            widths[i] += grow
            spare -= grow
    return Layout(shown, [widths[i] for i in shown], [columns[i].heading for i in sorted(hidden)])


def hidden_line(hidden: Sequence[str], width: int | None) -> str | None:
    """The line under a table that lost columns, or None."""
    if not hidden:
        return None
    return f"hidden at {width} columns: {', '.join(hidden)}; --wide shows all"


@dataclass(frozen=True)
class Fitted:
    table: Any  # the rich Table (None for a large table: `lines` instead)
    note: str | None  # the line to print under it: which columns were hidden (None: none)
    width: int  # the cells it takes: more than asked only when even its figures alone do not fit
    lines: str | None = None  # a large table as aligned plain text (LARGE_TABLE_ROWS)

    def print_to(self, console: Any) -> None:
        """Print the table, then the note, on a recording console (zooprof.renderers.textconsole)."""
        from rich.text import Text

        if self.width > console.width:  # never cut a figure: the table overflows instead
            console.width = self.width
        if self.lines is not None:  # written as is: no markup, no wrapping, no highlighting
            console.out(self.lines, highlight=False)
        else:
            console.print(self.table)
        if self.note:
            console.print(Text(self.note))


def plain_table(title: str | None, columns: Sequence[FitColumn], cells: Sequence[Sequence[str]], plan: Layout) -> str:
    """A large table as aligned text: a heading line, a rule, one line per row, two spaces between
    columns (figures right-aligned where the column says so), the same widths as the drawn table."""
    from rich.cells import cell_len

    def pad(text: str, w: int, right: bool) -> str:
        gap = " " * max(0, w - cell_len(text))
        return gap + text if right else text + gap

    shown = list(zip(plan.shown, plan.widths, strict=True))
    out = [printable(title)] if title else []
    out.append("  ".join(pad(shorten(columns[i].heading, w, "end"), w, columns[i].right) for i, w in shown).rstrip())
    out.append("  ".join("─" * w for _, w in shown))
    for row in cells:
        parts = []
        for i, w in shown:
            text = row[i] if columns[i].figure else shorten(row[i], w, columns[i].cut)
            parts.append(pad(text, w, columns[i].right))
        out.append("  ".join(parts).rstrip())
    return "\n".join(out)


def fit_table(
    title: str | None,
    columns: Sequence[FitColumn],
    rows: Sequence[Sequence[str]],
    width: int | None,
    wide: bool = False,
    styles: Sequence[str] | None = None,
    pad_edge: bool = False,
    **table_options: Any,
) -> Fitted:
    """A rich Table of `rows` laid out for `width` (all columns, whole, with `wide` or no width)
    with the line that says which columns were hidden. Cells are plain text: markup in a name
    prints as is and control characters as escapes."""
    from rich.table import Table
    from rich.text import Text

    cells = [[printable(c) for c in row] for row in rows]
    plan = layout(columns, cells, None if wide else width, pad_edge)
    if len(cells) > LARGE_TABLE_ROWS:
        total = sum(plan.widths) + 2 * (len(plan.widths) - 1)
        return Fitted(None, hidden_line(plan.hidden, width), total, plain_table(title, columns, cells, plan))
    table = Table(
        title=None if title is None else Text(printable(title)),
        title_justify="left",
        pad_edge=pad_edge,
        **table_options,
    )
    for i, w in zip(plan.shown, plan.widths, strict=True):
        col = columns[i]
        table.add_column(
            Text(wrap_heading(col.heading, w)),
            justify="right" if col.right else "left",
            width=w,
            no_wrap=True,
            overflow="ellipsis",
        )
    for n, row in enumerate(cells):
        texts = []
        for i, w in zip(plan.shown, plan.widths, strict=True):
            text = row[i] if columns[i].figure else shorten(row[i], w, columns[i].cut)
            texts.append(Text(text, no_wrap=True, overflow="ellipsis"))
        table.add_row(*texts, style=(styles[n] if styles else "") or "")
    total = sum(plan.widths) + overhead(len(plan.widths), pad_edge)
    return Fitted(table, hidden_line(plan.hidden, width), total)

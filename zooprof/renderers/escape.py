"""Text from a model file made inert in an output: Markdown cells and CSV cells.

A layer, node or file name is data. In Markdown it must not become HTML (`<img onerror=...>`
renders live in most Markdown viewers), a link or a new table cell; in CSV it must not become a
spreadsheet formula (zooprof.result.columns.csv_safe, the OWASP rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from zooprof.result.columns import csv_safe


def md_cell(text: object) -> str:
    """Text safe in a Markdown table cell, heading or list item: &, < and > as HTML entities,
    pipes and the `](` of a link escaped, on one line."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("|", "\\|").replace("](", "\\](")
    return " ".join(s.splitlines()) if ("\n" in s or "\r" in s) else s


def csv_cells(values: Iterable[Any]) -> list[Any]:
    """One CSV row with every text cell neutralised."""
    return [csv_safe(v) for v in values]


def csv_record(row: dict[str, Any]) -> dict[str, Any]:
    """A DictWriter row with every text cell neutralised."""
    return {k: csv_safe(v) for k, v in row.items()}


def printable(text: object) -> str:
    """Text safe on a terminal: control characters (an ESC sequence in a layer name would drive
    the terminal; a newline would break a row) shown as escapes, e.g. \\x1b and \\n."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in s)

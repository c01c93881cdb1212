"""Renderers: ProfileResult -> text, chosen by name or by the output file's extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zooprof.compare.columns import COLUMNS, CSV_COLUMNS, Column
from zooprof.errors import UsageError
from zooprof.result.document import ProfileResult

FORMATS = ("table", "csv", "json", "md", "html")
EXTENSIONS = {
    ".txt": "table",
    ".csv": "csv",
    ".json": "json",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
}


def format_for(output: str | None, fmt: str | None) -> str:
    """--format wins; else the extension of -o; else a table."""
    if fmt:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format '{fmt}'", f"choose from: {', '.join(FORMATS)}")
        return fmt
    if output:
        suffix = Path(output).suffix.lower()
        if suffix not in EXTENSIONS:
            raise UsageError(
                f"cannot tell the format of '{output}' from its extension",
                f"use .txt, .csv, .json, .md or .html, or give --format ({', '.join(FORMATS)})",
            )
        return EXTENSIONS[suffix]
    return "table"


def render(
    result: ProfileResult,
    fmt: str,
    rows: list[dict[str, Any]] | None = None,
    columns: list[Column] | None = None,
    color: bool | None = None,
    width: int | None = None,
    columns_given: bool = False,
) -> str:
    rows = result.layers if rows is None else rows
    if fmt == "json":
        return result.to_json()
    if fmt == "csv":
        cols = columns if (columns and columns_given) else [COLUMNS[k] for k in CSV_COLUMNS]
        from zooprof.renderers.csvfile import render_csv

        return render_csv(result, rows, cols)
    if fmt == "html":
        from zooprof.renderers.html import render_html

        return render_html(result, rows, columns if (columns and columns_given) else None)
    cols = columns or []
    if fmt == "md":
        from zooprof.renderers.markdown import render_markdown

        return render_markdown(result, rows, cols)
    from zooprof.renderers.console import render_console

    return render_console(result, rows, cols, width=width, color=color)

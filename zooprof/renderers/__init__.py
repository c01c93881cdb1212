"""Renderers: documents -> text, chosen by name (--format) or by the output file's extension.

`REGISTRY` is the one table of renderers. Each line declares one: the kind of document it renders
(zooprof.renderers.documents), its format name, its file extensions (the first is the one hints
name) and its entry point, "module:function", imported only when that renderer is used. A new
renderer is one module plus one line here; `format_for`, `render` and every command read this
table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.renderers.documents import LayerReport
from zooprof.result.columns import Column
from zooprof.result.document import ProfileResult


@dataclass(frozen=True)
class Renderer:
    document: str  # "result", "compare", "power-log" (zooprof.renderers.documents) or "parity" (a ParityReport)
    name: str  # the --format name
    extensions: tuple[str, ...]  # output file extensions, lower case; the first is the usual one
    entry: str  # "module:function": takes the document's record, returns the text

    def load(self) -> Callable[[Any], str]:
        module, _, function = self.entry.partition(":")
        fn: Callable[[Any], str] = getattr(importlib.import_module(module), function)
        return fn


REGISTRY: tuple[Renderer, ...] = (
    Renderer("result", "table", (".txt",), "zooprof.renderers.console:report_table"),
    Renderer("result", "csv", (".csv",), "zooprof.renderers.csvfile:report_csv"),
    Renderer("result", "json", (".json",), "zooprof.renderers.jsonfile:report_json"),
    Renderer("result", "md", (".md", ".markdown"), "zooprof.renderers.markdown:report_markdown"),
    Renderer("result", "html", (".html", ".htm"), "zooprof.renderers.html:report_html"),
    Renderer("compare", "table", (".txt",), "zooprof.renderers.compare_text:comparison_table"),
    Renderer("compare", "csv", (".csv",), "zooprof.renderers.compare_text:comparison_csv"),
    Renderer("compare", "json", (".json",), "zooprof.renderers.jsonfile:comparison_json"),
    Renderer("compare", "md", (".md", ".markdown"), "zooprof.renderers.compare_text:comparison_markdown"),
    Renderer("compare", "html", (".html", ".htm"), "zooprof.renderers.html:comparison_html"),
    Renderer("power-log", "table", (), "zooprof.renderers.powerlog_text:power_log_table"),
    Renderer("power-log", "csv", (".csv",), "zooprof.renderers.powerlog_text:power_log_csv"),
    Renderer("power-log", "json", (".json",), "zooprof.renderers.powerlog_text:power_log_json"),
    Renderer("power-log", "html", (".html",), "zooprof.renderers.powerlog_html:power_log_html"),
    Renderer("parity", "md", (".md", ".markdown"), "zooprof.renderers.parity_text:render_markdown"),
    Renderer("parity", "csv", (".csv",), "zooprof.renderers.parity_data:render_csv"),
    Renderer("parity", "json", (".json",), "zooprof.renderers.parity_data:render_json"),
)


def renderers(document: str) -> list[Renderer]:
    """The renderers of one kind of document, in registry order."""
    return [r for r in REGISTRY if r.document == document]


def format_names(document: str = "result") -> tuple[str, ...]:
    return tuple(r.name for r in renderers(document))


def format_by_extension(output: str, document: str = "result") -> str | None:
    """The format an output file's extension asks for, or None when no renderer writes it."""
    suffix = Path(output).suffix.lower()
    return next((r.name for r in renderers(document) if suffix in r.extensions), None)


def extensions_text(document: str = "result") -> str:
    """'.txt, .csv, .json, .md or .html': the usual extension of each format, for hints."""
    usual = [r.extensions[0] for r in renderers(document) if r.extensions]
    return usual[0] if len(usual) == 1 else f"{', '.join(usual[:-1])} or {usual[-1]}"


def format_for(output: str | None, fmt: str | None, document: str = "result") -> str:
    """--format wins; else the extension of -o; else a table."""
    names = format_names(document)
    if fmt:
        if fmt not in names:
            raise UsageError(f"unknown format '{fmt}'", f"choose from: {', '.join(names)}")
        return fmt
    if output:
        kind = format_by_extension(output, document)
        if kind is None:
            raise UsageError(
                f"cannot tell the format of '{output}' from its extension",
                f"use {extensions_text(document)}, or give --format ({', '.join(names)})",
            )
        return kind
    return "table"


def render_document(document: str, fmt: str, record: Any) -> str:
    """Render `record` (zooprof.renderers.documents) with the registered renderer `fmt`."""
    found = next((r for r in renderers(document) if r.name == fmt), None)
    if found is None:
        names = format_names(document)
        raise UsageError(f"unknown format '{fmt}'", f"choose from: {', '.join(names)}")
    return found.load()(record)


def render(
    result: ProfileResult,
    fmt: str,
    rows: list[dict[str, Any]] | None = None,
    columns: list[Column] | None = None,
    color: bool | None = None,
    width: int | None = None,
    columns_given: bool = False,
    wide: bool = False,
) -> str:
    """One result's layer report in format `fmt` (rows: all layers unless given); a table fits
    `width` unless `wide`."""
    rows = result.layers if rows is None else rows
    report = LayerReport(result, rows, columns or [], columns_given, color, width, wide)
    return render_document("result", fmt, report)

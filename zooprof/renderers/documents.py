"""What a renderer is given: one record per kind of document (the `document` of a registry line
in zooprof.renderers).

Contract: a renderer's entry point takes the record of its kind and returns the whole text of the
output (ending in a newline); it computes no figure and changes nothing in the record.

- "result" (`zooprof inspect`, `zooprof report`): `LayerReport`.
- "compare" (`zooprof compare`): `Comparison`.
- "power-log" (`zooprof power-log`): `PowerLog`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zooprof.result.columns import Column
from zooprof.result.document import ProfileResult

Row = dict[str, Any]


@dataclass(frozen=True)
class LayerReport:
    """One result with the layer rows to show."""

    result: ProfileResult
    rows: list[Row]  # the layer rows (collapsed or not)
    columns: list[Column]  # --columns, or the default table columns; may be empty
    columns_given: bool = False  # whether --columns was given (CSV and HTML have their own defaults)
    color: bool | None = None
    width: int | None = None  # the terminal's width: tables fit it (zooprof.renderers.fit); None: no limit
    wide: bool = False  # --wide: every column, whole, whatever the width


@dataclass(frozen=True)
class Comparison:
    """Results side by side: the rows of zooprof.result.summary (`compare_rows`) and what goes around them."""

    results: list[ProfileResult]
    rows: list[Row]
    sources: list[dict[str, Any]]  # where each result came from (zooprof.compare.rows.source_record)
    notes: list[str]  # lines under a table beyond the rows' own (coverage)
    checks: list[dict[str, Any]] | None = None  # --fail-if checks, None when no rule was given
    width: int | None = None
    wide: bool = False


@dataclass(frozen=True)
class PowerLog:
    """A tegrastats log read: its summary and per-sample timeline (zooprof.sensors.tegrastats)."""

    file: str  # the log as given on the command line
    name: str  # its file name, for titles
    summary: dict[str, Any]
    columns: list[str]  # the timeline's columns
    rows: list[dict[str, Any]]  # the timeline, one row per sample
    color: bool | None = None
    width: int | None = None
    wide: bool = False

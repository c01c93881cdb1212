"""`zooprof compare` across results: the summary rows of several results with what each was made
from (the `--fail-if` rules of zooprof.compare.regression read both), coverage notes and where
each result came from (docs/compare.md).

The rows themselves, their keys and their Pareto marks are zooprof.result.summary's; this module
adds what spans several results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zooprof.result.document import ProfileResult
from zooprof.result.summary import Row, compare_rows


@dataclass(frozen=True)
class Entry:
    """A compare row with what it was made from (the rules need more than the row holds)."""

    index: int  # which result (0 = the baseline of --fail-if)
    result: ProfileResult
    measurement: dict[str, Any] | None
    source: str
    row: Row


def compare_entries(results: list[ProfileResult], sources: list[str]) -> list[Entry]:
    """One entry per (result, measurement), or per result when it has no measurements; Pareto marked
    (the rows of `compare_rows`, in its order)."""
    rows = compare_rows(results, sources)
    made_from = [
        (i, result, m, source)
        for i, (result, source) in enumerate(zip(results, sources, strict=True))
        for m in result.measurements or [None]
    ]
    return [Entry(i, result, m, source, row) for (i, result, m, source), row in zip(made_from, rows, strict=True)]


def coverage_notes(results: list[ProfileResult]) -> list[str]:
    """One line per result whose MACs leave layers out (uncounted ops): the figure is a lower bound."""
    notes = []
    for r in results:
        cov = r.totals.get("coverage") or {}
        if cov and cov.get("percent", 100.0) < 100.0:
            ops = ", ".join(f"{k} x{v}" for k, v in (cov.get("uncounted_ops") or {}).items())
            notes.append(
                f"{r.model.get('name')}: MACs cover {cov['percent']:.1f} % of layers"
                + (f" (uncounted: {ops})" if ops else "")
                + "; the figure is a lower bound"
            )
        elif not cov:
            notes.append(f"{r.model.get('name')}: coverage not recorded in this result")
    return list(dict.fromkeys(notes))


def source_record(result: ProfileResult, source: str) -> dict[str, Any]:
    """Where a result came from, for the JSON output."""
    env = result.environment
    board = env.get("board") if isinstance(env.get("board"), dict) else {}
    return {
        "source": source,
        "model": result.model.get("name"),
        "schema_version": result.schema_version,
        "zooprof_version": env.get("zooprof_version"),
        "created": env.get("profiled") or env.get("created"),
        "command": env.get("command"),
        "machine": {"board": board.get("model"), "cpu_model": env.get("cpu_model"), "os": env.get("os")},
    }

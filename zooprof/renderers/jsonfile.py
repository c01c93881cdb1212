"""JSON: a result as its document (docs/result-schema.md, without the graph), a comparison as its
rows, where each result came from and the --fail-if checks (docs/compare.md)."""

from __future__ import annotations

import json
from typing import Any

from zooprof.renderers.documents import Comparison, LayerReport


def report_json(doc: LayerReport) -> str:
    """The registry's entry (zooprof.renderers) for one result: the whole document, whatever rows
    and columns were asked for."""
    return doc.result.to_json()


def render_compare_json(
    rows: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    checks: list[dict[str, Any]] | None = None,
) -> str:
    doc: dict[str, Any] = {"kind": "zooprof-compare", "rows": rows, "sources": sources}
    if checks is not None:
        doc["checks"] = checks
    return json.dumps(doc, indent=2) + "\n"


def comparison_json(doc: Comparison) -> str:
    """The registry's entry (zooprof.renderers) for a comparison."""
    return render_compare_json(doc.rows, doc.sources, doc.checks)

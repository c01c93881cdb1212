"""`totals.params_not_in_trace`, the optional key for stored tensors no layer uses (docs/result-schema.md):
a 1.x document without it loads and renders as before; one with it fills its totals from the layers
plus it, and the totals line names where the tensors sit."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from zooprof.renderers import render
from zooprof.result.columns import parse_columns
from zooprof.result.document import ProfileResult
from zooprof.result.lines import summary_lines

HERE = Path(__file__).resolve().parent
OUTSIDE = {
    "params": 3_326_696,
    "trainable_params": 3_326_696,
    "non_trainable_params": 0,
    "buffers": 1_794,
    "weight_bytes": 4 * 3_326_696 + 4 * 1_792 + 8 * 2,
    "modules": [{"name": "AuxLogits", "params": 3_326_696, "buffers": 1_794}],
}


def tiny_doc() -> dict[str, Any]:
    return json.loads((HERE / "tiny_result.json").read_text())


def test_a_document_without_the_key_loads_as_before() -> None:
    doc = tiny_doc()
    assert "params_not_in_trace" not in doc["totals"]
    r = ProfileResult.from_dict(doc)
    assert "params_not_in_trace" not in r.totals and r.totals["params"] == 112 + 650
    assert "not in the trace" not in "\n".join(summary_lines(r))
    assert render(r, "md", columns=parse_columns(None)) == (HERE / "layers.md").read_text()


def test_missing_totals_are_filled_from_the_layers_and_the_key() -> None:
    doc = tiny_doc()
    doc["totals"]["params_not_in_trace"] = copy.deepcopy(OUTSIDE)
    for key in ("params", "trainable_params", "buffers", "weight_bytes"):
        del doc["totals"][key]
    r = ProfileResult.from_dict(doc)
    assert r.totals["params"] == 112 + 650 + 3_326_696
    assert r.totals["trainable_params"] == 112 + 650 + 3_326_696
    assert r.totals["buffers"] == 1_794
    assert r.totals["weight_bytes"] == 448 + 2600 + OUTSIDE["weight_bytes"]
    assert "totals.params (sum of layers)" in r.environment["schema_defaults"]


def test_the_totals_line_names_what_is_not_in_the_trace() -> None:
    doc = tiny_doc()
    doc["totals"]["params"] += 3_326_696
    doc["totals"]["params_not_in_trace"] = copy.deepcopy(OUTSIDE)
    r = ProfileResult.from_dict(doc)
    first = summary_lines(r)[0]
    assert first.startswith("Params: 3,327,458 ")
    assert first.endswith("; 3,326,696 + 1,794 buffer values not in the trace, in no layer row (AuxLogits: 3,326,696)")
    assert "(AuxLogits: 3,326,696)" in render(r, "md") and "(AuxLogits: 3,326,696)" in render(r, "table")
    many = [{"name": f"m{i}", "params": 10 - i, "buffers": 0} for i in range(7)] + [
        {"name": "table", "params": 0, "buffers": 7}
    ]
    doc["totals"]["params_not_in_trace"]["modules"] = many
    line = summary_lines(ProfileResult.from_dict(doc))[0]
    assert "(m0: 10, m1: 9, m2: 8, m3: 7, m4: 6, 3 more)" in line

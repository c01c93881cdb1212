"""Golden outputs: the CSV and Markdown of a small fixed result, and the compare CSV/Markdown,
byte for byte. After an intended change, rewrite them with

    ZOOPROF_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/golden

and review the diff. The fixture (tiny_result.json, made by make_fixture.py) is checked in, so
these tests depend on neither torch nor later changes to the analyses.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
from pathlib import Path

import pytest

from zooprof.compare.rows import coverage_notes
from zooprof.renderers import render
from zooprof.renderers.compare_text import render_compare_csv, render_compare_markdown
from zooprof.result.columns import parse_columns
from zooprof.result.document import ProfileResult
from zooprof.result.summary import CSV_KEYS, compare_rows

HERE = Path(__file__).resolve().parent
UPDATE = os.environ.get("ZOOPROF_UPDATE_GOLDEN") == "1"


def tiny() -> ProfileResult:
    return ProfileResult.load(HERE / "tiny_result.json")


def compare_inputs() -> tuple[list[ProfileResult], list[str]]:
    """The baseline (three measurements), a static copy, and a wider twin measured at batch 4."""
    base = tiny()
    static = tiny()
    static.measurements = []
    wide = ProfileResult.from_dict(copy.deepcopy(tiny().to_dict()))
    wide.model["name"] = "tiny-net-x2"
    wide.totals["macs"] = 2 * 7552
    wide.totals["params"] = 1524
    wide.totals["weight_bytes"] = 1524 * 4
    # batch 4: 4 x 15,104 MACs per call in 0.2 ms -> 20,000 samples/s, 604.16 GFLOP/s
    wide.measurements = [
        dict(
            wide.measurements[1],
            batch=4,
            runtime="onnxruntime",
            timing={"latency_ms": {"median": 0.2, "p99": 0.3}},
            throughput_per_s=20000.0,
            achieved_gflops=604.16,
        )
    ]
    return [base, static, wide], ["base.json", "static.json", "wide.json"]


def check(name: str, text: str) -> None:
    path = HERE / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{name} missing: run with ZOOPROF_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (ZOOPROF_UPDATE_GOLDEN=1 rewrites it)"


def test_fixture_matches_hand_calculation() -> None:
    """conv 3->4 3x3 pad 1 on 8x8, ReLU, 2x2 max-pool, one op without a rule, flatten, dense 64->10."""
    r = tiny()
    conv_params, fc_params = 4 * 3 * 3 * 3 + 4, 64 * 10 + 10
    conv_macs, fc_macs = 4 * 8 * 8 * 3 * 3 * 3, 64 * 10
    assert r.totals["params"] == conv_params + fc_params == 762
    assert r.totals["macs"] == conv_macs + fc_macs == 7552
    assert r.totals["weight_bytes"] == 762 * 4
    assert r.totals["peak_activation_bytes"] == (3 + 4) * 8 * 8 * 4  # input and conv output live together
    assert r.totals["coverage"]["uncounted_ops"] == {"unknown": 1}


def test_layer_csv_golden() -> None:
    text = render(tiny(), "csv")
    check("layers.csv", text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum(int(r["macs"]) for r in rows) == 7552


def test_layer_markdown_golden() -> None:
    text = render(tiny(), "md", columns=parse_columns(None))
    check("layers.md", text)
    assert "unknown (uncounted)" in text


def test_compare_csv_golden() -> None:
    results, sources = compare_inputs()
    text = render_compare_csv(compare_rows(results, sources))
    check("compare.csv", text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CSV_KEYS)
    by = {(r["model"], r["runtime"], r["batch"], r["source"]): r for r in rows}
    wide = by[("tiny-net-x2", "onnxruntime", "4", "wide.json")]
    assert int(wide["macs"]) == 4 * 2 * 7552  # per call: per-sample MACs x batch
    assert float(wide["peak_activation_mb"]) == pytest.approx(4 * 1792 / 1e6)
    assert [r["pareto"] for r in rows] == ["false", "true", "false", "false", "true"]


def test_compare_markdown_golden() -> None:
    results, sources = compare_inputs()
    text = render_compare_markdown(compare_rows(results, sources), coverage_notes(results))
    check("compare.md", text)
    assert text.count("MACs cover 83.3 % of layers (uncounted: unknown x1)") == 2  # tiny-net, tiny-net-x2


def test_golden_files_are_plain_utf8_with_newlines() -> None:
    for name in ("layers.csv", "layers.md", "compare.csv", "compare.md"):
        data = (HERE / name).read_bytes()
        assert data.endswith(b"\n") and b"\r" not in data
        data.decode("utf-8")


def test_fixture_is_a_current_result() -> None:
    d = json.loads((HERE / "tiny_result.json").read_text())
    assert d["schema_version"] == "1.0"
    assert "schema_defaults" not in tiny().environment  # nothing had to be filled in

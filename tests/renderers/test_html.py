"""The HTML report: escaping, the embedded data, determinism, and what it shows with and without
measurements. The browser checks are in tests/browser."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.renderers.results import BREAKOUT, COMPARE_ROWS, EVIL, hostile, power_ok, with_measurements
from zooprof.renderers import format_for, render
from zooprof.renderers.html import render_compare_html, render_html
from zooprof.renderers.html_data import embed_json, layer_table, layer_timings
from zooprof.result.document import ProfileResult

STAMP = "2030-01-01 00:00:00 +0000"


def payload(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="zooprof-data">(.*?)</script>', html, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def scripts(html: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", html, re.S)


def test_hostile_names_cannot_become_markup() -> None:
    html = render_html(with_measurements(hostile()), rendered_at=STAMP)
    assert "<img" not in html
    assert "<!--" not in html
    assert html.count("</script>") == 2 and html.count("<script") == 2  # the data block and the code
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # title, heading, peak layer, command, board
    assert "no route from this model to tflite &lt;b&gt;" in html
    data = payload(html)
    assert data["result"]["model"]["name"] == EVIL
    assert [r["name"] for r in data["table"]["rows"]][:2] == [EVIL, BREAKOUT]


def test_embed_json_escapes_every_markup_character() -> None:
    value = {"name": "</script><!--&\u2028", "n": [1, 2.5, None]}
    text = embed_json(value)
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == value


def test_script_is_allowed_by_the_content_security_policy_hash() -> None:
    html = render_html(hostile(), rendered_at=STAMP)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    (code,) = scripts(html)
    digest = base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode()
    assert f"'sha256-{digest}'" in csp


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_nothing_is_fetched_from_anywhere() -> None:
    html = render_html(with_measurements(hostile()), rendered_at=STAMP)
    parser = Tags()
    parser.feed(html)
    refs = [(tag, k, v) for tag, attrs in parser.tags for k, v in attrs.items() if k in ("src", "href", "action")]
    assert refs == [("link", "href", "data:,")]
    assert {tag for tag, _ in parser.tags} <= {
        "html",
        "head",
        "meta",
        "link",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "h3",
        "p",
        "section",
        "div",
        "ul",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "details",
        "summary",
        "pre",
        "label",
        "input",
        "select",
        "span",
        "code",
        "dl",
        "dt",
        "dd",
        "noscript",
        "footer",
        "script",
    }
    code = "".join(scripts(html)) + re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert not re.search(
        r"https?://(?!www\.w3\.org/2000/svg\b)|\burl\(|@import|fetch\(|XMLHttpRequest|"
        r"\.src\b|import\(",
        code,
    )


def test_data_round_trips_to_the_same_result() -> None:
    r = with_measurements(hostile())
    data = payload(render_html(r, rendered_at=STAMP))
    assert data["result"] == r.to_dict(include_graph=False)
    assert ProfileResult.from_dict(data["result"]).to_dict(include_graph=False) == r.to_dict(include_graph=False)


def test_render_is_deterministic_and_only_the_timestamp_differs() -> None:
    r = with_measurements(hostile())
    assert render_html(r, rendered_at=STAMP) == render_html(copy.deepcopy(r), rendered_at=STAMP)
    a, b = render_html(r), render_html(r, rendered_at=STAMP)
    assert re.sub(r'<span id="rendered-at">[^<]*</span>', "", a) == re.sub(
        r'<span id="rendered-at">[^<]*</span>', "", b
    )
    assert f'<span id="rendered-at">{STAMP}</span>' in b and STAMP not in a


def test_saved_and_loaded_result_renders_identically(tmp_path: Any) -> None:
    """In memory a result may hold tuples and NaN; saved and loaded it holds lists and NaN again:
    both render to the same page (NaN shows as n/a)."""
    r = with_measurements(hostile())
    r.model["input_shape"] = (1, 1, 8, 8)
    r.measurements[0]["timing"]["latency_ms"]["cv"] = float("nan")
    path = r.save(tmp_path / "result.json")
    assert render_html(r, rendered_at=STAMP) == render_html(ProfileResult.load(path), rendered_at=STAMP)
    assert payload(render_html(r, rendered_at=STAMP))["result"]["measurements"][0]["timing"]["latency_ms"]["cv"] is None


def test_static_result_says_what_was_not_measured() -> None:
    html = render_html(hostile(), rendered_at=STAMP)
    assert "Latency, throughput and energy: n/a (static analysis only" in html
    assert "Latency per layer: n/a (not measured" in html
    assert "Latency distribution: n/a (not measured)" in html
    assert 'id="measurements"' not in html and 'id="power"' not in html
    assert 'id="chart-macs"' in html and 'id="chart-rf"' in html
    assert payload(html)["timings"] == []
    # the summary cards: figures from the totals, in the table's units
    assert ">257<" in html.replace(" ", "") and "4.03 k" in html and "1.03 kB" in html and "832 B" in html


def test_measurements_per_layer_and_power() -> None:
    r = with_measurements(hostile())
    html = render_html(r, rendered_at=STAMP)
    lat = r.measurements[0]["timing"]["latency_ms"]
    assert f"{lat['median']:.3f} ms" in html and f"{lat['p99']:.3f} ms" in html
    assert f"{r.measurements[0]['throughput_per_s']:.1f} /s" in html
    assert "2.450 mJ" in html and "idle-corrected; raw 4.100 mJ" in html  # torch: power measured
    assert "n/a (no power sensor on this machine: not a Jetson, no NVML GPU)" in html  # onnxruntime
    assert "failed (unsupported)" in html  # tflite
    assert "VDD_GPU_SOC" in html and "5,123.0 mW" in html and "48.7 Hz" in html
    assert html.count('class="chart power-chart" data-measurement="0"') == 1
    assert 'id="chart-latency"' in html and 'id="chart-layer-latency"' in html
    assert "NVIDIA Jetson Orin Nano (fake)" in html and "board.nvpmodel" in html and "15W" in html
    data = payload(html)
    (t,) = data["timings"]
    assert t["label"] == "torch b1" and t["measurement"] == 0 and t["matched"] == t["timed"] == 2
    per_layer = r.measurements[0]["per_layer"]["layers"]
    assert t["ms"] == [pytest.approx(x["seconds"] * 1000) for x in per_layer]
    assert t["share"] == [pytest.approx(x["share"] * 100) for x in per_layer]
    assert data["labels"] == ["torch b1", "onnxruntime b1", "tflite b1"]


def test_energy_without_idle_baseline_is_na_with_the_note() -> None:
    r = with_measurements(hostile())
    p = power_ok()
    p.update(energy_per_inference_mj=None, idle_power_mw=None, energy_note="n/a (no idle baseline: use --idle 5s)")
    r.measurements[0]["power"] = p
    html = render_html(r, rendered_at=STAMP)
    assert "n/a (no idle baseline: use --idle 5s)" in html and "raw (not idle-corrected) 4.100 mJ" in html
    assert "2.450 mJ" not in html


def nested() -> ProfileResult:
    r = hostile()
    base = r.layers[0]
    names = ["features.0.conv", "features.0.relu", "features.1.conv", "head"]
    r.layers = [
        {**base, "name": n, "scope": n, "macs": 10 * (i + 1), "macs_pct": 10.0 * (i + 1)} for i, n in enumerate(names)
    ]
    return r


def test_depth_views_and_group_times() -> None:
    r = nested()
    seconds = {"features.0.conv": 0.001, "features.0.relu": 0.002, "head": 0.004}  # features.1.conv not timed
    total = sum(seconds.values())
    layers = [{"name": n, "seconds": s, "share": s / total} for n, s in seconds.items()]
    r.measurements = [{"runtime": "torch", "batch": 1, "status": "ok", "per_layer": {"layers": layers}}]
    table = layer_table(r, r.layers, [])
    labels = [v["label"] for v in table["views"]]
    assert labels == ["all layers (4)", "depth 1 (2 rows)", "depth 2 (3 rows)"]
    names = [[table["rows"][i]["name"] for i in v["rows"]] for v in table["views"]]
    assert names[1] == ["features", "head"] and names[2] == ["features.0", "features.1", "head"]
    assert table["rows"][names[1].index("features") + 4]["macs"] == 60  # the group sums as collapse does
    (t,) = layer_timings(r, table)
    by_name = {
        row["name"]: (ms, share, part)
        for row, ms, share, part in zip(table["rows"], t["ms"], t["share"], t["partial"], strict=True)
    }
    assert by_name["features.0.conv"] == (pytest.approx(1.0), pytest.approx(100 / 7), None)
    assert by_name["features.1.conv"] == (None, None, None)  # not timed: n/a, never 0
    assert by_name["features.0"] == (pytest.approx(3.0), pytest.approx(300 / 7), None)
    assert by_name["features"] == (pytest.approx(3.0), pytest.approx(300 / 7), "2 of 3 layers timed")
    assert by_name["head"][0] == pytest.approx(4.0)


def test_rows_from_another_view_are_the_initial_view() -> None:
    from zooprof.renderers.views import collapse

    r = nested()
    table = layer_table(r, collapse(r.layers, 1), [])
    assert table["views"][table["initial_view"]]["label"] == "depth 1 (2 rows)"
    top = [x for x in r.layers if x["name"] != "head"]
    table = layer_table(r, top, [])
    assert table["views"][table["initial_view"]]["label"] == "as given (3 rows)"


def test_unmatched_per_layer_names_are_explained() -> None:
    r = with_measurements(hostile())
    r.measurements[1]["per_layer"] = {
        "method": "onnxruntime profiler",
        "layers": [
            {"name": "/conv/Conv_fused", "op": "FusedConv", "seconds": 0.001, "share": 0.5, "fused": True},
            {"name": BREAKOUT, "op": "Gemm", "seconds": 0.001, "share": 0.5},
        ],
        "sum_seconds": 0.002,
    }
    html = render_html(r, rendered_at=STAMP)
    assert "onnxruntime b1: 1 of 2 timed layers have a static layer of the same name" in html
    t = payload(html)["timings"][1]
    assert t["ms"] == [None, pytest.approx(1.0)]


def test_html_format_is_chosen_by_extension_and_name() -> None:
    assert format_for("report.html", None) == "html" and format_for("x.HTM", None) == "html"
    assert format_for(None, "html") == "html"
    html = render(hostile(), "html")
    assert html.startswith("<!DOCTYPE html>") and "data-rendered" not in html.split("<script>")[0]


def test_given_columns_are_the_table_columns() -> None:
    from zooprof.result.columns import parse_columns

    html = render(hostile(), "html", columns=parse_columns("name,rf,macs"), columns_given=True)
    assert [c["key"] for c in payload(html)["table"]["columns"]] == ["name", "rf", "macs"]
    assert payload(html)["table"]["rows"][0]["c"] == [EVIL, "3/1", "3,888"]


def test_real_model_with_hostile_layer_name() -> None:
    from tests.renderers.results import real_hostile

    r = real_hostile()
    html = render_html(r, rendered_at=STAMP)
    assert "<img" not in html and "<!--" not in html
    rows = payload(html)["table"]["rows"]
    assert rows[0]["name"] == "block.<img src=x onerror=alert(1)>" and rows[0]["macs"] == 16 * 16 * 8 * 27


def test_compare_html() -> None:
    html = render_compare_html([hostile()], COMPARE_ROWS, rendered_at=STAMP)
    assert "<img" not in html and "<tflite>" not in html
    assert render_compare_html([hostile()], COMPARE_ROWS, rendered_at=STAMP) == html
    data = payload(html)
    assert data["kind"] == "compare" and data["rows"] == COMPARE_ROWS
    cells = {
        r["c"][0] + "/" + r["c"][1]: dict(zip([c["key"] for c in data["table"]["columns"]], r["c"], strict=True))
        for r in data["table"]["rows"]
    }
    vgg = cells["vgg16/onnxruntime"]
    assert (vgg["params"], vgg["macs"], vgg["latency_median_ms"], vgg["energy_per_inference_mj"]) == (
        "138,357,544",
        "15.47 G",
        "120.250",
        "512.500",
    )
    assert cells[EVIL + "/torch"]["energy_per_inference_mj"] == "n/a" and cells[EVIL + "/torch"]["pareto"] == "yes"
    mob = cells["mobilenet_v2/tflite"]
    assert mob["status"] == "failed: no route <tflite>" and mob["latency_median_ms"] == "n/a"
    assert 'id="chart-scatter"' in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    static = cells["resnet18/n/a"]
    assert static["status"] == "static: not measured (static analysis only)" and static["macs"] == "1.81 G"
    assert [r["failed"] for r in data["table"]["rows"]] == [False, False, True, False, False]


def test_compare_without_plottable_rows() -> None:
    rows = [COMPARE_ROWS[2]]
    html = render_compare_html([], rows, rendered_at=STAMP)
    assert "Scatter: n/a (no row has both MACs and a median latency)" in html


def test_incomplete_result_renders_with_na_lines() -> None:
    r = with_measurements(hostile())
    del r.totals["coverage"]
    del r.measurements[0]["session"]
    html = render_html(r, rendered_at=STAMP)
    assert "totals: n/a (incomplete result: KeyError &#39;coverage&#39;)" in html
    assert 'id="measurements"' not in html  # the measurement table needs every row complete
    assert "Measurement table: measurement rows: n/a (incomplete result: KeyError &#39;session&#39;)" in html
    assert "12.120 ms" in html  # the cards still show what is there

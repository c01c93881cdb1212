"""Tables that fit the terminal: at 80, 100 and 120 columns no line is wider than the terminal,
every figure (number, shape, kernel) of a shown column is printed whole on one line, the hidden
columns are named in one line under the table, and --wide shows them all.

Tables: inspect (the layer table), profile (measurements), compare, compare-formats, power-log,
results, list and sysinfo; each rendered from a hand-made record (no framework imported)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.cells import cell_len

from tests.helpers import run
from tests.renderers.results import hostile, with_measurements
from tests.sensors.tegrastats_lines import XNX_JP5
from zooprof.compare.parity.model import TextTable
from zooprof.compare.parity.tables import LATENCY_HEADINGS, SUMMARY_HEADINGS
from zooprof.renderers import render
from zooprof.renderers.compare_text import render_compare_table
from zooprof.renderers.fit import FitColumn, layout, shorten, wrap_heading
from zooprof.renderers.measurements import COLUMNS as MEASURE_COLUMNS
from zooprof.renderers.measurements import measurement_rows, render_measurements
from zooprof.renderers.parity_text import render_table
from zooprof.renderers.results_text import cell_text, render_results_table
from zooprof.result.columns import COLUMNS, DEFAULT_COLUMNS
from zooprof.result.document import ProfileResult
from zooprof.result.summary import SUMMARY_TABLE_COLUMNS, compare_rows

WIDTHS = (80, 100, 120)
LONG = "features.denseblock4.denselayer16.conv2_with_a_very_long_name"


def hidden_columns(text: str) -> list[str]:
    """The headings the note under a table names (the note may wrap)."""
    flat = " ".join(text.split())
    found = re.findall(r"hidden at \d+ columns: (.*?); --wide shows all", flat)
    return [h for note in found for h in note.split(", ")]


def check_fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width}: {wide[:2]}"


def check_figures(text: str, headings: Sequence[str], rows: Sequence[Sequence[str]], figures: Sequence[str]) -> None:
    """Every cell of a shown figure column is on one line of `text`, whole."""
    hidden = hidden_columns(text)
    lines = text.splitlines()
    for i, heading in enumerate(headings):
        if heading not in figures or heading in hidden:
            continue
        for row in rows:
            cell = row[i]
            assert any(cell in line for line in lines), f"{heading} cell {cell!r} broken or missing"


def big_result() -> ProfileResult:
    """Layers with long names and wide figures (tens of billions of MACs, 4-D shapes)."""
    r = hostile()
    base = r.layers[0]
    layers = []
    for n in range(6):
        row = dict(base)
        row.update(
            name=f"{LONG}.{n}",
            scope="",
            output_shape=[1, 2048 + n, 112, 112],
            kernel=[11, 11],
            stride=[4, 4],
            padding=[2, 2],
            groups=2,
            params=123_456_789 + n,
            trainable_params=123_456_789,
            buffers=4096,
            macs=98_765_432_100 + n,
            flops=197_530_864_200,
            macs_pct=12.5,
            weight_bytes=493_827_156,
            activation_bytes=102_760_448,
            formula=["floor((224 + 2*2 - 11) / 4) + 1"] * 2,
        )
        layers.append(row)
    r.layers = layers
    return r


# -- the layout itself ---------------------------------------------------------------------------


def test_layout_hides_by_rank_and_keeps_figures_whole() -> None:
    cols = [
        FitColumn("Name"),
        FitColumn("Big", figure=True, drop=2, right=True),
        FitColumn("Small", figure=True, drop=1, right=True),
    ]
    rows = [["a" * 40, "1" * 30, "22"]]
    plan = layout(cols, rows, 40)
    assert plan.hidden == ["Big"]  # the highest rank goes first
    assert [cols[i].heading for i in plan.shown] == ["Name", "Small"]
    assert layout(cols, rows, None).hidden == []


def test_shorten_and_wrap_heading() -> None:
    assert shorten("fasterrcnn_mobilenet_v3_large_320_fpn", 20) == "fasterrcnn…e_320_fpn"
    assert shorten("fasterrcnn_mobilenet_v3_large_fpn", 20) != shorten("fasterrcnn_mobilenet_v3_large_320_fpn", 20)
    assert shorten("short", 20) == "short"
    assert cell_len(shorten("x" * 50, 7, "end")) == 7
    assert wrap_heading("Kernel/stride/pad", 8).splitlines() == ["Kernel/", "stride/", "pad"]
    assert wrap_heading("95% CI of median", 10).splitlines() == ["95% CI of", "median"]


# -- each table at 80, 100 and 120 columns ------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("which", ["default", "all"])
def test_inspect_table_fits(width: int, which: str) -> None:
    result = big_result()
    cols = [COLUMNS[k] for k in (DEFAULT_COLUMNS if which == "default" else COLUMNS)]
    text = render(result, "table", result.layers, cols, color=False, width=width)
    check_fits(text, width)
    figures = [
        c.heading for c in cols if c.key not in ("name", "op", "source_op", "formula", "stage", "data_dependent")
    ]
    cells = [[c.text(r) for c in cols] for r in result.layers]
    check_figures(text, [c.heading for c in cols], cells, figures)
    assert "Layer" not in hidden_columns(text) and "MACs" not in hidden_columns(text)
    if which == "all":
        assert hidden_columns(text), "every column cannot fit in 120 cells"
        wide = render(result, "table", result.layers, cols, color=False, width=width, wide=True)
        assert not hidden_columns(wide)
        assert all(c.text(result.layers[0]) in wide for c in cols if c.key != "name")
    # layer names: shortened in the middle, the end kept (rows stay distinguishable)
    names = [line for line in text.splitlines() if line.startswith("│")]
    assert len({line.split("│")[1] for line in names}) == len(result.layers)


@pytest.mark.parametrize("width", WIDTHS)
def test_profile_table_fits(width: int) -> None:
    result = with_measurements(big_result())
    text = render_measurements(result, width=width)
    check_fits(text.split("\nStatic: ")[0].split("\nPer-layer")[0], width)  # the table and its note
    headings = [c.heading for c in MEASURE_COLUMNS]
    figures = [c.heading for c in MEASURE_COLUMNS if c.figure]
    check_figures(text, headings, measurement_rows(result), figures)
    assert "Median ms" not in hidden_columns(text)
    if width < 170:
        assert hidden_columns(text)
    assert re.search(r"Static: [\d,]+ params, \d+\.\d\d [kMGT]MACs, ", text)
    result.totals["macs"] = 64
    assert "64 MACs, " in render_measurements(result, width=width)  # a space before the unit (was "64MACs")
    wide = render_measurements(result, width=width, wide=True)
    assert not hidden_columns(wide) and "95% CI of median" in wide


def compare_rows_fixture() -> list[dict[str, object]]:
    base = with_measurements(big_result())
    base.model["name"] = "fasterrcnn_mobilenet_v3_large_320_fpn"
    other = with_measurements(big_result())
    other.model["name"] = "fasterrcnn_mobilenet_v3_large_fpn"
    return compare_rows([base, other], ["runs/base/result.json", "runs/other/result.json"])


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_table_fits(width: int) -> None:
    rows = compare_rows_fixture()
    text = render_compare_table(rows, width=width)
    check_fits(text.split("\nn/a: ")[0], width)
    headings = [c.heading for c in SUMMARY_TABLE_COLUMNS]
    figures = [c.heading for c in SUMMARY_TABLE_COLUMNS if c.numeric]
    cells = [[c.text(r) for c in SUMMARY_TABLE_COLUMNS] for r in rows]
    check_figures(text, headings, cells, figures)
    assert "Model" not in hidden_columns(text)
    models = {line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")}
    assert len(models) == 2, models  # the two names stay distinguishable


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_formats_table_fits(width: int) -> None:
    headings = [*SUMMARY_HEADINGS, *LATENCY_HEADINGS, "Status"]
    summary_rows = [
        [
            fmt,
            f"converted_keras/{fmt}_model_with_a_long_file_name.{fmt}",
            "538,508",
            "524,594",
            "13,914",
            "58,126,848",
            "116,253,696",
            "2,154,032",
            "float32, int8",
            "156",
            "100 %",
            "3.214 ms",
            "tflite",
            "ok",
        ]
        for fmt in ("keras", "tfjs", "tflite", "onnx")
    ]
    layer_headings = ["#", "Kind", "Layer (keras)", "keras", "tfjs", "tflite", "onnx", "MACs", "Agree"]
    layer_rows = [[str(n), "conv", f"model/{LONG}_{n}", *["1×1280×7×7"] * 4, "10,838,016", "yes"] for n in range(3)]
    report = SimpleNamespace(
        summary_table=TextTable(headings=headings, rows=summary_rows),
        layer_table=TextTable(headings=layer_headings, rows=layer_rows),
        explanations=["params: the same in every format"],
    )
    text = render_table(report, width=width)  # type: ignore[arg-type]
    check_fits(text, width)
    summary_figures = [h for h in headings if h not in ("Format", "File", "Weight dtype(s)", "Status", "Runtime")]
    check_figures(text, headings, summary_rows, summary_figures)
    check_figures(text, layer_headings, layer_rows, ["#", "keras", "tfjs", "tflite", "onnx", "MACs"])
    assert not {"Format", "Status", "keras", "onnx", "Agree"} & set(hidden_columns(text))


@pytest.mark.parametrize("width", WIDTHS)
def test_power_log_table_fits(width: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "tegrastats.log"
    log.write_text("\n".join([XNX_JP5] * 5) + "\n")
    code, out, err = run(capsys, "power-log", str(log), "--width", str(width))
    assert code == 0, err
    check_fits(out, width)
    assert "VDD_CPU_GPU_CV" in out and not hidden_columns(out)


@pytest.mark.parametrize("width", WIDTHS)
def test_results_table_fits(width: int) -> None:
    from zooprof.cli.results_cmd import TABLE_COLUMNS

    columns = list(TABLE_COLUMNS)
    numeric = {"id", "batch", "threads", "repeat", "latency_median_ms", "latency_p99_ms", "ci_rel_halfwidth"}
    numeric |= {"energy_per_inference_mj"}
    rows = [
        {
            "id": 1000 + n,
            "model": "fasterrcnn_mobilenet_v3_large_320_fpn",
            "runtime": "onnxruntime",
            "device": "cuda:0",
            "precision": "fp16",
            "batch": 8,
            "threads": 4,
            "power_mode": "MAXN_SUPER",
            "repeat": n,
            "status": "ok",
            "latency_median_ms": 1234.5678,
            "latency_p99_ms": 2345.6789,
            "ci_rel_halfwidth": 0.0123,
            "energy_per_inference_mj": 98765.4321,
            "machine": "jetson-orin-nano-devkit-0042",
        }
        for n in range(3)
    ]
    text = render_results_table(rows, columns, "Results: sweep.db", numeric, ["3 rows"], width)
    check_fits(text, width)
    cells = [[cell_text(r[c]) for c in columns] for r in rows]
    check_figures(text, columns, cells, sorted(numeric))
    assert not {"id", "model", "latency_median_ms"} & set(hidden_columns(text))


@pytest.mark.parametrize("width", WIDTHS)
def test_list_table_fits(width: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "--width", str(width))
    assert code == 0, err
    check_fits(out, width)
    assert "fasterrcnn_mobilenet_v3_large_320_fpn" in out and "fasterrcnn_mobilenet_v3_large_fpn" in out
    assert "61,100,840" in out and "714.19 M" in out  # alexnet's params and MACs, whole
    code, wide, _ = run(capsys, "list", "--width", str(width), "--wide")
    assert "torchvision:alexnet" in wide and not hidden_columns(wide)


@pytest.mark.parametrize("width", WIDTHS)
def test_sysinfo_fits(width: int, capsys: pytest.CaptureFixture[str]) -> None:
    from zooprof.cli.sysinfo_cmd import fit_lines

    lead = "  TensorRT       "
    text = "n/a (no NvInferVersion.h in /usr/include, /usr/include/*-linux-gnu, /usr/local/cuda/include; 12,345 MB)"
    long = f"{text} {text}"
    lines = fit_lines([(lead, long)], width)
    assert len(lines) > 1 and all(len(line) <= width for line in lines)
    assert lines[0].startswith(lead) and all(line.startswith(" " * len(lead)) for line in lines[1:])
    assert " ".join(line[len(lead) :] for line in lines) == long  # broken at spaces only
    code, out, err = run(capsys, "sysinfo", "--width", str(width))
    assert code == 0, err
    # a line wider than the terminal only where one word (a path) is longer than the room
    for line in out.splitlines():
        assert len(line) <= width or " " not in line[width - 40 :].strip(), line

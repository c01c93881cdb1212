"""`zooprof compare-formats`: one model in several formats, differences explained (zooprof.compare.parity)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED
from tests.frontends import keras_fixtures as kfx
from tests.helpers import run
from zooprof.compare.parity import compare
from zooprof.compare.parity.findings import params_finding
from zooprof.compare.parity.model import BatchNormStats, FormatFigures, FormatRecord, ParityReport

TM = SHARED / "fixtures" / "teachable-machine"
needs_shared = pytest.mark.skipif(not TM.is_dir(), reason=f"the real Teachable Machine exports ({TM}) are absent")


def by_label(comparison: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["column"]: f for f in comparison["formats"]}


def by_column(report: ParityReport) -> dict[str, FormatRecord]:
    return {f.column: f for f in report.formats}


# --------------------------------------------------------------------------------------
# the real Teachable Machine exports: Keras .h5 and TFLite float / int8 of one 2-class model


@pytest.fixture
def tm_folder(tmp_path: Path) -> Path:
    """The unzipped downloads side by side, as a user has them."""
    root = tmp_path / "exports"
    for src, dest in [
        ("keras-2class/keras_model.h5", "converted_keras/keras_model.h5"),
        ("keras-2class/labels.txt", "converted_keras/labels.txt"),
        ("tflite-2class/converted_tflite/model_unquant.tflite", "converted_tflite/model_unquant.tflite"),
        ("tflite-2class/converted_tflite_quantized/model.tflite", "converted_tflite_quantized/model.tflite"),
        ("tflite-2class/converted_edgetpu/model_edgetpu.tflite", "converted_edgetpu/model_edgetpu.tflite"),
    ]:
        (root / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TM / src, root / dest)
    return root


@needs_shared
def test_teachable_keras_vs_tflite_explained(
    tm_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json = tmp_path / "parity.json"
    code, out, err = run(capsys, "compare-formats", str(tm_folder), "-o", str(out_json))
    assert code == 0, err
    c = json.loads(out_json.read_text())
    f = by_label(c)
    assert list(f) == ["Keras float32", "TFLite float32", "TFLite int8", "Edge TPU"]
    keras, flt, q8 = f["Keras float32"], f["TFLite float32"], f["TFLite int8"]
    assert (keras["params"], flt["params"], q8["params"]) == (538_508, 517_388, 517_388)
    assert keras["file"] == "converted_keras/keras_model.h5"
    # params: BN folding, computed from the layers (52 BN, 7,040 channels), exactly
    assert keras["batchnorm"]["layers"] == 52 and keras["batchnorm"]["channels"] == 7_040
    for finding in c["params"]["findings"]:
        assert finding["difference"] == -21_120 and finding["explained"] and finding["cause"] == "batchnorm folding"
        assert "params differ by 21,120 = BN folding of 52 BatchNorm layers (sum C = 7,040)" in finding["text"]
        assert "keeps 7,040 conv biases instead (52 convs had no bias)" in finding["text"]
    assert 538_508 - 4 * 7_040 + 7_040 == 517_388
    # MACs equal; FLOPs: BN FLOPs gone, bias adds gained
    assert c["macs"]["equal"] and set(c["macs"]["values"].values()) == {58_134_008}
    assert "MACs equal across formats: 58,134,008" in c["explanations"]
    assert all(x["explained"] for x in c["flops"]["findings"])
    # quantisation: int8 weights, int32 biases, 3.84 x fewer bytes
    (quant,) = c["quantisation"]
    assert quant["format"] == "TFLite int8" and quant["dtype"] == "int8"
    assert q8["weight_bytes"] == 538_808 and q8["float32_weight_bytes"] == flt["weight_bytes"] == 2_069_552
    assert q8["weight_dtypes"] == ["int8", "int32"] and q8["quantize_layers"] == 2
    assert "weights stored as int8: weight bytes x3.84 smaller than float32" in quant["text"]
    # per-layer conv/dense shapes agree, 52 convs + 2 dense
    layers = c["layers"]
    assert layers["agree"] and layers["first_disagreement"] is None and len(layers["rows"]) == 54
    assert layers["count"] == {"Keras float32": 54, "TFLite float32": 54, "TFLite int8": 54}
    assert layers["rows"][0]["shapes"]["TFLite int8"] == [1, 16, 112, 112]
    assert layers["rows"][-1]["shapes"]["Keras float32"] == [1, 2]
    # the Edge TPU file is listed, not compared
    assert f["Edge TPU"]["status"] == "not comparable"
    assert any(x.startswith("Edge TPU: not comparable") for x in c["explanations"])
    # the table on stdout carries the same figures and sentences
    for text in (
        "538,508",
        "517,388",
        "58,134,008",
        "BN folding of 52 BatchNorm layers",
        "x3.84 smaller",
        "Edge TPU: not comparable",
        "all 54 conv/dense layers agree",
    ):
        assert text in out, text
    assert f"wrote {out_json}" in err


@needs_shared
def test_teachable_markdown_and_csv(tm_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    md, table = tmp_path / "parity.md", tmp_path / "parity.csv"
    assert run(capsys, "compare-formats", str(tm_folder), "-o", str(md))[0] == 0
    text = md.read_text()
    assert "| Keras float32 | converted_keras/keras_model.h5 | 538,508 |" in text
    assert "params differ by 21,120 = BN folding of 52 BatchNorm layers" in text
    assert "| 54 | dense | sequential_3/dense_Dense2 | 1x2 | 1x2 | 1x2 | 200 | yes |" in text
    assert run(capsys, "compare-formats", str(tm_folder), "-o", str(table))[0] == 0
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [r["format"] for r in rows] == ["Keras float32", "TFLite float32", "TFLite int8", "Edge TPU"]
    assert (
        rows[0]["params"] == "538508"
        and rows[2]["weight_bytes"] == "538808"
        and rows[2]["weight_dtypes"] == "int8;int32"
    )
    assert rows[1]["params_vs_baseline"] == "-21120" and "BN folding" in rows[1]["params_explanation"]


@needs_shared
def test_teachable_explicit_references_and_an_unexplained_difference(capsys: pytest.CaptureFixture[str]) -> None:
    """Keras 2-class against TF.js 5-class: not the same model, and the view says so."""
    c = compare([str(TM / "keras-2class" / "keras_model.h5"), str(TM / "tfjs-5class" / "model.json")])
    (finding,) = c.params_findings
    assert finding.difference == 300 and not finding.explained
    assert "unexplained difference of 300" in finding.text and "dense +300" in finding.text
    assert not c.macs.equal and any("#54 sequential_3/dense_Dense2 (200 vs 500)" in t for t in c.macs.texts)
    assert not c.layers.agree and c.layers.macs_differ == [54]
    assert (c.layers.first_disagreement or "").startswith("#54 (dense sequential_3/dense_Dense2)")


@needs_shared
@pytest.mark.slow
def test_teachable_latency_on_tflite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ai_edge_litert", reason="LiteRT runs the .tflite files")
    files = [
        str(TM / "tflite-2class" / "converted_tflite" / "model_unquant.tflite"),
        str(TM / "tflite-2class" / "converted_tflite_quantized" / "model.tflite"),
    ]
    out_json = tmp_path / "latency.json"
    code, out, err = run(capsys, "compare-formats", *files, "--latency", "--max-time", "0.3", "-o", str(out_json))
    assert code == 0, err
    c = json.loads(out_json.read_text())
    assert c["latency"] and c["max_time"] == 0.3
    for f in c["formats"]:
        lat = f["latency"]
        assert lat["runtime"] == "tflite" and lat["status"] == "ok", lat
        assert lat["median_ms"] > 0 and lat["text"] == f"{lat['median_ms']:.3f} ms"
        assert lat["text"] in out
    assert "Latency (median, batch 1)" in out and "Runtime" in out


@needs_shared
def test_memory_limit_reaches_every_timing_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--memory-limit is parsed once (50% of the machine's memory -> bytes) and given to the
    measurement of each format; the measurement itself is a stand-in (the worker's enforcement of
    the limit is tested in tests/runtimes)."""
    pytest.importorskip("ai_edge_litert", reason="LiteRT runs the .tflite files")
    from zooprof.measure import profiling
    from zooprof.runtimes import memory_limit as ml

    monkeypatch.setattr(ml, "total_memory", lambda: 8 * 2**30)
    seen: list[object] = []

    def stand_in(result: Any, reference: str, options: Any) -> None:
        seen.append(options.memory_limit)
        result.measurements = [{"status": "failed", "reason": "stand-in"}]

    monkeypatch.setattr(profiling, "measure_model", stand_in)
    files = [
        str(TM / "tflite-2class" / "converted_tflite" / "model_unquant.tflite"),
        str(TM / "tflite-2class" / "converted_tflite_quantized" / "model.tflite"),
    ]
    code, out, err = run(capsys, "compare-formats", *files, "--latency", "--memory-limit", "50%")
    assert code == 0, err
    assert seen == [4 * 2**30, 4 * 2**30] and out.count("failed (stand-in)") == 2
    seen.clear()
    run(capsys, "compare-formats", *files, "--latency", "--memory-limit", "none")
    assert seen == [ml.NO_LIMIT, ml.NO_LIMIT]
    seen.clear()
    run(capsys, "compare-formats", *files, "--latency")
    assert seen == [None, None]  # the default: 80 % of what is available when each worker starts


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--memory-limit", "2G"], "--memory-limit applies to the timing"),
        (["--latency", "--memory-limit", "12Q"], "malformed --memory-limit '12Q'"),
        (["--latency", "--memory-limit", "8"], "--memory-limit 8 has no unit"),
    ],
)
def test_bad_memory_limit_is_one_line_exit_2_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expect: str
) -> None:
    code, _, err = run(capsys, "compare-formats", str(tmp_path / "absent.onnx"), *args)
    assert code == 2 and expect in err  # said before the missing file is even looked at
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------
# self-made: one Keras model saved as .h5 and converted to float and int8 TFLite


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tensorflow", reason="TensorFlow converts the self-made model to TFLite")
    from tests.frontends import tflite_fixtures as fx

    fx._quiet()
    folder = tmp_path_factory.mktemp("parity")
    model = fx.small_model()
    model.save(folder / "small.h5")
    (folder / "small_float.tflite").write_bytes(fx._convert(model, "float"))
    (folder / "small_int8.tflite").write_bytes(fx._convert(model, "int8"))
    return folder


def test_self_made_keras_float_int8(small: Path) -> None:
    from tests.frontends import tflite_fixtures as fx

    c = compare([str(small)])
    f = by_column(c)
    assert list(f) == ["Keras float32", "TFLite float32", "TFLite int8"]
    assert f["Keras float32"].read_figures.params == fx.KERAS_PARAMS
    assert f["TFLite float32"].read_figures.params == f["TFLite int8"].read_figures.params == fx.TFLITE_PARAMS
    for finding in c.params_findings:
        assert finding.explained and finding.difference == fx.TFLITE_PARAMS - fx.KERAS_PARAMS
        assert "params differ by 48 = BN folding of 1 BatchNorm layer (sum C = 16)" in finding.text
    assert c.macs.equal and set(c.macs.values.values()) == {fx.MACS}
    assert all(x.explained for x in c.flops_findings)
    q8 = f["TFLite int8"].read_figures
    assert q8.weight_bytes == (fx.TFLITE_PARAMS - fx.BIASES) + 4 * fx.BIASES
    assert (q8.quantize_layers, q8.dequantize_layers) == (1, 1)
    (quant,) = c.quantisation
    ratio = 4 * fx.TFLITE_PARAMS / q8.weight_bytes
    assert f"weights stored as int8: weight bytes x{ratio:.2f} smaller than float32" in quant.text
    assert c.layers.agree and len(c.layers.rows) == 6  # 4 convs, 2 dense


def test_self_made_explicit_files_keep_their_order(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(small / "small_int8.tflite"), str(small / "small.h5"), str(small / "small_float.tflite")]
    code, out, err = run(capsys, "compare-formats", *files)
    assert code == 0, err
    c = compare(files)
    assert [f.column for f in c.formats] == ["TFLite int8", "Keras float32", "TFLite float32"]
    assert c.baseline == "TFLite int8"
    keras = c.params_findings[0]
    assert keras.format == "Keras float32" and keras.difference == 48 and keras.explained
    assert "BN folding of 1 BatchNorm layer" in out and "MACs equal across formats: 363,136" in out


@pytest.fixture(scope="module")
def untrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tensorflow", reason="TensorFlow converts the self-made model to TFLite")
    from tests.frontends import tflite_fixtures as fx

    fx._quiet()
    folder = tmp_path_factory.mktemp("untrained")
    model = fx.untrained_model()
    model.save(folder / "untrained.keras")
    (folder / "untrained.tflite").write_bytes(fx._convert(model, "float"))
    return folder


def test_untrained_keras_vs_tflite_every_difference_explained(untrained: Path) -> None:
    """BN folding, a Dense bias the converter drops (all zeros), a constant add folded into the
    conv before it, equal zero tensors merged: each computed from the layers; and the layers
    aligned by their place in the graph although the converter runs the shortcut conv after
    the branch."""
    c = compare([str(untrained)])
    keras, tfl = (c.formats[0].read_figures, c.formats[1].read_figures)
    (params,) = c.params_findings
    assert params.explained
    assert params.cause == "batchnorm folding and dropped dense biases and added conv biases and shared values"
    # by hand: 4 BN (C = 8 + 16 + 4 + 16 = 44), 4 x 44 values out; the stem conv (no bias) gains 8;
    # the 3 other convs had a bias; the Dense head's 10 zero biases are dropped; the separable
    # conv's depthwise part (16 channels, no bias in Keras) gets 16 zeros
    assert keras.dense_bias.values == 10 and tfl.dense_bias.values == 0
    assert -params.difference == 4 * 44 - 8 + 10 - 16 + tfl.shared_param_values
    assert "+ 10 values of dropped dense biases, - 16 values of added conv biases" in params.text
    (flops,) = c.flops_findings
    # the SE conv's `+ 3.0` (16 values) is folded into its bias; the Dense head's 10 bias adds go too
    assert keras.constant_ops.flops == 16 and tfl.constant_ops.flops == 0
    assert flops.explained and "folds 1 element-wise op with a constant into the conv or dense layer" in flops.text
    assert c.macs.equal and c.layers.agree and not c.layers.macs_differ
    order = {f: [r.names[f] for r in c.layers.rows] for f in c.layers.formats}
    assert [n.split("/")[0] for n in order["Keras float32"]] == [
        "stem",
        "branch_a",
        "shortcut",
        "branch_b",
        "se_conv",
        "sep",
        "sep",
        "logits",
    ]


def test_layers_are_aligned_by_their_place_in_the_graph() -> None:
    """A converter that runs a block's shortcut conv before its branch (the TFLite ResNet50): the
    rows match the layers by depth and work, not by execution order."""
    from types import SimpleNamespace

    from zooprof.compare.parity.align import align_layers

    def result(order: list[str]) -> Any:
        convs = {  # name: (input, output shape, MACs)
            "stem": ("x", [1, 8, 8, 8], 100),
            "branch": ("stem", [1, 4, 8, 8], 200),
            "shortcut": ("stem", [1, 16, 8, 8], 300),
            "branch2": ("branch", [1, 16, 8, 8], 400),
        }
        rows, glayers = [], []
        for name in order:
            src, shape, macs = convs[name]
            rows.append({"name": name, "op": "conv", "output_shape": shape, "macs": macs, "counted": True})
            glayers.append({"inputs": [{"name": src}], "outputs": [{"name": name}]})
        rows.append({"name": "add", "op": "add", "output_shape": [1, 16, 8, 8], "macs": 0, "counted": True})
        glayers.append({"inputs": [{"name": "shortcut"}, {"name": "branch2"}], "outputs": [{"name": "add"}]})
        return SimpleNamespace(layers=rows, graph={"layers": glayers})

    formats = [SimpleNamespace(column="A"), SimpleNamespace(column="B")]
    results = {
        "A": result(["stem", "branch", "shortcut", "branch2"]),
        "B": result(["stem", "shortcut", "branch", "branch2"]),
    }
    a = align_layers(formats, results)  # type: ignore[arg-type]
    assert a.agree and not a.macs_differ and a.first_disagreement is None
    assert [(r.names["A"], r.names["B"]) for r in a.rows] == [
        ("stem", "stem"),
        ("branch", "branch"),
        ("shortcut", "shortcut"),
        ("branch2", "branch2"),
    ]
    results["B"].layers[1]["output_shape"] = [1, 32, 8, 8]  # a real difference is still found
    a = align_layers(formats, results)  # type: ignore[arg-type]
    assert not a.agree and (a.first_disagreement or "").endswith("A 1x16x8x8, B 1x32x8x8")


TORCH_SCRIPT = """
import json, sys
import torch
from torch import nn
from zooprof.compare.parity import compare

folder = sys.argv[1]
model = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 3),
                      nn.BatchNorm2d(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
x = torch.randn(1, 3, 32, 32)
torch.export.save(torch.export.export(model, (x,)), folder + "/tiny.pt2")
torch.onnx.export(model, (x,), folder + "/tiny.onnx", dynamo=False)
print("RESULT=" + json.dumps(compare([folder + "/tiny.pt2", folder + "/tiny.onnx"]).to_dict()))
"""


@pytest.mark.slow
def test_torch_export_vs_onnx_bn_folded_by_the_exporter(tmp_path: Path) -> None:
    """torch.onnx.export folds eval-mode BatchNorm: one BN after a conv without bias (gains a
    bias), one after a conv with a bias (folded into it). In a subprocess: torch.export after
    TensorFlow (the self-made fixtures) crashes the process."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    r = subprocess.run([sys.executable, "-c", TORCH_SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=300)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT=")]
    assert line, r.stderr[-2000:]
    c = json.loads(line[-1][7:])
    assert [f["column"] for f in c["formats"]] == ["PyTorch float32", "ONNX float32"]
    (finding,) = c["params"]["findings"]
    # PyTorch counts gamma and beta (2 x 12) as params; the exporter adds one 8-value bias
    assert finding["difference"] == -(2 * 12 - 8) and finding["explained"], finding["text"]
    assert "BN folding of 2 BatchNorm layers (sum C = 12)" in finding["text"]
    assert "1 BatchNorm folded into an existing bias" in finding["text"]
    assert c["macs"]["equal"] and c["layers"]["agree"] and all(x["explained"] for x in c["flops"]["findings"])


# --------------------------------------------------------------------------------------
# no TensorFlow needed: hand-written TF.js models


def test_a_format_that_cannot_be_read_keeps_the_others(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kfx.write_tm_tfjs(tmp_path / "two", ["a", "b"])
    kfx.write_tm_tfjs(tmp_path / "three", ["a", "b", "c"])
    (tmp_path / "broken.tflite").write_bytes(b"not a flatbuffer")
    code, out, err = run(capsys, "compare-formats", str(tmp_path))
    assert code == 1
    c = compare([str(tmp_path)])
    assert c.failed == 1
    broken = next(f for f in c.formats if f.file == "broken.tflite")
    assert broken.status == "failed" and broken.figures is None and "not a valid TFLite file" in (broken.reason or "")
    assert "broken.tflite" in out and "not a valid TFLite file" in out
    (finding,) = c.params_findings  # the two TF.js models are still compared
    assert finding.difference == -100 and "unexplained difference of 100" in finding.text
    assert kfx.tm_small_params(3) - kfx.tm_small_params(2) == 100
    assert (c.layers.first_disagreement or "").endswith("1x3, TF.js float32 (two/model.json) 1x2")


def test_params_finding_bn_statistics_counted_differently() -> None:
    def fmt(column: str, params: int, bn_params: int, buffers: int) -> FormatRecord:
        bn = BatchNormStats(layers=2, channels=48, params=bn_params, after_conv_without_bias=2)
        figures = FormatFigures(
            kind="model",
            name=column,
            params=params,
            trainable_params=params,
            non_trainable_params=0,
            buffers=buffers,
            non_trainable_or_buffers=buffers,
            macs=0,
            flops=0,
            weight_bytes=4 * params,
            weight_dtypes=["float32"],
            weight_elements={"float32": params},
            storage_dtype="float32",
            float32_weight_bytes=4 * params,
            weight_bytes_ratio=1.0,
            quantised=False,
            input_dtypes=["float32"],
            activation_dtype="float32",
            layers=0,
            mac_layers=0,
            coverage_percent=100,
            uncounted_ops={},
            quantize_layers=0,
            dequantize_layers=0,
            batchnorm=bn,
            shared_param_values=0,
            params_by_op={},
            flops_by_op={},
        )
        return FormatRecord(column, column, "ok", None, None, column, column=column, figures=figures)

    keras, torch = fmt("Keras", 1_000 + 4 * 48, 4 * 48, 0), fmt("PyTorch", 1_000 + 2 * 48, 2 * 48, 2 * 48 + 2)
    finding = params_finding(keras, torch)
    assert finding.explained and finding.cause == "batchnorm statistics counted differently"
    assert "Keras counts 4 values per channel as params, PyTorch 2" in finding.text
    assert "expected" not in finding.to_dict() and finding.to_dict()["channels"] == 48
    torch = replace(torch, figures=replace(torch.read_figures, params=torch.read_figures.params + 1))
    assert "unexplained difference of 95" in params_finding(keras, torch).text


def test_one_format_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kfx.write_tm_tfjs(tmp_path, ["a", "b"])
    (tmp_path / "model_edgetpu.tflite").write_bytes(b"\0" * 16)  # listed, never comparable
    code, out, err = run(capsys, "compare-formats", str(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith("error: fewer than 2 formats in the folder") and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "compare-formats", str(tmp_path / "model.json"))
    assert code == 2 and "fewer than 2 formats given" in err


def test_no_model_and_bad_output_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    code, _, err = run(capsys, "compare-formats", str(tmp_path))
    assert code == 2 and "no model found in the folder" in err and "readme.txt" in err
    code, _, err = run(capsys, "compare-formats", str(tmp_path), "-o", str(tmp_path / "out.xlsx"))
    assert code == 2 and "cannot tell the format" in err


def test_latency_cell_says_why_a_format_cannot_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kfx.write_tm_tfjs(tmp_path / "two", ["a", "b"])
    kfx.write_tm_tfjs(tmp_path / "three", ["a", "b", "c"])
    code, out, _ = run(capsys, "compare-formats", str(tmp_path), "--latency", "--max-time", "0.3")
    assert code == 0
    c = compare([str(tmp_path)], latency=True, max_time=0.3)
    for f in c.formats:
        assert f.latency is not None and f.latency.status == "n/a" and f.latency.median_ms is None
        assert f.latency.text == "n/a (no runtime runs TF.js models)"
        assert "ci_rel_halfwidth" not in f.to_dict()["latency"]
    assert "n/a (no runtime runs TF.js models)" in out

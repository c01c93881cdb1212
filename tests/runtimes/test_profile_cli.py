"""`zooprof profile` end to end: isolation of bad models, bad input, the result file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run
from zooprof import runtimes

pytest.importorskip("torch")


@pytest.mark.slow
def test_isolation_keeps_the_good_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    models = [
        "tests.runtimes.bad_models:good_net",
        "tests.runtimes.bad_models:segfault_net",
        "tests.runtimes.bad_models:raising_net",
        "tests.runtimes.bad_models:hanging_net",
    ]
    code, out, err = run(
        capsys,
        "profile",
        *models,
        "--input-shape",
        "1x4",
        "--max-time",
        "0.5",
        "--timeout",
        "25",
        "-o",
        str(tmp_path / "{model}.json"),
    )
    assert code == 1
    results = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert len(results) == 4
    good = results["tests.runtimes.bad_models_good_net"]["measurements"][0]
    assert good["status"] == "ok" and good["timing"]["latency_ms"]["median"] > 0
    seg = results["tests.runtimes.bad_models_segfault_net"]["measurements"][0]
    assert seg["status"] == "failed" and seg["failure"] == "crash" and "SIGSEGV" in seg["reason"]
    rai = results["tests.runtimes.bad_models_raising_net"]["measurements"][0]
    assert rai["failure"] == "exception" and "always fails on real data" in rai["reason"]
    han = results["tests.runtimes.bad_models_hanging_net"]["measurements"][0]
    assert han["failure"] == "timeout"
    assert "failed (crash)" in out


@pytest.mark.slow
def test_memory_limit_fails_the_row_and_the_run_goes_on(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """hungry_net holds 64 MiB per sample: batch 64 (4 GiB) passes a 2 GiB limit and that row
    fails with the reason within seconds; batch 1 and the next model are measured."""
    code, out, _ = run(
        capsys,
        "profile",
        "tests.runtimes.bad_models:hungry_net",
        "tests.runtimes.bad_models:good_net",
        "--input-shape",
        "1x4",
        "--batch",
        "64,1",
        "--max-time",
        "0.5",
        "--timeout",
        "120",
        "--memory-limit",
        "2G",
        "-o",
        str(tmp_path / "{model}.json"),
    )
    assert code == 1 and "failed (memory)" in out
    hungry = json.loads((tmp_path / "tests.runtimes.bad_models_hungry_net.json").read_text())
    good = json.loads((tmp_path / "tests.runtimes.bad_models_good_net.json").read_text())
    assert hungry["environment"]["profile_options"]["memory_limit"] == 2**31
    over, one = hungry["measurements"]
    assert over["status"] == "failed" and over["failure"] == "memory"
    assert over["reason"].startswith("worker used ")
    assert over["reason"].endswith(
        "over the memory limit of 2 GiB (--memory-limit); use a smaller batch or raise the limit"
    )
    assert over["worker_seconds"] < 60 and over["memory_limit_bytes"] == 2**31
    assert over["worker_peak_rss_bytes"] > 2**31
    rows = [one, *good["measurements"]]
    assert [r["status"] for r in rows] == ["ok", "ok", "ok"], [r.get("reason") for r in rows]
    for row in rows:
        assert row["memory_limit_bytes"] == 2**31
        # the parent's peak covers the whole worker life; the worker's own covers the timed run
        assert row["worker_peak_rss_bytes"] >= row["memory"]["peak_rss_bytes"]
    # batch 1's forward holds its 64 MiB scratch on top of the loaded model
    assert one["memory"]["peak_rss_bytes"] - one["memory"]["rss_after_load_bytes"] >= 60 * 2**20


def test_unknown_runtime(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "profile", "mnist-mlp", "--runtime", "tensorrtx")
    assert code == 2 and "unknown runtime 'tensorrtx'" in err and len(err.strip().splitlines()) == 1


def test_missing_runtime_package_names_the_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = runtimes.RuntimeInfo("tflite", "x:y", (("no_such_package_zz",),), "tflite", "test")
    monkeypatch.setitem(runtimes.RUNTIMES, "tflite", fake)
    code, _, err = run(capsys, "profile", "mnist-mlp", "--runtime", "tflite")
    assert code == 2 and "zooprof[tflite]" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["--batch", "0"],
        ["--batch", "x"],
        ["--target-ci", "200%"],
        ["--memory-limit", "12Q"],
        ["--memory-limit", "8"],
        ["--memory-limit", "10M"],
        ["--memory-limit", "0%"],
    ],
)
def test_bad_options(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _, err = run(capsys, "profile", "mnist-mlp", *args)
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_profile_writes_result(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    code, out, _ = run(
        capsys,
        "profile",
        "mnist-mlp",
        "--batch",
        "1,4",
        "--max-time",
        "0.5",
        "--threads",
        "1",
        "--per-layer",
        "-o",
        str(path),
    )
    assert code == 0
    d = json.loads(path.read_text())
    assert d["totals"]["params"] == 13002
    ms = d["measurements"]
    assert [m["batch"] for m in ms] == [1, 4]
    for m in ms:
        lat = m["timing"]["latency_ms"]
        assert lat["min"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"]
        assert m["throughput_per_s"] == pytest.approx(m["batch"] * 1000 / lat["median"], rel=1e-3)
        assert m["achieved_gflops"] == pytest.approx(2 * 12960 * m["batch"] / (lat["median"] / 1000) / 1e9, rel=1e-3)
        assert m["memory"]["peak_rss_bytes"] >= m["memory"]["rss_before_load_bytes"] > 0
        assert m["session"]["threads"] == 1
        names = {layer["name"] for layer in m["per_layer"]["layers"]}
        assert {"1", "3", "5"} <= names  # the IR's layer names: the Linear layers
    assert "Median ms" in out


@pytest.mark.slow
def test_onnxruntime_and_tflite_routes(tmp_path: Path) -> None:
    """mnist-mlp converts torch -> ONNX; mobilenet_v2 reaches TFLite through its Keras twin."""
    pytest.importorskip("onnxruntime")
    import zooprof

    r = zooprof.profile("mnist-mlp", runtime="onnxruntime", max_time=0.5, per_layer=True)
    m = r.measurements[0]
    assert m["status"] == "ok", m.get("reason")
    assert m["session"]["conversion"]["route"] == "torch -> onnx"
    assert "CPUExecutionProvider" in m["session"]["providers"]
    assert m["per_layer"]["layers"] and m["per_layer"]["pass_seconds"] > 0
    pytest.importorskip("ai_edge_litert")
    pytest.importorskip("tensorflow")
    r = zooprof.profile("mobilenet_v2", runtime="tflite", max_time=0.5)
    m = r.measurements[0]
    assert m["status"] == "ok", m.get("reason")
    assert m["session"]["conversion"]["source"] == "keras:MobileNetV2"
    assert m["session"]["conversion"]["route"] == "keras twin -> tflite"
    assert m["session"]["input_shapes"] == [[1, 224, 224, 3]]


@pytest.mark.slow
def test_keras_models_reach_tflite() -> None:
    """A keras: builder (tm-image-v2, the Teachable Machine architecture) and a Teachable Machine
    keras_model.h5 convert to TFLite. The converted file computes what the Keras model does
    (58,134,008 MACs). Converted from the real .h5, it has the parameters of Teachable Machine's
    own float TFLite export: 538,508 Keras parameters minus the BatchNorm folded into the
    convolutions = 517,388. (With random weights the folded biases are all zero and the
    converter stores identical buffers once, so a builder's file holds fewer distinct ones.)"""
    pytest.importorskip("ai_edge_litert")
    pytest.importorskip("tensorflow")
    import zooprof
    from tests.conftest import SHARED
    from zooprof.measure.static import inspect

    r = zooprof.profile("tm-image-v2", runtime="tflite", batch="1,2", max_time=0.5)
    assert [m["status"] for m in r.measurements] == ["ok", "ok"], [m.get("reason") for m in r.measurements]
    conversion = r.measurements[0]["session"]["conversion"]
    assert conversion["route"] == "keras -> tflite" and "random weights" in conversion["note"]
    assert r.measurements[1]["session"]["input_shapes"] == [[2, 224, 224, 3]]
    assert inspect(conversion["path"], use_cache=False).totals["macs"] == 58_134_008
    h5 = SHARED / "fixtures" / "teachable-machine" / "keras-2class" / "keras_model.h5"
    if not h5.exists():
        pytest.skip("needs ../shared/fixtures")
    m = zooprof.profile(str(h5), runtime="tflite", max_time=0.5).measurements[0]
    assert m["status"] == "ok", m.get("reason")
    assert "the file's weights" in m["session"]["conversion"]["note"]
    converted = inspect(m["session"]["conversion"]["path"], use_cache=False).totals
    assert converted["params"] == 517_388 and converted["macs"] == 58_134_008


def test_runtime_that_cannot_run_the_model_is_a_failed_row(tmp_path: Path) -> None:
    pytest.importorskip("ai_edge_litert")
    import zooprof

    r = zooprof.profile("mnist-mlp", runtime="tflite", max_time=0.5)
    m = r.measurements[0]
    assert m["status"] == "failed" and m["failure"] == "unsupported" and "Keras twin" in m["reason"]
    assert "Keras models" in m["reason"]


def test_not_onnx_file_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_text("this is not a model")
    code, _, err = run(capsys, "inspect", str(bad))
    assert code == 2 and "not a valid ONNX file" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "profile", str(bad), "--runtime", "onnxruntime")
    assert code == 2 and "not a valid ONNX file" in err


@pytest.mark.slow
def test_tensorflow_runtime() -> None:
    """Keras models run as a compiled tf.function; a PyTorch model without a twin cannot."""
    pytest.importorskip("tensorflow")
    import zooprof

    r = zooprof.profile("keras-mobilenet_v1", runtime="tensorflow", max_time=0.5)
    m = r.measurements[0]
    assert m["status"] == "ok", m.get("reason")
    assert m["session"]["engine"] == "tensorflow (tf.function)"
    assert m["session"]["input_shapes"] == [[1, 224, 224, 3]]
    assert m["achieved_gflops"] == pytest.approx(
        2 * 41_030_272 / (m["timing"]["latency_ms"]["median"] / 1000) / 1e9, rel=1e-3
    )
    r = zooprof.profile("mnist-mlp", runtime="tensorflow", max_time=0.5)
    assert r.measurements[0]["failure"] == "unsupported"


def test_a_model_no_runtime_runs_is_a_failed_row_with_the_reason(tmp_path: Path) -> None:
    """TF.js has no runtime: without --runtime the row says so (one rule: runtimes.default_runtime)."""
    from tests.frontends.keras_fixtures import write_tm_tfjs
    from zooprof import profile

    write_tm_tfjs(tmp_path / "tm", ["a", "b"])
    (row,) = profile(str(tmp_path / "tm" / "model.json"), use_cache=False).measurements
    assert row["status"] == "failed" and row["failure"] == "unsupported" and row["runtime"] == "none"
    assert row["reason"].startswith("no runtime runs tfjs models")

"""--device / --precision / --ort-provider: parsing, the combinations no machine runs (a row's
reason) and what this machine lacks (a one-line error before any work)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from zooprof.errors import UsageError
from zooprof.measure.options import ProfileOptions
from zooprof.runtimes import devices
from zooprof.runtimes.devices import CPU, Device, parse_device, parse_precision, unsupported
from zooprof.runtimes.onnxruntime_rt import providers_for


@pytest.mark.parametrize(
    ("text", "expected"),
    [("cpu", "cpu"), ("cuda", "cuda:0"), ("CUDA:1", "cuda:1"), ("gpu", "cuda:0"), (None, None), ("", None)],
)
def test_parse_device(text: str | None, expected: str | None) -> None:
    device = parse_device(text)
    assert (None if device is None else str(device)) == expected


@pytest.mark.parametrize("text", ["cuda:x", "tpu", "cpu:1", "cuda:-1"])
def test_malformed_device_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_device(text)
    assert f"malformed --device '{text}'" in exc.value.message


def test_parse_precision() -> None:
    assert [parse_precision(p) for p in ("FP16", "half", "bfloat16", "int8", None)] == [
        "fp16",
        "fp16",
        "bf16",
        "int8",
        None,
    ]
    with pytest.raises(UsageError, match="unknown --precision 'fp8'"):
        parse_precision("fp8")


def test_options_record_device_and_precision() -> None:
    o = ProfileOptions.parse(runtime="torch", device="cuda:1", precision="half", cuda_graphs=True)
    assert (o.device, o.precision, o.cuda_graphs) == ("cuda:1", "fp16", True)
    assert o.device_for("torch") == Device("cuda", 1)
    record = o.record()
    assert record["device"] == "cuda:1" and record["precision"] == "fp16" and record["cuda_graphs"] is True


def test_defaults_cpu_except_tensorrt() -> None:
    o = ProfileOptions.parse(runtime="torch,tensorrt")
    assert o.device is None and o.device_for("torch") == CPU and o.device_for("tensorrt") == Device("cuda", 0)


def test_a_gpu_provider_implies_the_gpu() -> None:
    assert ProfileOptions.parse(runtime="onnxruntime", ort_provider="TensorRT").device == "cuda:0"
    with pytest.raises(UsageError, match="unknown --ort-provider 'rocm'"):
        ProfileOptions.parse(ort_provider="rocm")


def test_cuda_graphs_need_the_gpu() -> None:
    with pytest.raises(UsageError, match="--cuda-graphs needs the GPU"):
        ProfileOptions.parse(runtime="torch", cuda_graphs=True)


@pytest.mark.parametrize(
    ("runtime", "device", "precision", "provider", "why"),
    [
        ("tflite", Device("cuda"), None, None, "measures on the CPU only"),
        ("tensorflow", Device("cuda"), None, None, "measures on the CPU only"),
        ("tensorrt", CPU, None, None, "TensorRT runs on NVIDIA GPUs"),
        ("torch", CPU, "int8", None, "no int8 mode"),
        ("torch", CPU, "fp16", None, "fp16 on the CPU is an emulation"),
        ("onnxruntime", CPU, "fp16", None, "at its own precision"),
        ("onnxruntime", Device("cuda"), "fp16", "cuda", "at its own precision"),
        ("onnxruntime", CPU, None, "cuda", "runs on the GPU: use --device cuda"),
        ("onnxruntime", Device("cuda"), None, "cpu", "--ort-provider cpu runs on the CPU"),
        ("tflite", CPU, "fp16", None, "at its own precision"),
    ],
)
def test_combinations_no_machine_runs(
    runtime: str, device: Device, precision: str | None, provider: str | None, why: str
) -> None:
    assert why in (unsupported(runtime, device, precision, provider) or "")


@pytest.mark.parametrize(
    ("runtime", "device", "precision", "provider"),
    [
        ("torch", CPU, None, None),
        ("torch", CPU, "bf16", None),
        ("torch", Device("cuda"), "fp16", None),
        ("torch", Device("cuda", 1), "bf16", None),
        ("onnxruntime", Device("cuda"), "fp16", "tensorrt"),
        ("tensorrt", Device("cuda"), "int8", None),
        ("tflite", CPU, None, None),
    ],
)
def test_combinations_that_run(runtime: str, device: Device, precision: str | None, provider: str | None) -> None:
    assert unsupported(runtime, device, precision, provider) is None


def test_no_cuda_here_is_named() -> None:
    # the hermetic fixture hides every GPU (CUDA_VISIBLE_DEVICES=""), so this holds on a GPU host too
    why = devices.device_missing("torch", Device("cuda"))
    assert why is not None and ("without CUDA" in why or "no CUDA GPU found" in why)
    assert devices.device_missing("torch", CPU) is None


def test_check_device_is_a_usage_error_for_missing_hardware_only() -> None:
    with pytest.raises(UsageError, match=r"^--device cuda:0: "):
        ProfileOptions.parse(runtime="torch", device="cuda").check_available()
    # TFLite on CUDA: no machine runs it, so the row says why (no error here)
    ProfileOptions.parse(runtime="tflite", device="cuda").check_device("tflite")


def test_onnxruntime_without_cuda_provider_is_named() -> None:
    why = devices.device_missing("onnxruntime", Device("cuda"))
    ort = pytest.importorskip("onnxruntime")

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime build has the CUDA provider")
    assert why is not None and "has no CUDAExecutionProvider" in why and "onnxruntime-gpu" in why


def test_onnxruntime_not_installed_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    why = devices.device_missing("onnxruntime", Device("cuda"))
    assert why is not None and why.startswith("onnxruntime is not installed")


def test_trtexec_is_found_where_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = tmp_path / "trtexec"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert devices.find_trtexec(str(exe)) == exe
    assert "trtexec not found at" in (devices.trtexec_missing() or "")  # the fixture's missing path
    monkeypatch.setenv("ZOOPROF_TRTEXEC", str(exe))
    assert devices.find_trtexec() == exe and devices.trtexec_missing() is None
    monkeypatch.delenv("ZOOPROF_TRTEXEC")
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    assert devices.find_trtexec() == exe


def test_trtexec_missing_names_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ZOOPROF_TRTEXEC")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(devices, "TRTEXEC_PLACES", (str(tmp_path / "none"),))
    why = devices.trtexec_missing()
    assert why is not None and "looked on PATH" in why and "--trtexec" in why


def test_ort_providers() -> None:
    assert providers_for("cpu", CPU, None, None) == ["CPUExecutionProvider"]
    assert providers_for("cuda", Device("cuda", 1), None, None) == [
        ("CUDAExecutionProvider", {"device_id": 1}),
        "CPUExecutionProvider",
    ]
    trt = providers_for("tensorrt", Device("cuda"), "fp16", 0)
    assert [p if isinstance(p, str) else p[0] for p in trt] == [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    options = trt[0][1]
    assert options["trt_fp16_enable"] is True and options["trt_dla_enable"] is True and options["trt_dla_core"] == 0
    assert options["trt_engine_cache_enable"] is True
    with pytest.raises(UsageError, match="no bf16 option"):
        providers_for("tensorrt", Device("cuda"), "bf16", None)


def test_cli_device_cuda_without_a_gpu_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.helpers import run

    code, out, err = run(capsys, "profile", "mnist-mlp", "--device", "cuda")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --device cuda:0: ") and "Traceback" not in err
    assert "--device cpu measures on the CPU" in lines[0]


@pytest.mark.slow
def test_cli_tflite_on_cuda_is_that_rows_reason(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """No machine runs LiteRT on CUDA: the row says why (exit 1), nothing is measured on the CPU instead."""
    import json

    from tests.conftest import SHARED
    from tests.helpers import run

    model = SHARED / "fixtures/teachable-machine/tflite-2class/converted_tflite/model_unquant.tflite"
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "profile", str(model), "--device", "cuda", "-o", str(out_json))
    assert code == 1, err
    row = json.loads(out_json.read_text())["measurements"][0]
    assert row["status"] == "failed" and row["failure"] == "unsupported" and row["device"] == "cuda:0"
    assert "measures on the CPU only" in row["reason"] and "timing" not in row

"""Power attribution: energy per inference is the model's only when the sensor covers the device
that ran it (NVML: GPU 0; RAPL: the CPU package; a Jetson rail: the whole module)."""

from __future__ import annotations

import pytest

from zooprof.sensors.coverage import attribute, sensor_covers


@pytest.mark.parametrize(
    ("sensor", "device", "covered"),
    [
        ("nvml", "cuda:0", True),
        ("nvml", "cpu", False),
        ("nvml", "cuda:1", False),
        ("rapl", "cpu", True),
        ("rapl", "cuda:0", False),
        ("jetson-sysfs", "cuda:0", True),
        ("jetson-sysfs", "cpu", True),
        ("tegrastats", "dla:0", True),
        ("replay:tegrastats", "cpu", True),
        ("replay:nvml", "cpu", False),
        ("replay:my-meter", "cpu", None),
    ],
)
def test_sensor_covers(sensor: str, device: str, covered: bool | None) -> None:
    assert sensor_covers(sensor, device)[0] is covered


def ok_record() -> dict:
    return {
        "status": "ok",
        "avg_power_mw": 75_000.0,
        "energy_per_inference_mj": 161.0,
        "energy_per_inference_raw_mj": 170.0,
    }


def test_a_cpu_run_measured_by_a_gpu_sensor_is_na_with_the_reason() -> None:
    rec = attribute(ok_record(), "nvml", "cpu")
    assert rec["status"] == "n/a" and rec["energy_per_inference_mj"] is None
    assert rec["energy_per_inference_raw_mj"] is None and "avg_power_mw" not in rec
    assert rec["sensor_avg_power_mw"] == 75_000.0  # what the sensor read is kept, under another name
    assert "GPU 0's board power" in rec["reason"] and "ran on cpu" in rec["reason"]
    assert rec["covers_device"] is False and rec["device"] == "cpu"


def test_a_gpu_run_measured_by_nvml_keeps_its_energy() -> None:
    rec = attribute(ok_record(), "nvml", "cuda:0")
    assert rec["status"] == "ok" and rec["energy_per_inference_mj"] == 161.0 and rec["covers_device"] is True
    assert "host CPU is not included" in rec["sensor_covers"]


def test_an_unknown_trace_keeps_its_figures_and_says_so() -> None:
    rec = attribute(ok_record(), "replay:bench-meter", "cpu")
    assert rec["status"] == "ok" and rec["covers_device"] is None and "not known" in rec["sensor_covers"]

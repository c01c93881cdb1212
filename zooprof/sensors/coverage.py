"""What a power sensor's total covers, and whether that includes the device a model ran on.

Energy per inference is the model's only when the sensor measures the device that ran it:
- jetson-sysfs, jtop, tegrastats: the module's input rail (VDD_IN, POM_5V_IN) or the sum of its
  rails: the whole module, CPU and integrated GPU (and DLA) alike;
- nvml: the board power of GPU 0 (the GPU only: the host CPU that launches its kernels is not in it);
- rapl: the CPU package (a GPU run's draw is not in it);
- replay:SENSOR: as SENSOR; a trace whose sensor is not one of these: unknown (figures kept, said so).
"""

from __future__ import annotations

JETSON = ("jetson-sysfs", "jtop", "tegrastats")


def sensor_covers(sensor: str, device: str | None) -> tuple[bool | None, str]:
    """(covers the device?, what the sensor's total measures). None: not known (a foreign trace)."""
    base = sensor.removeprefix("replay:")
    device = device or "cpu"
    if base in JETSON:
        return True, "the whole module (CPU, integrated GPU, DLA and memory: the board's input rail)"
    if base == "nvml":
        return device == "cuda:0", "GPU 0's board power (NVML; the host CPU is not included)"
    if base == "rapl":
        return device == "cpu", "the CPU package (RAPL; a GPU's draw is not included)"
    return None, f"not known (a trace recorded by {base})"


def attribute(record: dict, sensor: str, device: str | None, kind: str | None = None) -> dict:
    """Mark a `power` record with the device that ran and what the sensor covers; energy per
    inference becomes n/a (with the reason) when the sensor does not measure that device.
    `kind`: the source that recorded the data (a replayed trace's), when not `sensor` itself."""
    covered, what = sensor_covers(kind or sensor, device)
    record["device"] = device
    record["sensor_covers"] = what
    record["covers_device"] = covered
    if covered is False and record.get("status") == "ok":
        reason = (
            f"the {sensor} sensor measures {what}, and this row ran on {device}: "
            "its energy is not this model's (use a sensor that covers that device)"
        )
        record.update(
            status="n/a",
            reason=reason,
            sensor_avg_power_mw=record.pop("avg_power_mw", None),
            energy_per_inference_mj=None,
            energy_per_inference_raw_mj=None,
            energy_note=f"n/a ({reason})",
        )
    return record

"""Sensors: power, energy, temperature and clocks sampled while a runtime measures.

Sources, best first for power (the first one found is used by `--sensor auto`):
jetson-sysfs (INA3221 rails read directly), jtop (jetson-stats service), tegrastats (its output
parsed), nvml (NVIDIA GPUs), rapl (Intel/AMD energy counters). `host` (thermal zones, CPU
frequency, psutil CPU % and memory) is sampled beside any of them. `replay:FILE` feeds a recorded
trace (tests, demos). Modules are imported only when a sensor is asked for.

`ZOOPROF_SYSFS_ROOT` moves the root that sysfs and /proc paths are read under (tests and the
benchmark use fake trees).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from zooprof.errors import UsageError
from zooprof.sensors.base import Probe, Sensor

POWER_SOURCES: dict[str, str] = {
    "jetson-sysfs": "zooprof.sensors.jetson:JetsonSysfsSensor",
    "jtop": "zooprof.sensors.jetson:JtopSensor",
    "tegrastats": "zooprof.sensors.tegrastats_live:TegrastatsSensor",
    "nvml": "zooprof.sensors.nvml:NvmlSensor",
    "rapl": "zooprof.sensors.rapl:RaplSensor",
}
HOST_SOURCE = ("host", "zooprof.sensors.host:HostSensor")
NAMES = (*POWER_SOURCES, HOST_SOURCE[0], "replay:FILE", "auto")


def sysfs_root() -> Path:
    return Path(os.environ.get("ZOOPROF_SYSFS_ROOT", "/"))


def _load(target: str) -> type[Sensor]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def create(name: str, root: Path | None = None) -> Sensor:
    """A sensor by name (`replay:FILE` included); UsageError for an unknown name."""
    if name.startswith("replay:"):
        from zooprof.sensors.replay import ReplaySensor

        return ReplaySensor.from_file(name.partition(":")[2])
    if name == HOST_SOURCE[0]:
        return _load(HOST_SOURCE[1])(root or sysfs_root())
    if name not in POWER_SOURCES:
        raise UsageError(f"unknown sensor '{name}'", f"choose from: {', '.join(NAMES)}")
    return _load(POWER_SOURCES[name])(root or sysfs_root())


def probe_all(root: Path | None = None) -> list[Probe]:
    """Every known source, found or not, with the reason (for `zooprof sysinfo`)."""
    out = []
    for name in (*POWER_SOURCES, HOST_SOURCE[0]):
        try:
            out.append(create(name, root).probe())
        except Exception as exc:  # a broken source must not hide the others
            out.append(Probe(name, False, f"probe failed: {type(exc).__name__}: {exc}"))
    return out


def choose_power(name: str = "auto", root: Path | None = None) -> tuple[Sensor | None, list[Probe]]:
    """The power sensor to use and every probe made. `auto`: the first source found, best first.
    A named source that is not available gives (None, [its probe])."""
    if name != "auto":
        sensor = create(name, root)
        probe = sensor.probe()
        return (sensor if probe.available else None), [probe]
    probes = []
    for source in POWER_SOURCES:
        try:
            sensor = create(source, root)
            probe = sensor.probe()
        except Exception as exc:
            probe = Probe(source, False, f"probe failed: {type(exc).__name__}: {exc}")
        probes.append(probe)
        if probe.available:
            return sensor, probes
    return None, probes

"""NVIDIA GPUs through NVML (`pynvml`, from the nvidia-ml-py package): device 0.

The total is the driver's energy counter (`nvmlDeviceGetTotalEnergyConsumption`, mJ since the
driver loaded; Volta and newer) when the GPU has one: the driver integrates power itself, so the
energy between two readings is exact whatever our rate. Otherwise the power reading
(`nvmlDeviceGetPowerUsage`, mW; on recent GPUs a 1 s average, so coarse for short windows).
Jetson integrated GPUs report neither (use the jetson sources).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from zooprof.sensors.base import CLOCK, ENERGY, LOAD, MEMORY, POWER, TEMPERATURE, Channel, PollingSensor, Probe

INSTALL = "nvidia-ml-py not installed (pip install zooprof[nvidia])"


def nvml_reason(nvml: Any, exc: Exception) -> str:
    """An NVMLError in words, with what it means here."""
    value = getattr(exc, "value", None)
    if value == getattr(nvml, "NVML_ERROR_LIBRARY_NOT_FOUND", 12):
        return "NVML: libnvidia-ml.so not found (no NVIDIA driver)"
    if value == getattr(nvml, "NVML_ERROR_DRIVER_NOT_LOADED", 9):
        return "NVML: the NVIDIA driver is not loaded"
    if value == getattr(nvml, "NVML_ERROR_NO_PERMISSION", 4):
        return "NVML: no permission to read the GPU"
    return f"NVML: {exc}"


class NvmlSensor(PollingSensor):
    name = "nvml"

    def __init__(self, root: Path = Path("/"), index: int = 0) -> None:
        self.root = Path(root)  # NVML is not read from files; kept for the common constructor
        self.index = index
        self._nvml: Any = None
        self._handle: Any = None
        self._initialised = False
        self._readers: dict[str, Callable[[], float]] = {}
        self._channels: dict[str, Channel] = {}
        self._gpu_name: str | None = None

    def probe(self) -> Probe:
        try:
            import pynvml  # type: ignore[import-untyped]
        except ImportError:
            return Probe(self.name, False, INSTALL)
        self._nvml = pynvml
        try:
            if not self._initialised:
                pynvml.nvmlInit()
                self._initialised = True
            count = pynvml.nvmlDeviceGetCount()
            if count <= self.index:
                self.close()
                return Probe(
                    self.name,
                    False,
                    "NVML: no NVIDIA GPU" if count == 0 else f"NVML: no GPU {self.index} ({count} found)",
                )
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(self.index)
            name = pynvml.nvmlDeviceGetName(self._handle)
            self._gpu_name = name.decode() if isinstance(name, bytes) else str(name)
        except pynvml.NVMLError as exc:
            self.close()
            return Probe(self.name, False, nvml_reason(pynvml, exc))
        self._discover()
        if "gpu_energy" not in self._readers and "gpu_power" not in self._readers:
            self.close()
            return Probe(self.name, False, f"NVML: {self._gpu_name} reports no power or energy (not supported)")
        _, how = self.total()
        return Probe(self.name, True, f"GPU {self.index}: {self._gpu_name}; total from {how}", tuple(self._channels))

    def _discover(self) -> None:
        """Keep the readings this GPU supports (a NotSupported reading is left out, not zeroed)."""
        nv, h = self._nvml, self._handle
        candidates: list[tuple[Channel, Callable[[], float]]] = [
            (Channel("gpu_power", "mW", POWER), lambda: float(nv.nvmlDeviceGetPowerUsage(h))),
            (Channel("gpu_energy", "mJ", ENERGY), lambda: float(nv.nvmlDeviceGetTotalEnergyConsumption(h))),
            (Channel("gpu_memory_used", "MB", MEMORY), lambda: nv.nvmlDeviceGetMemoryInfo(h).used / 2**20),
            (Channel("gpu_load", "%", LOAD), lambda: float(nv.nvmlDeviceGetUtilizationRates(h).gpu)),
            (Channel("gpu_sm_clock", "MHz", CLOCK), lambda: float(nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM))),
            (
                Channel("temp_gpu", "C", TEMPERATURE),
                lambda: float(nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)),
            ),
        ]
        self._readers, self._channels = {}, {}
        for channel, reader in candidates:
            try:
                reader()
            except nv.NVMLError:
                continue
            self._readers[channel.name] = reader
            self._channels[channel.name] = channel

    def channels(self) -> dict[str, Channel]:
        if not self._channels and self._handle is None:
            self.probe()
        return dict(self._channels)

    def total(self) -> tuple[str | None, str | None]:
        if not self._readers and self._handle is None:
            self.probe()
        if "gpu_energy" in self._readers:
            return "gpu_energy", f"NVML energy counter ({self._gpu_name})"
        if "gpu_power" in self._readers:
            return "gpu_power", f"NVML power reading ({self._gpu_name}; averaged by the driver)"
        return None, None

    def read(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        failed = 0
        for name, reader in self._readers.items():
            try:
                out[name] = reader()
            except self._nvml.NVMLError:
                out[name] = None
                failed += 1
        if self._readers and failed == len(self._readers):
            raise OSError("every NVML reading failed")
        return out

    def close(self) -> None:
        if self._initialised and self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except self._nvml.NVMLError:
                pass
            self._initialised = False
            self._handle = None

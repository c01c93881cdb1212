"""The machine a measurement ran on: CPU, cores, governor, memory, OS, Python, versions.

Read from /proc and /sys where present (Linux, Jetson); every field that cannot be read is
None with no guessing. Imports no framework: library versions come from package metadata.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

LIBRARIES = ("torch", "torchvision", "onnx", "onnxruntime", "ai-edge-litert", "tensorflow", "tensorflow-cpu",
             "tf_keras", "keras", "numpy", "jetson-stats")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cpu_model() -> str | None:
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Model"):
            return value.strip()
    return platform.processor() or None


def governors() -> dict[str, int]:
    """Count of CPUs per frequency governor, e.g. {'performance': 8}."""
    out: dict[str, int] = {}
    for p in sorted(Path("/sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor")):
        g = _read(str(p))
        if g:
            out[g] = out.get(g, 0) + 1
    return out


def memory_bytes() -> int | None:
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def library_versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def board() -> dict[str, Any]:
    """Jetson / device-tree identity where present."""
    model = _read("/proc/device-tree/model")
    return {
        "model": model.rstrip("\x00") if model else None,
        "l4t_release": (_read("/etc/nv_tegra_release") or "").splitlines()[0] if _read("/etc/nv_tegra_release") else None,
    }


def environment(command: str | None = None, threads: int | None = None) -> dict[str, Any]:
    from zooprof import __version__

    return {
        "zooprof_version": __version__,
        "python": platform.python_version(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "governors": governors(),
        "memory_bytes": memory_bytes(),
        "board": board(),
        "libraries": library_versions(),
        "threads": threads,
        "command": command or " ".join(["zooprof", *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }

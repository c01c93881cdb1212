"""The machine a measurement ran on: CPU, cores, governor, memory, OS, Python, versions, and the
accelerator (GPUs, driver, CUDA, cuDNN, TensorRT: `measure/accelerator.py`).

Read from /proc and /sys where present (Linux, Jetson); every field that cannot be read is
None with no guessing. Imports no framework: library versions come from package metadata.
"""

from __future__ import annotations

import copy
import functools
import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path("/")
LIBRARIES = (
    "torch",
    "torchvision",
    "onnx",
    "onnxruntime",
    "ai-edge-litert",
    "tensorflow",
    "tensorflow-cpu",
    "tf_keras",
    "keras",
    "numpy",
    "jetson-stats",
)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cpu_model(root: Path = ROOT) -> str | None:
    text = _read(str(root / "proc/cpuinfo")) or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Model"):
            return value.strip()
    return (platform.processor() or None) if root == ROOT else None


def governors(root: Path = ROOT) -> dict[str, int]:
    """Count of CPUs per frequency governor, e.g. {'performance': 8}."""
    out: dict[str, int] = {}
    for p in sorted((root / "sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor")):
        g = _read(str(p))
        if g:
            out[g] = out.get(g, 0) + 1
    return out


def memory_bytes(root: Path = ROOT) -> int | None:
    for line in (_read(str(root / "proc/meminfo")) or "").splitlines():
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


def gpu_name(root: Path = ROOT) -> str:
    """The GPU: NVIDIA driver's name (/proc/driver/nvidia/gpus, the name NVML gives), the Jetson's
    integrated GPU, or why none was found."""
    from zooprof.sensors.jetson_board import integrated_gpu

    names = []
    for info in sorted((root / "proc/driver/nvidia/gpus").glob("*/information")):
        for line in (_read(str(info)) or "").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model":
                names.append(value.strip())
    if len(names) > 1 and len(set(names)) == 1:
        return f"{len(names)} x {names[0]}"
    if names:
        return ", ".join(names)
    return integrated_gpu(root) or "none found (no /proc/driver/nvidia/gpus, no Jetson GPU)"


def board(root: Path = ROOT) -> dict[str, Any]:
    """The board record: Jetson identity and power state (None / "n/a (why)" off a Jetson), GPU, CPU,
    governors, memory. Read under `root` (tests use fake trees). docs/jetson.md explains each field."""
    from zooprof.sensors.jetson_board import jetpack_for, jetson_clocks_state, nvpmodel_mode, parse_l4t

    root = Path(root)
    model = _read(str(root / "proc/device-tree/model"))
    model = model.replace("\x00", "").strip() if model else None
    banner = _read(str(root / "etc/nv_tegra_release"))
    l4t = parse_l4t(banner.splitlines()[0]) if banner else None
    jetson = l4t is not None or bool(model and "jetson" in model.lower())
    return {
        "model": model,
        "jetson": jetson,
        "l4t_release": l4t,
        "jetpack": jetpack_for(l4t),
        "nvpmodel": nvpmodel_mode(root),
        "jetson_clocks": jetson_clocks_state(root),
        "gpu": gpu_name(root),
        "cpu_model": cpu_model(root),
        "cpu_count": (os.cpu_count() if root == ROOT else None),
        "governors": governors(root),
        "memory_bytes": memory_bytes(root),
    }


@functools.cache
def _board_once() -> dict[str, Any]:
    return board()


@functools.cache
def _accelerator_once(root: str) -> dict[str, Any]:
    from zooprof.measure.accelerator import accelerator

    return accelerator(Path(root))


def accelerator_record() -> dict[str, Any]:
    """The accelerator record read under the sysfs root, once per process and root (a copy)."""
    from zooprof.sensors import sysfs_root

    return copy.deepcopy(_accelerator_once(str(sysfs_root())))


def environment(command: str | None = None, threads: int | None = None) -> dict[str, Any]:
    from zooprof.version import __version__

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
        "board": dict(_board_once()),
        "accelerator": accelerator_record(),
        "libraries": library_versions(),
        "threads": threads,
        "command": command or " ".join(["zooprof", *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }

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

from zooprof.sensors.board_record import ROOT, board, cpu_model, governors, gpu_name, memory_bytes

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
__all__ = ["ROOT", "board", "cpu_model", "environment", "governors", "gpu_name", "library_versions", "memory_bytes"]


def library_versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


@functools.cache
def _board_once(root: str) -> dict[str, Any]:
    return board(Path(root))


@functools.cache
def _accelerator_once(root: str) -> dict[str, Any]:
    from zooprof.measure.accelerator import accelerator

    return accelerator(Path(root))


def board_record() -> dict[str, Any]:
    """The board record read under the sysfs root (as the accelerator's and every sensor's: a
    test's fake tree, never the real board's tools), once per process and root (a copy)."""
    from zooprof.sensors import sysfs_root

    return copy.deepcopy(_board_once(str(sysfs_root())))


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
        "board": board_record(),
        "accelerator": accelerator_record(),
        "libraries": library_versions(),
        "threads": threads,
        "command": command or " ".join(["zooprof", *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }

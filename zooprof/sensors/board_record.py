"""The board record: Jetson identity and power state, GPU, CPU, governors, memory, read under a root.

One implementation for `zooprof sysinfo`, every result's environment and the board agent
(zooprof.remote): standard library only, Python 3.6 compatible (see zooprof.remote.BOARD_MODULES).
Every field that cannot be read is None or "n/a (why)", never a guess. docs/jetson.md explains
each field.
"""

import os
import platform
from pathlib import Path
from typing import Any, Dict, Optional

from zooprof.sensors.jetson_board import (
    integrated_gpu,
    jetpack_for,
    jetson_clocks_state,
    nvpmodel_mode,
    parse_l4t,
)

ROOT = Path("/")


def read_text(path: Path) -> Optional[str]:
    try:
        return Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def cpu_model(root: Path = ROOT) -> Optional[str]:
    text = read_text(Path(root) / "proc/cpuinfo") or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Model"):
            return value.strip()
    return (platform.processor() or None) if Path(root) == ROOT else None


def governors(root: Path = ROOT) -> Dict[str, int]:
    """Count of CPUs per frequency governor, e.g. {'performance': 8}."""
    out = {}  # type: Dict[str, int]
    for p in sorted((Path(root) / "sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor")):
        g = read_text(p)
        if g:
            out[g] = out.get(g, 0) + 1
    return out


def memory_bytes(root: Path = ROOT) -> Optional[int]:
    for line in (read_text(Path(root) / "proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def gpu_name(root: Path = ROOT) -> str:
    """The GPU: NVIDIA driver's name (/proc/driver/nvidia/gpus, the name NVML gives), the Jetson's
    integrated GPU, or why none was found."""
    names = []
    for info in sorted((Path(root) / "proc/driver/nvidia/gpus").glob("*/information")):
        for line in (read_text(info) or "").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model":
                names.append(value.strip())
    if len(names) > 1 and len(set(names)) == 1:
        return f"{len(names)} x {names[0]}"
    if names:
        return ", ".join(names)
    return integrated_gpu(Path(root)) or "none found (no /proc/driver/nvidia/gpus, no Jetson GPU)"


def board(root: Path = ROOT) -> Dict[str, Any]:
    """The board record (`environment.board`, `zooprof sysinfo`, the agent's `board`)."""
    root = Path(root)
    model = read_text(root / "proc/device-tree/model")
    model = model.replace("\x00", "").strip() if model else None
    banner = read_text(root / "etc/nv_tegra_release")
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

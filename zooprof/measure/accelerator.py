"""The accelerator a measurement ran on: NVIDIA GPUs through NVML, the CUDA toolkit, cuDNN, TensorRT,
trtexec, and a Jetson's GPU clock (devfreq).

Every field that cannot be read is None, and each part says why it is missing ("reason"); nothing
is guessed. Files are read under a root (`zooprof.sensors.sysfs_root()`; tests use fake trees).
Standard library only, plus `pynvml` (nvidia-ml-py) when installed: no framework is imported, and
versions of pip-installed libraries come from package metadata without importing them.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

#: folders searched for the cuDNN and TensorRT headers (under the root), in this order
INCLUDE_DIRS = ("usr/include", "usr/include/*-linux-gnu", "usr/local/cuda/include", "usr/local/tensorrt/include")
CUDA_HOME = "usr/local/cuda"
CUDNN_DISTRIBUTIONS = ("nvidia-cudnn-cu13", "nvidia-cudnn-cu12", "nvidia-cudnn-cu11")
TENSORRT_DISTRIBUTIONS = ("tensorrt", "tensorrt-cu13", "tensorrt-cu12", "tensorrt-cu11", "tensorrt_libs")

_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(\w+)", re.MULTILINE)


def _call(nv: Any, function: str, *args: Any) -> Any:
    """One NVML reading, or None when this GPU, driver or pynvml does not have it (NotSupported,
    NoPermission, FunctionNotFound, or a pynvml too old to name the function)."""
    fn = getattr(nv, function, None)
    if fn is None:
        return None
    try:
        return fn(*args)
    except nv.NVMLError:
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def cuda_version_text(value: int | None) -> str | None:
    """NVML's and cuda.h's integer CUDA version -> 'major.minor': 12080 -> '12.8'."""
    if value is None or value <= 0:
        return None
    return f"{value // 1000}.{value % 1000 // 10}"


def _watts(milliwatts: Any) -> float | None:
    return None if milliwatts is None else milliwatts / 1000.0


GPU_FIELDS = (
    "name",
    "compute_capability",
    "memory_total_bytes",
    "sm_clock_mhz",
    "sm_clock_max_mhz",
    "memory_clock_mhz",
    "memory_clock_max_mhz",
    "power_limit_w",
    "power_limit_default_w",
)


def _gpu(nv: Any, index: int) -> dict[str, Any]:
    from zooprof.sensors.nvml import nvml_reason

    try:
        handle = nv.nvmlDeviceGetHandleByIndex(index)
    except nv.NVMLError as exc:  # this GPU only (lost, no permission): the others are still read
        return {"index": index, **dict.fromkeys(GPU_FIELDS), "reason": nvml_reason(nv, exc)}
    capability = _call(nv, "nvmlDeviceGetCudaComputeCapability", handle)
    memory = _call(nv, "nvmlDeviceGetMemoryInfo", handle)
    sm, mem = getattr(nv, "NVML_CLOCK_SM", 1), getattr(nv, "NVML_CLOCK_MEM", 2)
    return {
        "index": index,
        "name": _text(_call(nv, "nvmlDeviceGetName", handle)),
        "compute_capability": f"{capability[0]}.{capability[1]}" if capability else None,
        "memory_total_bytes": getattr(memory, "total", None),
        "sm_clock_mhz": _call(nv, "nvmlDeviceGetClockInfo", handle, sm),
        "sm_clock_max_mhz": _call(nv, "nvmlDeviceGetMaxClockInfo", handle, sm),
        "memory_clock_mhz": _call(nv, "nvmlDeviceGetClockInfo", handle, mem),
        "memory_clock_max_mhz": _call(nv, "nvmlDeviceGetMaxClockInfo", handle, mem),
        "power_limit_w": _watts(_call(nv, "nvmlDeviceGetEnforcedPowerLimit", handle)),
        "power_limit_default_w": _watts(_call(nv, "nvmlDeviceGetPowerManagementDefaultLimit", handle)),
        "reason": None,
    }


def nvidia_gpus() -> dict[str, Any]:
    """Every NVIDIA GPU NVML sees, with the driver and the CUDA version it supports; `gpus_reason` says
    why there are none (nvidia-ml-py missing, no driver, no GPU)."""
    from zooprof.sensors.nvml import INSTALL, nvml_reason

    out: dict[str, Any] = {"driver_version": None, "cuda_driver_version": None, "gpus": [], "gpus_reason": None}
    try:
        import pynvml  # type: ignore[import-untyped]
    except ImportError:
        out["gpus_reason"] = INSTALL
        return out
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        out["gpus_reason"] = nvml_reason(pynvml, exc)
        return out
    try:
        out["driver_version"] = _text(_call(pynvml, "nvmlSystemGetDriverVersion"))
        cuda = _call(pynvml, "nvmlSystemGetCudaDriverVersion_v2")
        if cuda is None:
            cuda = _call(pynvml, "nvmlSystemGetCudaDriverVersion")
        out["cuda_driver_version"] = cuda_version_text(cuda)
        count = pynvml.nvmlDeviceGetCount()
        out["gpus"] = [_gpu(pynvml, i) for i in range(count)]
        if count == 0:
            out["gpus_reason"] = "NVML: no NVIDIA GPU"
    except pynvml.NVMLError as exc:  # the count failed: no GPU list to trust
        out["gpus"], out["gpus_reason"] = [], nvml_reason(pynvml, exc)
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except (OSError, UnicodeError):
        return None


def _shown(root: Path, path: Path) -> str:
    """A path under the root as the machine names it: '/usr/include/cudnn_version.h'."""
    try:
        return "/" + path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def include_dirs(root: Path) -> list[Path]:
    out: list[Path] = []
    for pattern in INCLUDE_DIRS:
        out += sorted(p for p in root.glob(pattern) if p.is_dir()) if "*" in pattern else [root / pattern]
    return out


def header_defines(text: str) -> dict[str, str]:
    """`#define NAME VALUE` lines of a header, one level of aliases resolved: TensorRT 10.10+ writes
    `#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE` after `#define TRT_MAJOR_ENTERPRISE 10`."""
    raw = dict(_DEFINE.findall(text))
    return {name: raw.get(value, value) for name, value in raw.items()}


def _version_from(defines: dict[str, str], names: tuple[str, str, str]) -> str | None:
    parts = [defines.get(n) for n in names]
    if not all(p is not None and p.isdigit() for p in parts):
        return None
    return ".".join(str(int(p)) for p in parts if p is not None)


def _found(version: str, source: str) -> dict[str, Any]:
    return {"version": version, "source": source, "reason": None}


def _missing(reason: str) -> dict[str, Any]:
    return {"version": None, "source": None, "reason": reason}


def distribution_version(name: str) -> str | None:
    """The installed pip distribution's version (metadata only: the package is not imported)."""
    try:
        return importlib.metadata.version(name)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def _from_headers(root: Path, files: tuple[str, ...], names: tuple[str, str, str]) -> dict[str, Any] | None:
    for folder in include_dirs(root):
        for pattern in files:
            for header in sorted(folder.glob(pattern)):
                version = _version_from(header_defines(_read(header) or ""), names)
                if version:
                    return _found(version, _shown(root, header))
    return None


def _from_distributions(names: tuple[str, ...]) -> dict[str, Any] | None:
    for name in names:
        version = distribution_version(name)
        if version:
            return _found(version, f"pip distribution {name}")
    return None


def _searched(root: Path, what: str) -> str:
    folders = ", ".join(_shown(root, root / p) for p in INCLUDE_DIRS)
    return f"no {what} in {folders}"


def cuda_toolkit(root: Path) -> dict[str, Any]:
    """The CUDA toolkit in /usr/local/cuda: version.json (CUDA 11.1+), version.txt (older, and
    JetPack 4), else cuda.h's CUDA_VERSION (major.minor only)."""
    home = root / CUDA_HOME
    text = _read(home / "version.json")
    if text is not None:
        try:
            version = json.loads(text)["cuda"]["version"]
            return _found(str(version), _shown(root, home / "version.json"))
        except (ValueError, KeyError, TypeError):
            pass
    m = re.search(r"CUDA Version\s+([\d.]+)", _read(home / "version.txt") or "")
    if m:
        return _found(m.group(1), _shown(root, home / "version.txt"))
    number = header_defines(_read(home / "include/cuda.h") or "").get("CUDA_VERSION", "")
    version = cuda_version_text(int(number)) if number.isdigit() else None
    if version:
        return _found(version, _shown(root, home / "include/cuda.h"))
    where = _shown(root, home)
    if not home.exists():
        return _missing(f"no {where}: CUDA toolkit not installed")
    return _missing(f"no version.json, version.txt or include/cuda.h version in {where}")


def cudnn(root: Path) -> dict[str, Any]:
    """cuDNN: its version header (cudnn_version.h since cuDNN 8, cudnn.h before), else the pip wheel."""
    names = ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL")
    found = _from_headers(root, ("cudnn_version.h", "cudnn_version_v*.h", "cudnn.h"), names)
    found = found or _from_distributions(CUDNN_DISTRIBUTIONS)
    return found or _missing(_searched(root, "cudnn_version.h") + "; no nvidia-cudnn-cu* pip distribution")


def tensorrt(root: Path) -> dict[str, Any]:
    """TensorRT: NvInferVersion.h (numeric, or TRT_*_ENTERPRISE aliases), else the pip wheel."""
    names = ("NV_TENSORRT_MAJOR", "NV_TENSORRT_MINOR", "NV_TENSORRT_PATCH")
    found = _from_headers(root, ("NvInferVersion.h",), names) or _from_distributions(TENSORRT_DISTRIBUTIONS)
    return found or _missing(_searched(root, "NvInferVersion.h") + "; no tensorrt pip distribution")


def trtexec(root: Path) -> dict[str, Any]:
    """Where trtexec is: the one `zooprof profile --runtime tensorrt` would run (runtimes.devices)."""
    from zooprof.runtimes.devices import find_trtexec, trtexec_missing

    found = find_trtexec(root=root)
    if found is not None:
        return {"path": _shown(root, found), "reason": None}
    return {"path": None, "reason": trtexec_missing(root=root)}


def _mhz(node: Path, name: str) -> float | None:
    try:
        return round(int((node / name).read_text().strip()) / 1e6, 1)
    except (OSError, ValueError):
        return None


def jetson_gpu(root: Path) -> dict[str, Any]:
    """A Jetson GPU's devfreq node: current, minimum and maximum clock (MHz) and governor.
    Nodes: 17000000.ga10b (Orin), 17000000.gv11b (Xavier), 57000000.gpu (Nano, TX1)."""
    from zooprof.sensors.jetson_board import GPU_DEVFREQ

    folder = root / "sys/class/devfreq"
    for node in sorted(folder.glob("*")):
        if GPU_DEVFREQ.search(node.name):
            governor = _read(node / "governor")
            return {
                "node": node.name,
                "cur_mhz": _mhz(node, "cur_freq"),
                "min_mhz": _mhz(node, "min_freq"),
                "max_mhz": _mhz(node, "max_freq"),
                "governor": governor.strip() if governor else None,
                "reason": None,
            }
    return {
        "node": None,
        "cur_mhz": None,
        "min_mhz": None,
        "max_mhz": None,
        "governor": None,
        "reason": f"no GPU node in {_shown(root, folder)}: not a Jetson",
    }


def accelerator(root: Path) -> dict[str, Any]:
    """The accelerator record (for `zooprof sysinfo` and every result's environment)."""
    root = Path(root)
    return {
        **nvidia_gpus(),
        "cuda_toolkit": cuda_toolkit(root),
        "cudnn": cudnn(root),
        "tensorrt": tensorrt(root),
        "trtexec": trtexec(root),
        "jetson_gpu": jetson_gpu(root),
    }

"""Where a model runs and at what precision: `--device cpu|cuda[:N]`, `--precision fp32|fp16|bf16|int8`.

Two kinds of "no":
- the hardware or its software is missing here (`--device cuda` on a machine without a CUDA
  GPU, `--runtime tensorrt` without trtexec): `device_missing` says what, and the command stops
  before any work with a one-line UsageError (exit 2);
- the runtime cannot do what was asked on any machine (TFLite on CUDA, int8 in eager PyTorch):
  `unsupported` says why, and that row fails with the reason while the other rows are measured.

Nothing here imports a framework at module level; `device_missing` imports torch or onnxruntime
only when CUDA was asked of that runtime.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from zooprof.errors import UsageError

PRECISIONS = ("fp32", "fp16", "bf16", "int8")
ORT_PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}
#: where JetPack and the TensorRT tarballs put trtexec when it is not on PATH
TRTEXEC_PLACES = ("/usr/src/tensorrt/bin/trtexec", "/usr/local/tensorrt/bin/trtexec")


@dataclass(frozen=True)
class Device:
    kind: str  # "cpu" | "cuda"
    index: int = 0

    def __str__(self) -> str:
        return "cpu" if self.kind == "cpu" else f"cuda:{self.index}"


CPU = Device("cpu")


def parse_device(text: str | None) -> Device | None:
    """'cpu', 'cuda', 'cuda:1', 'gpu' -> Device; None stays None (the runtime's own default)."""
    if text is None or not str(text).strip():
        return None
    s = str(text).strip().lower()
    m = re.fullmatch(r"(cpu|cuda|gpu)(?::(\d+))?", s)
    if not m or (m.group(1) == "cpu" and m.group(2)):
        raise UsageError(f"malformed --device '{text}'", "give cpu, cuda or cuda:N (N: the GPU's index)")
    if m.group(1) == "cpu":
        return CPU
    return Device("cuda", int(m.group(2) or 0))


def parse_precision(text: str | None) -> str | None:
    """'fp16', 'FP16', 'half' -> 'fp16'; None: the model's own precision."""
    if text is None or not str(text).strip():
        return None
    s = {"float32": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16"}.get(
        str(text).strip().lower(), str(text).strip().lower()
    )
    if s not in PRECISIONS:
        raise UsageError(f"unknown --precision '{text}'", f"choose from: {', '.join(PRECISIONS)}")
    return s


def default_device(runtime: str) -> Device:
    """TensorRT runs on the GPU; every other runtime on the CPU unless told."""
    return Device("cuda") if runtime == "tensorrt" else CPU


def ort_provider(device: Device, provider: str | None) -> str:
    """The ONNX Runtime execution provider short name for a device: cpu, cuda or tensorrt."""
    if provider:
        return provider
    return "cpu" if device.kind == "cpu" else "cuda"


def unsupported(runtime: str, device: Device, precision: str | None, provider: str | None = None) -> str | None:
    """Why `runtime` cannot run on `device` at `precision` on any machine, or None."""
    gpu_routes = "use --runtime torch, onnxruntime or tensorrt for the GPU"
    if runtime in ("tflite", "tensorflow") and device.kind != "cpu":
        return f"the {runtime} runtime measures on the CPU only; {gpu_routes}"
    if runtime == "tensorrt" and device.kind != "cuda":
        return "TensorRT runs on NVIDIA GPUs (and Jetson DLA cores): use --device cuda"
    if runtime == "onnxruntime":
        name = ort_provider(device, provider)
        if name != "cpu" and device.kind == "cpu":
            return f"--ort-provider {name} runs on the GPU: use --device cuda"
        if name == "cpu" and device.kind == "cuda":
            return "--ort-provider cpu runs on the CPU: use --device cpu, or --ort-provider cuda|tensorrt"
        if precision not in (None, "fp32") and name != "tensorrt":
            return (
                f"ONNX Runtime's {name} provider runs the file at its own precision: convert the model to "
                f"{precision} first, or use --ort-provider tensorrt (which builds {precision} engines)"
            )
    if runtime in ("tflite", "tensorflow") and precision not in (None, "fp32"):
        return (
            f"the {runtime} runtime runs the model at its own precision: give a {precision}-quantised .tflite instead"
        )
    if runtime == "torch" and precision == "int8":
        return (
            "eager PyTorch has no int8 mode for a float model: profile a quantised model "
            "(e.g. torchvision:quantized_mobilenet_v2), or use --runtime tensorrt --precision int8"
        )
    if runtime == "torch" and precision == "fp16" and device.kind == "cpu":
        return (
            "fp16 on the CPU is an emulation in eager PyTorch (not what a deployment runs): use bf16, or --device cuda"
        )
    return None


def find_trtexec(explicit: str | None = None, root: Path | None = None) -> Path | None:
    """trtexec: --trtexec, $ZOOPROF_TRTEXEC, PATH, then where JetPack and the tarballs install it
    (under `root`, the machine's file system: sysinfo's fake roots in tests). The one lookup that
    `zooprof profile` and `zooprof sysinfo` share; the board agent keeps its own (Python 3.6, stdlib)."""
    for candidate in (explicit, os.environ.get("ZOOPROF_TRTEXEC")):
        if candidate:
            return Path(candidate) if Path(candidate).is_file() else None
    found = shutil.which("trtexec")
    if found:
        return Path(found)
    base = root or Path("/")
    return next((base / p[1:] for p in TRTEXEC_PLACES if (base / p[1:]).is_file()), None)


def trtexec_missing(explicit: str | None = None, root: Path | None = None) -> str | None:
    if find_trtexec(explicit, root) is not None:
        return None
    given = explicit or os.environ.get("ZOOPROF_TRTEXEC")
    if given:
        return f"trtexec not found at {given}"
    return (
        "trtexec not found (looked on PATH and in " + ", ".join(TRTEXEC_PLACES) + "); it ships with JetPack and "
        "TensorRT: give its path with --trtexec"
    )


def device_missing(runtime: str, device: Device, provider: str | None = None, trtexec: str | None = None) -> str | None:
    """What this machine lacks for `runtime` on `device`, or None. Only asks a framework when a
    GPU was asked of it (importing torch to answer `--device cpu` would be waste)."""
    if runtime == "tensorrt":
        return trtexec_missing(trtexec)
    if device.kind != "cuda":
        return None
    if runtime == "torch":
        return _torch_cuda_missing(device)
    if runtime == "onnxruntime":
        try:
            import onnxruntime as ort
        except ImportError:
            return "onnxruntime is not installed: pip install onnxruntime-gpu (or zooprof[onnx] for the CPU)"
        wanted = ORT_PROVIDERS[ort_provider(device, provider)]
        available = ort.get_available_providers()
        if wanted not in available:
            return (
                f"onnxruntime {ort.__version__} has no {wanted} (it has {', '.join(available)}): "
                "install onnxruntime-gpu on a machine with an NVIDIA GPU"
            )
    return None


def _torch_cuda_missing(device: Device) -> str | None:
    from zooprof.frontends.compat import block_triton_after_tensorflow

    block_triton_after_tensorflow()
    import torch

    if torch.version.cuda is None:
        return f"no CUDA: torch {torch.__version__} is built without CUDA (install a CUDA build of torch)"
    if not torch.cuda.is_available():
        hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
        why = f"CUDA_VISIBLE_DEVICES={hidden!r} hides every GPU" if hidden is not None and not hidden.strip() else ""
        return f"no CUDA GPU found by torch {torch.__version__} (CUDA {torch.version.cuda}){': ' + why if why else ''}"
    count = torch.cuda.device_count()
    if device.index >= count:
        return f"no GPU {device.index}: torch sees {count} CUDA device(s) (cuda:0 to cuda:{count - 1})"
    return None

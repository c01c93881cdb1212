"""Runtimes: run a real model on one engine. Listed here by name, loaded lazily.

Each runtime module provides `prepare(spec) -> Session` (called inside the worker process)
and the registry below says which Python packages it needs and which extra installs them,
so `zooprof profile --runtime x` can fail fast, before any worker starts.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from zooprof.errors import MissingDependencyError, UsageError
from zooprof.reference.resolve import ModelRef


@dataclass(frozen=True)
class RuntimeInfo:
    name: str
    target: str  # "module:function" returning a Session
    packages: tuple[tuple[str, ...], ...]  # each inner tuple: alternatives, one must be importable
    extra: str
    description: str


RUNTIMES: dict[str, RuntimeInfo] = {
    r.name: r
    for r in [
        RuntimeInfo(
            "torch", "zooprof.runtimes.torch_rt:prepare", (("torch",),), "torch", "PyTorch eager, inference mode"
        ),
        RuntimeInfo(
            "onnxruntime",
            "zooprof.runtimes.onnxruntime_rt:prepare",
            (("onnxruntime",),),
            "onnx",
            "ONNX Runtime (--ort-provider cpu, cuda or tensorrt)",
        ),
        RuntimeInfo(
            "tensorrt",
            "zooprof.runtimes.tensorrt_rt:prepare",
            (),
            "onnx",
            "TensorRT through trtexec (engine build, then trtexec's own timing)",
        ),
        RuntimeInfo(
            "tflite",
            "zooprof.runtimes.litert_rt:prepare",
            (("ai_edge_litert", "tflite_runtime", "tensorflow"),),
            "tflite",
            "LiteRT / TFLite interpreter",
        ),
        RuntimeInfo(
            "tensorflow",
            "zooprof.runtimes.tf_rt:prepare",
            (("tensorflow",),),
            "tf",
            "TensorFlow/Keras, compiled tf.function",
        ),
    ]
}
ALIASES = {
    "pytorch": "torch",
    "ort": "onnxruntime",
    "onnx": "onnxruntime",
    "litert": "tflite",
    "tf": "tensorflow",
    "keras": "tensorflow",
    "trt": "tensorrt",
    "trtexec": "tensorrt",
}


def parse_runtimes(text: str) -> list[str]:
    names = []
    for raw in text.split(","):
        name = ALIASES.get(raw.strip().lower(), raw.strip().lower())
        if not name:
            continue
        if name not in RUNTIMES:
            raise UsageError(f"unknown runtime '{raw.strip()}'", f"choose from: {', '.join(RUNTIMES)}")
        if name not in names:
            names.append(name)
    if not names:
        raise UsageError("no runtime given", f"e.g. --runtime {','.join(RUNTIMES)}")
    return names


def check_available(name: str) -> None:
    """Fail before any work if the runtime's package is missing, naming the extra to install."""
    info = RUNTIMES[name]
    for alternatives in info.packages:
        if not any(importlib.util.find_spec(p) is not None for p in alternatives):
            raise MissingDependencyError(
                f"runtime '{name}' needs {' or '.join(alternatives)}, which is not installed",
                f"pip install 'zooprof[{info.extra}]'",
            )


#: the runtime a model is measured on when none is asked for, by the framework it was read from
DEFAULT_RUNTIME = {
    "torch": "torch",
    "onnx": "onnxruntime",
    "tflite": "tflite",
    "keras": "tensorflow",
    "trt": "tensorrt",
    "trtexec": "tensorrt",
}


def default_runtime(framework: str) -> str | None:
    """The one rule for the runtime of a model when none is given: its own framework's engine.
    None when no runtime runs models of `framework` as read (TF.js, a Teachable Machine folder)."""
    return DEFAULT_RUNTIME.get("torch" if framework == "pytorch" else framework)


def incompatible(name: str, ref: ModelRef) -> str | None:
    """Why `name` cannot run the referenced model, or None if it can (possibly after a conversion)."""
    if name == "torch" and ref.framework != "torch":
        return f"the torch runtime runs PyTorch models; this is an {ref.framework} model"
    if name == "tflite" and ref.framework != "tflite":
        if ref.kind == "teachable":
            return "no route to TFLite from a Teachable Machine export folder: give its .tflite or keras_model.h5"
        if ref.kind == "keras-file" and Path(ref.source).is_dir():
            return "no route to TFLite from a SavedModel folder yet: convert it with TFLiteConverter.from_saved_model"
        if ref.framework != "keras" and not (ref.entry and ref.entry.twins.get("keras")):
            return (
                "no route to TFLite: zooprof converts Keras models and zoo entries with a Keras twin "
                "(e.g. mobilenet_v2); or give a .tflite file"
            )
    if name in ("onnxruntime", "tensorrt") and ref.framework not in ("onnx", "torch"):
        return f"no route from {ref.framework} to ONNX yet (give an .onnx file)"
    if name == "tensorflow" and ref.framework != "keras" and not (ref.entry and ref.entry.twins.get("keras")):
        return "the tensorflow runtime runs Keras models (or zoo entries with a Keras twin)"
    return None


def load(name: str):  # type: ignore[no-untyped-def]
    module, _, attr = RUNTIMES[name].target.partition(":")
    return getattr(importlib.import_module(module), attr)

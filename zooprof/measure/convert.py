"""Explicit format conversions with a cache: PyTorch -> ONNX, Keras (or a Keras twin) -> TFLite.

A converted file is cached under <cache>/convert/ keyed by the model reference, its options,
the input shape, the converter's version and, for files, their contents; the file is
written atomically so a crash never leaves half a model in the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from zooprof.errors import MissingDependencyError, ZooprofError


def _key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def torch_to_onnx(
    build: Callable[[], Any],
    examples: Callable[[], list[Any]],
    cache_parts: dict[str, Any],
    opset: int = 17,
    input_names: list[str] | None = None,
    dynamic_batch: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """Export an nn.Module to ONNX with a dynamic batch axis; `build` runs only on a cache miss.
    `examples` are the model's arguments (a detector's: one list of images, `input_names` one
    per image, no batch axis). A failure names the op that blocked the export.

    Returns (path, info about the route and whether the cache had it)."""
    import torch

    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            "the torch -> ONNX route needs the onnx package", "pip install 'zooprof[onnx]'"
        ) from exc
    from zooprof.result.cache import cache_dir

    parts = {**cache_parts, "torch": torch.__version__, "opset": opset, "route": "torch.onnx.export(dynamo=False)"}
    path = cache_dir() / "convert" / f"{_key(parts)}.onnx"
    info = {
        "route": "torch -> onnx",
        "exporter": "torch.onnx.export (TorchScript-based)",
        "opset": opset,
        "path": str(path),
        "cached": path.exists(),
    }
    if path.exists():
        return path, info
    path.parent.mkdir(parents=True, exist_ok=True)
    model, example = build(), examples()
    names = input_names or [f"input_{i}" if len(example) > 1 else "input" for i in range(len(example))]
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                tuple(example),
                tmp,
                dynamo=False,
                opset_version=opset,
                input_names=names,
                dynamic_axes={n: {0: "batch"} for n in names} if dynamic_batch else None,
                do_constant_folding=True,
            )
        os.replace(tmp, path)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        op = blocking_op(exc)
        raise ZooprofError(
            f"exporting to ONNX failed{f' at op {op}' if op else ''}: {first}",
            "the torch -> ONNX route cannot convert this model; profile it with --runtime torch",
        ) from exc
    return path, info


def blocking_op(exc: BaseException) -> str | None:
    """The operator an export error names ('aten::fft_rfft', 'torchvision::ps_roi_align'), if any."""
    import re

    match = re.search(r"\b((?:aten|prim|torchvision|quantized|onnx)::[A-Za-z0-9_.]+)", str(exc))
    return match.group(1) if match else None


@contextlib.contextmanager
def _quiet_fds() -> Iterator[None]:
    """Silence what TensorFlow's converter prints to stdout/stderr (at the file-descriptor level)."""
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def keras_to_tflite(spec: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    """Convert the Keras model the tensorflow runtime would run (a .keras/.h5 file, a `keras:`
    builder, a Keras zoo entry or a PyTorch zoo entry's Keras twin; builders get random weights)
    with TFLiteConverter.from_keras_model, float32, batch 1 (the interpreter resizes the batch)."""
    try:
        import importlib.metadata

        tf_version = importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        tf_version = None
    if tf_version is None:
        raise MissingDependencyError("the Keras -> TFLite route needs TensorFlow", "pip install 'zooprof[tf]'")
    from zooprof.measure.cache_key import module_file
    from zooprof.reference.resolve import resolve
    from zooprof.result.cache import cache_dir, file_hash

    ref = resolve(spec["model"])
    shapes = [[1, *s[1:]] for s in spec.get("input_shapes") or []] or None
    twin = ref.entry.twins.get("keras") if ref.entry is not None and ref.framework != "keras" else None
    source = twin or ref.source
    parts: dict[str, Any] = {
        "source": source,
        "kwargs": ref.kwargs,
        "input": shapes,
        "tensorflow": tf_version,
        "route": "keras -> TFLiteConverter.from_keras_model",
    }
    if ref.kind == "keras-file":
        parts["file"] = file_hash(ref.source)
    elif source.count(":") >= 2:  # keras:module:callable - the builder's code is part of the model
        origin = module_file(source.split(":", 1)[1])
        parts["file"] = file_hash(origin) if origin else None
    path = cache_dir() / "convert" / f"{_key(parts)}.tflite"
    info = {
        "route": "keras twin -> tflite" if twin else "keras -> tflite",
        "source": source,
        "converter": f"TFLiteConverter.from_keras_model (TF {tf_version})",
        "path": str(path),
        "cached": path.exists(),
        "note": ("the same architecture from Keras, " if twin else "")
        + ("random weights, " if ref.kind != "keras-file" else "the file's weights, ")
        + "float32; BatchNorm folded by the converter",
    }
    if path.exists():
        return path, info
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from zooprof.runtimes.tf_rt import build

    with _quiet_fds():
        model, _ = build({**spec, "input_shapes": shapes})
        import tensorflow as tf

        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tflite.tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path, info

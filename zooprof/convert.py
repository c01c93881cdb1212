"""Explicit format conversions with a cache: PyTorch -> ONNX.

A converted file is cached under <cache>/convert/ keyed by the model reference, its options,
the input shape, the converter's version and, for files, their contents; the file is
written atomically so a crash never leaves half a model in the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zooprof.errors import MissingDependencyError, ZooprofError


def _key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def torch_to_onnx(build: Callable[[], Any], examples: Callable[[], list[Any]], cache_parts: dict[str, Any],
                  opset: int = 17) -> tuple[Path, dict[str, Any]]:
    """Export an nn.Module to ONNX with a dynamic batch axis; `build` runs only on a cache miss.

    Returns (path, info about the route and whether the cache had it)."""
    import torch

    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("the torch -> ONNX route needs the onnx package", "pip install 'zooprof[onnx]'") from exc
    from zooprof.cache import cache_dir

    parts = {**cache_parts, "torch": torch.__version__, "opset": opset, "route": "torch.onnx.export(dynamo=False)"}
    path = cache_dir() / "convert" / f"{_key(parts)}.onnx"
    info = {"route": "torch -> onnx", "exporter": "torch.onnx.export (TorchScript-based)", "opset": opset,
            "path": str(path), "cached": path.exists()}
    if path.exists():
        return path, info
    path.parent.mkdir(parents=True, exist_ok=True)
    model, example = build(), examples()
    names = [f"input_{i}" if len(example) > 1 else "input" for i in range(len(example))]
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, tuple(example), tmp, dynamo=False, opset_version=opset, input_names=names,
                              dynamic_axes={n: {0: "batch"} for n in names}, do_constant_folding=True)
        os.replace(tmp, path)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ZooprofError(f"exporting to ONNX failed: {first}",
                           "the torch -> ONNX route cannot convert this model; profile it with --runtime torch") from exc
    return path, info

"""The key of a static analysis in the cache (`zooprof.result.cache`).

The key covers zooprof's own source files (size and mtime), the framework versions (read from
package metadata, not by importing), the model reference with its options, the input shapes,
and, for files and user modules, a hash of the file's contents.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from zooprof.reference.resolve import ModelRef
from zooprof.result.cache import file_hash, path_hash


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _own_fingerprint() -> str:
    from zooprof.reference.registry import zoo_dir

    root = Path(__file__).resolve().parents[1]  # the zooprof package, not only zooprof/result
    h = hashlib.sha256()
    for p in sorted([*root.rglob("*.py"), *zoo_dir().glob("*.toml")]):
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


def module_file(source: str) -> str | None:
    module = source.split(":")[0]
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec and spec.origin and os.path.isfile(spec.origin) else None


def cache_key(ref: ModelRef, shapes: list[tuple[int, ...]] | None, options: dict[str, Any]) -> str:
    from zooprof.version import __version__

    parts: dict[str, Any] = {
        "zooprof": __version__,
        "code": _own_fingerprint(),
        "kind": ref.kind,
        "source": ref.source,
        "kwargs": ref.kwargs,
        "shapes": [list(s) for s in shapes] if shapes else None,
        "options": options,
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "onnx": _version("onnx"),
        "keras": _version("keras"),
        "tensorflow": _version("tensorflow"),
    }
    if ref.kind.endswith("-file") or ref.kind in ("teachable", "tfjs"):
        source = Path(ref.source)
        # a TF.js model is model.json plus its weight shards: hash the folder
        parts["file"] = path_hash(source.parent if ref.kind == "tfjs" else source)
    elif ref.kind == "callable":
        origin = module_file(ref.source)
        parts["file"] = file_hash(origin) if origin else None
    if ref.entry is not None:
        parts["manifest"] = Path(ref.entry.manifest).read_text() if Path(ref.entry.manifest).exists() else None
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

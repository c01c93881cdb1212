"""Model reference -> what to read it with. One place knows every accepted form.

Accepted forms:
  zoo name               alexnet-2012, vgg16 (see `zooprof list`)
  torchvision:NAME       any torchvision.models builder, random weights
  package.module:attr    a function or nn.Module class returning the model
  keras:APP[?alpha=..]    a keras.applications model, built without weights
  path                   .pt/.pth/.ts (TorchScript), .pt2 (torch.export), pickled module (--trust),
                         .onnx, .tflite, .h5/.keras, a SavedModel folder, a TF.js model.json,
                         a Teachable Machine export (folder or .zip)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.reference.formats import FORMATS
from zooprof.reference.registry import ZooEntry, zoo

Shape = tuple[int, ...]

FORMS = (
    "a zoo name (zooprof list), torchvision:NAME, keras:APP, package.module:callable, "
    "or a model file or folder (.pt, .pt2, .onnx, .tflite, .h5, .keras, model.json, a Teachable Machine export)"
)


@dataclass(frozen=True)
class ModelRef:
    """A resolved model reference."""

    text: str
    kind: str  # zoo | torchvision | callable | keras-app | torch-file | onnx-file | tflite-file | keras-file
    #              | tfjs | teachable
    framework: str
    source: str  # builder reference or file path
    name: str
    input_shapes: list[Shape] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    entry: ZooEntry | None = None


def parse_shape(text: str) -> list[Shape]:
    """'1x3x224x224' -> [(1, 3, 224, 224)]; several inputs separated by commas."""
    shapes = []
    for part in text.split(","):
        part = part.strip().lower().replace("×", "x")
        if not re.fullmatch(r"[1-9]\d*(x[1-9]\d*)*", part):
            raise UsageError(
                f"malformed --input-shape '{text}'",
                "expected positive integers joined by 'x', batch first, e.g. 1x3x224x224 "
                "(several inputs: 1x3x224x224,1x10)",
            )
        shapes.append(tuple(int(d) for d in part.split("x")))
    return shapes


def _parse_query(text: str) -> tuple[str, dict[str, Any]]:
    """'name?alpha=0.35&classes=5' -> ('name', {'alpha': 0.35, 'classes': 5})."""
    base, _, query = text.partition("?")
    kwargs: dict[str, Any] = {}
    for item in filter(None, query.split("&")):
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"malformed option '{item}' in '{text}'", "write NAME?key=value&key=value")
        kwargs[key] = _literal(value)
    return base, kwargs


def _literal(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(value.lower(), value)


def _torchvision_matches(name: str) -> list[str]:
    """Close torchvision model names (only on the error path: importing torchvision takes ~1 s)."""
    import difflib
    import importlib.util

    if importlib.util.find_spec("torchvision") is None:
        return []
    try:
        import torchvision
    except Exception:  # a broken install must not hide the real error
        return []
    return difflib.get_close_matches(name, torchvision.models.list_models(), n=3, cutoff=0.75)


#: Teachable Machine image exports, recognised by their files (REFERENCES.md)
TEACHABLE_MARKERS = (
    ("model.json", "metadata.json"),
    ("keras_model.h5", "labels.txt"),
    ("model_unquant.tflite", "labels.txt"),
    ("model.tflite", "labels.txt"),
    ("model_edgetpu.tflite", "labels.txt"),
)


def _resolve_path(text: str, path: Path, kwargs: dict[str, Any]) -> ModelRef:
    """A file or folder: its kind from the suffix or, for folders and zips, from the files in it."""
    full = str(path.resolve())
    suffix = path.suffix.lower()
    if path.is_file():
        fmt = FORMATS.for_suffix(suffix)
        if fmt is not None:
            return ModelRef(text, f"{fmt.framework}-file", fmt.framework, full, path.stem, None, kwargs)
        if suffix == ".zip":
            return ModelRef(text, "teachable", "teachable", full, path.stem, None, kwargs)
        if path.name.endswith(".json"):
            return ModelRef(text, "tfjs", "tfjs", full, path.parent.name or path.stem, None, kwargs)
    elif path.is_dir():
        names = {p.name for p in path.iterdir()}
        if any(all(m in names for m in marker) for marker in TEACHABLE_MARKERS):
            return ModelRef(text, "teachable", "teachable", full, path.name, None, kwargs)
        if "saved_model.pb" in names:
            return ModelRef(text, "keras-file", "keras", full, path.name, None, kwargs)
        if "model.json" in names:
            return ModelRef(text, "tfjs", "tfjs", str(path.resolve() / "model.json"), path.name, None, kwargs)
        raise UsageError(
            f"no model found in the folder {path}",
            "expected a Teachable Machine export, a TF.js model.json or a SavedModel (saved_model.pb)",
        )
    supported = ", ".join(sorted(FORMATS.suffixes() | {".zip", "model.json"}))
    raise UsageError(f"zooprof cannot read '{path}'", f"supported: {supported}, or a model folder")


def resolve(text: str) -> ModelRef:
    base, kwargs = _parse_query(text)
    registry = zoo()
    if base in registry:
        entry = registry.get(base)
        merged = {**entry.kwargs, **kwargs}
        return ModelRef(text, "zoo", entry.framework, entry.source, entry.name, [entry.input_shape], merged, entry)
    path = Path(base).expanduser()
    if path.exists():
        return _resolve_path(text, path, kwargs)
    if base.startswith("keras:"):
        name = base.split(":", 1)[1]
        return ModelRef(text, "keras-app", "keras", base, name, None, kwargs)
    if base.startswith("torchvision:"):
        name = base.split(":", 1)[1]
        return ModelRef(text, "torchvision", "torch", base, name, None, kwargs)
    if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", base):
        return ModelRef(text, "callable", "torch", base, base.split(":")[1], None, kwargs)
    if any(base.endswith(s) for s in (*FORMATS.suffixes(), ".zip")) or "/" in base:
        raise UsageError(f"no such file: {base}", "check the path")
    close = registry.suggest(base) + [f"torchvision:{n}" for n in _torchvision_matches(base)]
    close.sort(key=lambda c: c != f"torchvision:{base}")  # an exact torchvision name first
    hint = f"did you mean: {', '.join(close)}? " if close else ""
    raise UsageError(f"unknown model '{base}'", f"{hint}give {FORMS}")

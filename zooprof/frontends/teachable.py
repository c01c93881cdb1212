"""Teachable Machine image exports (a folder or the downloaded .zip) -> Graph.

The export is recognised by its files (../shared/REFERENCES.md):

| export | files | read by |
|---|---|---|
| TensorFlow.js | model.json, weights.bin, metadata.json | `zooprof.frontends.tfjs` |
| Keras | keras_model.h5, labels.txt | `zooprof.frontends.keras.read` (no TensorFlow needed) |
| TFLite float | model_unquant.tflite, labels.txt | `zooprof.frontends.tflite.read` |
| TFLite quantised | model.tflite, labels.txt | `zooprof.frontends.tflite.read` |
| Edge TPU | model_edgetpu.tflite, labels.txt | `zooprof.frontends.tflite.read` |

A .zip is extracted into a temporary folder that is removed afterwards. Entries with an
absolute path, a drive letter or a `..` component, and symbolic links, are refused before
anything is written; the archive may hold at most MAX_FILES entries and MAX_BYTES bytes
(counted while writing, not trusted from the headers). Encrypted entries, compression methods
other than stored/deflate, duplicate names and zip bombs are refused from the declared sizes
before anything is expanded (`zooprof.frontends.keras.limits.check_zip`); metadata.json and
labels.txt are read within the JSON size cap. The export may sit in a subfolder of
the archive. Zipped and unzipped, the same export gives the same layers and totals.

The graph's notes carry what Teachable Machine adds: the labels and class count,
tmVersion and imageSize from metadata.json, and the input preprocessing.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from zooprof.errors import MissingDependencyError, UsageError, ZooprofError
from zooprof.frontends import ReadOptions, reader
from zooprof.frontends.keras.limits import JSON_ENV, MAX_JSON_BYTES, UNZIP_ENV, ZIP_READ_ERRORS, check_zip, load_json
from zooprof.frontends.limits import check_model_file
from zooprof.ir.graph import Graph

Shape = tuple[int, ...]

#: (export, marker files, model file, frontend kind) in order of preference
EXPORTS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("TensorFlow.js", ("model.json", "metadata.json"), "model.json", "tfjs"),
    ("Keras", ("keras_model.h5", "labels.txt"), "keras_model.h5", "keras-file"),
    ("TFLite float", ("model_unquant.tflite", "labels.txt"), "model_unquant.tflite", "tflite-file"),
    ("TFLite quantized", ("model.tflite", "labels.txt"), "model.tflite", "tflite-file"),
    ("Edge TPU", ("model_edgetpu.tflite", "labels.txt"), "model_edgetpu.tflite", "tflite-file"),
)

MAX_FILES = 1000
MAX_BYTES = 1 << 30  # 1 GiB uncompressed
MAX_ARCHIVE_BYTES = 1 << 30  # the .zip itself
MAX_DEPTH = 4  # folders searched below the export's root

#: Teachable Machine image model: params = BACKBONE + HEAD + 100 x classes (REFERENCES.md)
TM_BACKBONE_PARAMS = 410_208
TM_HEAD_PARAMS = 128_100

FLOAT_INPUT = "input: RGB image, SIZE, scaled to [-1, 1] as (x / 127.5) - 1"
QUANT_INPUT = (
    "input: uint8 RGB image, SIZE, quantised with scale 1/127.5 and zero point 127 "
    "(real = (q - 127) / 127.5, the same [-1, 1] range); output uint8"
)


# --------------------------------------------------------------------------------------
# zip archives


def _entry_parts(name: str) -> tuple[str, ...] | None:
    """The path components of a zip entry, or None if it points outside the archive."""
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return None
    parts = tuple(p for p in PurePosixPath(text).parts if p not in ("", "."))
    if any(p == ".." for p in parts):
        return None
    return parts


def safe_extract(archive: Path, dest: Path) -> None:
    """Extract `archive` into `dest`, refusing path traversal, links and oversized archives."""
    try:
        z = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(
            f"{archive.name} is not a valid zip archive ({exc})",
            "the download may be incomplete; download the export again",
        ) from None
    with z:
        check_zip(z, archive.name, MAX_BYTES)
        infos = z.infolist()
        if len(infos) > MAX_FILES:
            raise UsageError(
                f"{archive.name} holds {len(infos):,} entries (zooprof extracts at most {MAX_FILES:,})",
                "a Teachable Machine export holds a few files; give the export itself",
            )
        plan = []
        for info in infos:
            parts = _entry_parts(info.filename)
            if parts is None:
                raise UsageError(
                    f"{archive.name} has an entry '{info.filename}' that points outside the archive "
                    "(an absolute path or '..')",
                    "zooprof does not extract such archives: use the zip as Teachable Machine exported it",
                )
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UsageError(
                    f"{archive.name} has a symbolic link '{info.filename}'",
                    "zooprof does not extract links: use the zip as Teachable Machine exported it",
                )
            plan.append((info, parts))
        if sum(i.file_size for i, _ in plan) > MAX_BYTES:
            raise UsageError(
                f"{archive.name} unpacks to more than {MAX_BYTES >> 20:,} MiB",
                "a Teachable Machine export is a few MB; give the export itself",
            )
        written = 0
        root = dest.resolve()
        try:
            for info, parts in plan:
                if not parts:
                    continue
                target = root.joinpath(*parts)
                if root not in target.parents:
                    raise UsageError(
                        f"{archive.name} has an entry '{info.filename}' that points outside the archive",
                        "zooprof does not extract such archives",
                    )
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > MAX_BYTES:
                            raise UsageError(
                                f"{archive.name} unpacks to more than {MAX_BYTES >> 20:,} MiB",
                                "a Teachable Machine export is a few MB; give the export itself",
                            )
                        dst.write(chunk)
        except ZIP_READ_ERRORS as exc:
            raise UsageError(
                f"{archive.name} is damaged: {exc}", "the download may be incomplete; download the export again"
            ) from None


# --------------------------------------------------------------------------------------
# finding the export


def _folders(root: Path) -> list[Path]:
    out = [root]
    frontier = [root]
    for _ in range(MAX_DEPTH):
        nxt = []
        for folder in frontier:
            for child in sorted(folder.iterdir()):
                if child.is_dir() and not child.is_symlink() and not child.name.startswith(("__MACOSX", ".")):
                    nxt.append(child)
        out.extend(nxt)
        frontier = nxt
    return out


def find_export(root: Path) -> tuple[str, Path, str, list[str]]:
    """(export name, model file, frontend kind, notes) of the Teachable Machine export under `root`."""
    found: list[tuple[str, Path, str]] = []
    for folder in _folders(root):
        names = {p.name for p in folder.iterdir() if p.is_file()}
        for export, markers, model, kind in EXPORTS:
            if all(m in names for m in markers):
                found.append((export, folder / model, kind))
    notes: list[str] = []
    if not found:
        # a lone model file without its labels (a hand-made zip): still read it
        for folder in _folders(root):
            for export, _, model, kind in EXPORTS:
                if (folder / model).is_file():
                    found.append((export, folder / model, kind))
        if found:
            notes.append("labels.txt / metadata.json not found next to the model")
    if not found:
        listing = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())[:6]
        raise UsageError(
            "no Teachable Machine model found" + (f" (files: {', '.join(listing)})" if listing else " (it is empty)"),
            "expected model.json + weights.bin + metadata.json, keras_model.h5 + labels.txt, "
            "or model_unquant.tflite / model.tflite / model_edgetpu.tflite + labels.txt",
        )
    export, model, kind = found[0]
    if len(found) > 1:
        others = ", ".join(f"{e} ({m.relative_to(root)})" for e, m, _ in found[1:4])
        notes.append(f"several exports found; read the {export} one ({model.relative_to(root)}), not: {others}")
    return export, model, kind, notes


# --------------------------------------------------------------------------------------
# metadata


def read_labels(folder: Path) -> list[str] | None:
    """labels.txt lines are 'INDEX NAME'."""
    path = folder / "labels.txt"
    if not path.is_file():
        return None
    check_model_file(path, "a labels.txt", JSON_ENV, MAX_JSON_BYTES)
    labels = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        head, _, rest = line.partition(" ")
        labels.append(rest.strip() if head.isdigit() and rest else line)
    return labels


def read_metadata(folder: Path) -> dict[str, Any] | None:
    path = folder / "metadata.json"
    if not path.is_file():
        return None
    check_model_file(path, "a metadata.json", JSON_ENV, MAX_JSON_BYTES)
    try:
        data = load_json(path.read_bytes(), path.name)
    except UsageError:  # metadata is optional: a damaged one is left out
        return None
    return data if isinstance(data, dict) else None


def teachable_notes(export: str, model: Path, graph: Graph) -> list[str]:
    folder = model.parent
    meta = read_metadata(folder) or {}
    labels = meta.get("labels") if isinstance(meta.get("labels"), list) else read_labels(folder)
    notes = []
    head = f"Teachable Machine image export ({export})"
    if labels is not None:
        shown = ", ".join(str(x) for x in labels[:10]) + (" ..." if len(labels) > 10 else "")
        head += f": {len(labels)} classes: {shown}"
    notes.append(head)
    details = [f"{k} {meta[k]}" for k in ("tmVersion", "packageName", "packageVersion", "tfjsVersion") if meta.get(k)]
    if meta.get("imageSize"):
        details.append(f"imageSize {meta['imageSize']}")
    if meta.get("grayscale"):
        details.append("grayscale")
    if details:
        notes.append("metadata.json: " + ", ".join(details))
    quantised = model.name in ("model.tflite", "model_edgetpu.tflite")
    size = meta.get("imageSize")
    if not size and graph.inputs and len(graph.inputs[0].shape) == 4:
        size = graph.inputs[0].shape[-1]
    notes.append(
        (QUANT_INPUT if quantised else FLOAT_INPUT).replace(
            "SIZE", f"{size}x{size}" if size else "the model's input size"
        )
    )
    if model.name == "model_edgetpu.tflite":
        notes.append("Edge TPU model: compiled into an edgetpu-custom-op that runs only on an Edge TPU")
    if labels is not None and graph.framework in ("keras", "tfjs"):
        params = sum(p.numel for layer in graph.layers for p in layer.params)
        expected = TM_BACKBONE_PARAMS + TM_HEAD_PARAMS + 100 * len(labels)
        if params == expected:
            notes.append(
                f"the Teachable Machine image model: MobileNetV2 alpha 0.35 backbone ({TM_BACKBONE_PARAMS:,} "
                f"params with BatchNorm statistics) + Dense 100 ({TM_HEAD_PARAMS:,}) + Dense {len(labels)} "
                f"without bias ({100 * len(labels):,}) = {expected:,}"
            )
    return notes


# --------------------------------------------------------------------------------------
# entry point


def _delegate(ref: Any, kind: str, model: Path, shapes: list[Shape] | None, trust: bool) -> tuple[Graph, list[Shape]]:
    framework = {"tfjs": "tfjs", "keras-file": "keras", "tflite-file": "tflite"}[kind]
    inner = replace(ref, kind=kind, framework=framework, source=str(model))
    try:
        read_inner = reader(framework)
    except MissingDependencyError as exc:
        exc.message = (
            f"reading this Teachable Machine export ({model.name}) needs the {framework} frontend: {exc.message}"
        )
        raise
    return read_inner(inner, shapes, ReadOptions(trust=trust))


def read_folder(ref: Any, root: Path, shapes: list[Shape] | None, trust: bool) -> tuple[Graph, list[Shape]]:
    export, model, kind, notes = find_export(root)
    graph, shapes = _delegate(ref, kind, model, shapes, trust)
    extra = teachable_notes(export, model, graph) + notes
    return replace(graph, notes=(*extra, *graph.notes)), shapes


def read(ref: Any, shapes: list[Shape] | None, options: ReadOptions) -> tuple[Graph, list[Shape]]:
    """Read a resolved reference (zooprof.reference.resolve.ModelRef, kind "teachable"): a folder or a .zip."""
    path = Path(ref.source)
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}", "check the path")
    if path.is_dir():
        return read_folder(ref, path, shapes, options.trust)
    check_model_file(path, "a Teachable Machine export (.zip)", UNZIP_ENV, MAX_ARCHIVE_BYTES)
    with tempfile.TemporaryDirectory(prefix="zooprof-tm-") as tmp:
        root = Path(tmp)
        safe_extract(path, root)
        try:
            return read_folder(ref, root, shapes, options.trust)
        except ZooprofError as exc:
            # name the archive, not the temporary folder
            exc.message = f"{path.name}: {exc.message.replace(str(root) + '/', '')}"
            raise
        finally:
            shutil.rmtree(root, ignore_errors=True)

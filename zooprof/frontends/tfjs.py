"""TF.js layers models (model.json + weight shards) -> Graph, without TensorFlow.

A TF.js layers model is a `model.json` whose `modelTopology` is a Keras config (written by
tfjs-layers, Keras 2 style) and whose `weightsManifest` lists the weight shards:
`[{"paths": ["group1-shard1of1.bin"], "weights": [{"name", "shape", "dtype",
"quantization"?}]}]`. The `format` key may be absent (Teachable Machine exports have only
`modelTopology` and `weightsManifest`).

Before anything else the shards are checked: each must exist next to model.json, and the
bytes of each group's shards must equal the sum of its weights' sizes (elements x dtype
size, the quantised dtype where a weight is quantised). Then the topology is read by
`zooprof.frontends.keras.graph` and the manifest's weight shapes are checked against it.
The weight values are never read. TF.js graph models (a GraphDef) are not layers models and
are refused with a hint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends import ReadOptions
from zooprof.frontends.keras.graph import graph_from_config
from zooprof.frontends.keras.limits import read_json_file
from zooprof.frontends.keras.validate import check_manifest
from zooprof.frontends.keras.weights import FileWeight, weight_key
from zooprof.ir.graph import Graph, numel

Shape = tuple[int, ...]

#: bytes per element of the dtypes a weightsManifest uses (stored dtype)
TFJS_DTYPE_BYTES = {
    "float32": 4,
    "int32": 4,
    "bool": 1,
    "uint8": 1,
    "int8": 1,
    "uint16": 2,
    "int16": 2,
    "float16": 2,
    "complex64": 8,
}

RE_DOWNLOAD = "the export is incomplete or damaged; re-export or re-download the model"


def load_model_json(path: Path) -> dict[str, Any]:
    """The parsed model.json, with a clear error for a missing, truncated or foreign file."""
    if not path.exists():
        raise UsageError(f"no such file: {path}", "give the path of the TF.js model.json")
    data = read_json_file(path, "a TF.js model.json")
    if not isinstance(data, dict) or "modelTopology" not in data:
        keys = ", ".join(list(data)[:5]) if isinstance(data, dict) else type(data).__name__
        raise UsageError(
            f"{path.name} is not a TF.js model: it has no modelTopology (found: {keys})",
            "give the model.json of a TF.js layers model",
        )
    topology = data["modelTopology"]
    if data.get("format") == "graph-model" or (isinstance(topology, dict) and "node" in topology):
        raise UsageError(
            f"{path.name} is a TF.js graph model (a TensorFlow GraphDef), not a layers model",
            "zooprof reads TF.js layers models; inspect the model it was converted from (SavedModel, .h5 or .tflite)",
        )
    return data


def _group_bytes(weights: list[dict[str, Any]], path: Path) -> int | None:
    total = 0
    for w in weights:
        dtype = str((w.get("quantization") or {}).get("dtype") or w.get("dtype") or "float32")
        if dtype == "string":
            return None  # strings are length-prefixed: no fixed size to check
        size = TFJS_DTYPE_BYTES.get(dtype)
        if size is None:
            raise UsageError(f"{path.name}: weight '{w.get('name')}' has the unknown dtype '{dtype}'", RE_DOWNLOAD)
        try:
            total += numel(tuple(int(d) for d in w.get("shape", []))) * size
        except (TypeError, ValueError):
            raise UsageError(
                f"{path.name}: weight '{w.get('name')}' has an invalid shape {w.get('shape')}", RE_DOWNLOAD
            ) from None
    return total


def check_shards(path: Path, manifest: Any) -> list[FileWeight]:
    """Check the weight shards against the manifest; return the manifest's weight shapes."""
    check_manifest(manifest, path.name, RE_DOWNLOAD)
    base = path.resolve().parent
    weights: list[FileWeight] = []
    for group in manifest:
        if not isinstance(group, dict) or not isinstance(group.get("paths"), list):
            raise UsageError(f"{path.name}: a weightsManifest entry has no 'paths'", RE_DOWNLOAD)
        entries = group.get("weights") or []
        actual = 0
        for rel in group["paths"]:
            rel = str(rel)
            target = (base / rel).resolve()
            if os.path.isabs(rel) or base not in target.parents:
                raise UsageError(
                    f"{path.name} points at the weight file '{rel}' outside its folder",
                    "weight shards must lie next to model.json",
                )
            if not target.is_file():
                want = _group_bytes(entries, path)
                raise UsageError(
                    f"the weight file {rel} listed in {path.name} is missing",
                    f"copy it next to {path.name}" + (f" (expected {want:,} bytes)" if want is not None else ""),
                )
            actual += target.stat().st_size
        expected = _group_bytes(entries, path)
        if expected is not None and actual != expected:
            names = " + ".join(str(p) for p in group["paths"])
            raise UsageError(
                f"{names} holds {actual:,} bytes, but {path.name} lists weights of {expected:,} bytes",
                ("the file is truncated; " if actual < expected else "") + RE_DOWNLOAD,
            )
        for w in entries:
            layer, var = weight_key(str(w.get("name", "")))
            weights.append(
                FileWeight(
                    layer,
                    var,
                    tuple(int(d) for d in w.get("shape", [])),
                    str(w.get("dtype") or "float32"),
                    str(w.get("name", "")),
                )
            )
    return weights


def read_model_json(
    path: Path, shapes: list[Shape] | None, trust: bool, name: str | None = None, notes: list[str] | None = None
) -> tuple[Graph, list[Shape]]:
    data = load_model_json(path)
    manifest = data.get("weightsManifest")
    own_notes = list(notes or [])
    weights = None
    if manifest is None:
        own_notes.append(f"{path.name} has no weightsManifest: weights not checked")
    else:
        weights = check_shards(path, manifest)
    topology = data["modelTopology"]
    version = topology.get("keras_version") if isinstance(topology, dict) else None
    produced = f" (written by {version})" if version else ""
    generated = data.get("generatedBy")
    if generated and not version:
        produced = f" (generated by {generated})"
    checked = (
        f"; weight files checked against weightsManifest ({sum(numel(w.shape) for w in weights):,} values)"
        if weights is not None
        else ""
    )
    own_notes.insert(0, f"TF.js layers model{produced}: Keras config read without TensorFlow{checked}")
    return graph_from_config(
        topology,
        name=name,
        input_shapes=shapes,
        trust=trust,
        weights=weights,
        framework="tfjs",
        trace_method="tfjs-topology",
        source=path.name,
        notes=own_notes,
    )


def read(ref: Any, shapes: list[Shape] | None, options: ReadOptions) -> tuple[Graph, list[Shape]]:
    """Read a resolved reference (zooprof.reference.resolve.ModelRef) whose source is a model.json path."""
    path = Path(ref.source)
    if path.is_dir():
        path = path / "model.json"
    return read_model_json(path, shapes, options.trust, name=ref.name)

"""Keras model files -> (model config, weight shapes, notes), without running the model:

- `.h5` / `.hdf5`: the `model_config` attribute and the `model_weights` groups, read with h5py;
- `.keras` (zip): `config.json`, and `model.weights.h5` extracted to a temporary folder;
- a SavedModel folder: `keras_metadata.pb`, decoded here (protocol-buffer wire format);
  without it the model is loaded with tf_keras/keras (TensorFlow needed).

`read_file` picks the reader by suffix. Damaged files are UsageErrors with a hint.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zooprof.errors import MissingDependencyError, UsageError
from zooprof.frontends.compat import triton_first
from zooprof.frontends.keras.limits import (
    JSON_ENV,
    MAX_JSON_BYTES,
    MAX_UNZIP_BYTES,
    UNZIP_ENV,
    ZIP_READ_ERRORS,
    check_zip,
    copy_member,
    json_cap,
    load_json,
    read_member,
)
from zooprof.frontends.keras.loading import TF_HINT, first_line, quiet
from zooprof.frontends.keras.weights import FileWeight, weight_dtype, weight_key
from zooprof.frontends.limits import check_model_file, size_cap

FILE_ENV = "ZOOPROF_MAX_KERAS_BYTES"
MAX_FILE_BYTES = 64 << 30  # an .h5 or .keras file (weights included)
DAMAGED_H5 = "the file may be truncated or damaged; re-export or re-download it"


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# --------------------------------------------------------------------------------------
# HDF5


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise MissingDependencyError("reading Keras .h5 files needs h5py, which is not installed", TF_HINT) from exc
    return h5py


def _h5_names(obj: Any, key: str, where: str) -> list[str]:
    """A Keras name-list attribute (layer_names, weight_names): an array of strings."""
    raw = obj.attrs.get(key, [])
    if isinstance(raw, (str, bytes)) or getattr(raw, "ndim", 1) != 1:
        raise UsageError(f"{where}: the attribute {key} is not a list of names", DAMAGED_H5)
    return [_text(n) for n in raw]


def h5_weights(group: Any, source: str = "the file") -> list[FileWeight]:
    """Weight shapes of a Keras HDF5 weights group (`model_weights`, or a weights-only file's root)."""
    h5py = _h5py()
    if not isinstance(group, h5py.Group):
        raise UsageError(f"{source}: {group.name} is an HDF5 dataset, not a group of layer weights", DAMAGED_H5)
    out: list[FileWeight] = []
    names = _h5_names(group, "layer_names", source)
    if names:
        for lname in names:
            g = group.get(lname)
            if not isinstance(g, h5py.Group):
                raise UsageError(f"{source}: the weights of layer '{lname}' are not an HDF5 group", DAMAGED_H5)
            for wname in _h5_names(g, "weight_names", f"{source}: layer '{lname}'"):
                ds = g.get(wname)
                if not isinstance(ds, h5py.Dataset) or ds.shape is None:
                    raise UsageError(f"{source}: the weight '{lname}/{wname}' is not an HDF5 dataset", DAMAGED_H5)
                layer, var = weight_key(wname)
                out.append(
                    FileWeight(
                        layer or lname,
                        var,
                        tuple(int(d) for d in ds.shape),
                        weight_dtype(ds.dtype),
                        wname if wname.startswith(f"{lname}/") else f"{lname}/{wname}",
                    )
                )
        return out

    def visit(path: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and obj.shape is not None and not path.startswith("optimizer"):
            out.append(FileWeight(None, path, tuple(int(d) for d in obj.shape), weight_dtype(obj.dtype)))

    group.visititems(visit)
    return out


def _model_config(f: Any, path: Path) -> Any:
    """The model_config attribute's JSON, its size checked before it is read."""
    size = f.attrs.get_id("model_config").get_storage_size()
    cap = json_cap()
    if size > cap:
        raise UsageError(
            f"{path.name}: model_config is {size:,} bytes of JSON, more than zooprof reads ({cap:,} bytes)",
            f"set {JSON_ENV} to a larger number of bytes if the file is genuine",
        )
    raw = f.attrs.get("model_config")
    if not isinstance(raw, (str, bytes)):
        raise UsageError(f"{path.name}: model_config is not a JSON text", DAMAGED_H5)
    return load_json(raw, f"{path.name} (model_config)")


def read_h5(path: Path) -> tuple[dict[str, Any], list[FileWeight] | None, list[str]]:
    """(model config, weight shapes, notes) of a Keras HDF5 file, read with h5py (no TensorFlow)."""
    h5py = _h5py()
    check_model_file(path, "a Keras model file", FILE_ENV, MAX_FILE_BYTES)
    try:
        f = h5py.File(str(path), "r")
    except OSError as exc:
        raise UsageError(
            f"{path.name} is not a valid HDF5 file: {first_line(exc)}",
            "the file may be truncated or damaged; re-export or re-download it",
        ) from None
    try:
        with f:
            if "model_config" not in f.attrs:
                what = "weights only" if "layer_names" in f.attrs or "model_weights" in f else "no Keras model"
                raise UsageError(
                    f"{path.name} holds {what}: it has no model architecture (model_config)",
                    "save the whole model with model.save(...), or give the code that builds it "
                    "as keras:package.module:function",
                )
            config = _model_config(f, path)
            notes = []
            version = f.attrs.get("keras_version")
            if version is not None:
                backend = f.attrs.get("backend")
                notes.append(
                    f"Keras HDF5 file written by Keras {_text(version)}"
                    + (f" ({_text(backend)} backend)" if backend is not None else "")
                    + "; read with h5py, without TensorFlow"
                )
            weights = h5_weights(f["model_weights"], path.name) if "model_weights" in f else None
    except UsageError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise UsageError(
            f"{path.name} is not a readable Keras HDF5 file: {first_line(exc)}",
            "the file may be truncated or damaged; re-export or re-download it",
        ) from None
    return config, weights, notes


# --------------------------------------------------------------------------------------
# .keras (zip)


def read_keras_zip(path: Path) -> tuple[dict[str, Any], list[FileWeight] | None, list[str]]:
    """(config, weight shapes, notes) of a .keras file: config.json, and model.weights.h5
    copied into a temporary folder to read its dataset shapes."""
    check_model_file(path, "a Keras model file", FILE_ENV, MAX_FILE_BYTES)
    if not zipfile.is_zipfile(path):
        raise UsageError(
            f"{path.name} is not a valid .keras file (not a zip archive)",
            "the file may be truncated or damaged; re-export or re-download it",
        )
    notes = []
    try:
        with zipfile.ZipFile(path) as z:
            check_zip(z, path.name)
            names = set(z.namelist())
            if "config.json" not in names:
                raise UsageError(
                    f"{path.name} has no config.json: it is not a Keras model archive",
                    "save the model with model.save('model.keras')",
                )
            config = load_json(read_member(z, "config.json", path.name, json_cap()), f"{path.name} (config.json)")
            if "metadata.json" in names:
                meta = load_json(read_member(z, "metadata.json", path.name, json_cap()), f"{path.name} (metadata.json)")
                if isinstance(meta, dict) and meta.get("keras_version"):
                    notes.append(f".keras file written by Keras {meta['keras_version']}; read without TensorFlow")
            weights = None
            if "model.weights.h5" in names:
                h5py = _h5py()
                with tempfile.TemporaryDirectory(prefix="zooprof-keras-") as tmp:
                    target = Path(tmp) / "model.weights.h5"
                    with open(target, "wb") as dst:
                        copy_member(z, "model.weights.h5", dst, size_cap(UNZIP_ENV, MAX_UNZIP_BYTES), path.name)
                    with h5py.File(str(target), "r") as f:
                        weights = h5_weights(f, f"{path.name} (model.weights.h5)")
    except UsageError:
        raise
    except (*ZIP_READ_ERRORS, KeyError, TypeError) as exc:
        raise UsageError(
            f"{path.name} is not a readable .keras file: {first_line(exc)}",
            "the file may be truncated or damaged; re-export or re-download it",
        ) from None
    return config, weights, notes


# --------------------------------------------------------------------------------------
# SavedModel


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """Protocol-buffer wire format: (field number, wire type, value) for each field."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            n, i = _varint(data, i)
            value, i = data[i : i + n], i + n
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield field, wire, value


def keras_metadata_config(data: bytes) -> dict[str, Any] | None:
    """The model config in a SavedModel's keras_metadata.pb (SavedMetadata: repeated SavedObject
    nodes = 1; SavedObject: node_path = 3, identifier = 4, metadata = 5), or None."""
    for field, wire, node in _fields(data):
        if field != 1 or wire != 2:
            continue
        parts = {f: v for f, w, v in _fields(node) if w == 2}
        if parts.get(3) != b"root":
            continue
        meta = load_json(parts.get(5, b"{}"), "keras_metadata.pb")
        if isinstance(meta, dict) and "class_name" in meta and isinstance(meta.get("config"), dict):
            return {"class_name": meta["class_name"], "config": meta["config"]}
    return None


def read_savedmodel(path: Path, trust: bool = False) -> tuple[dict[str, Any], list[FileWeight] | None, list[str]]:
    """The config of a Keras SavedModel folder: from keras_metadata.pb without TensorFlow, else
    (with --trust only) by loading it with tf_keras: a SavedModel without Keras metadata is revived
    from its TensorFlow functions, graphs a file supplies, which zooprof does not inspect first."""
    meta = path / "keras_metadata.pb"
    if meta.is_file():
        check_model_file(meta, "a SavedModel's keras_metadata.pb", JSON_ENV, MAX_JSON_BYTES)
        try:
            config = keras_metadata_config(meta.read_bytes())
        except (ValueError, UnicodeDecodeError):
            config = None
        if config is not None:
            return (
                config,
                None,
                ["Keras SavedModel: config read from keras_metadata.pb without TensorFlow; weights not checked"],
            )
    if not trust:
        raise UsageError(
            f"{path.name} is a SavedModel without a readable keras_metadata.pb: reading it means loading "
            "its TensorFlow functions, which zooprof cannot check first",
            "pass --trust if you trust its source, or convert it to TFLite "
            "(tf.lite.TFLiteConverter.from_saved_model) and inspect the .tflite",
        )
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        raise MissingDependencyError(
            f"{path.name} is a SavedModel without a readable keras_metadata.pb: "
            "loading it needs TensorFlow, which is not installed",
            TF_HINT,
        )
    triton_first()
    with quiet():
        try:
            import tf_keras as keras_mod
        except ImportError:
            try:
                import keras as keras_mod  # type: ignore[no-redef]
            except ImportError as exc:
                raise MissingDependencyError("loading a SavedModel needs tf_keras or keras", TF_HINT) from exc
        try:
            model = keras_mod.models.load_model(str(path), compile=False)
            config = {"class_name": type(model).__name__, "config": model.get_config()}
        except Exception as exc:  # any loader failure: not a Keras SavedModel
            raise UsageError(
                f"{path.name} is a TensorFlow SavedModel that Keras cannot load ({first_line(exc)})",
                "zooprof reads Keras SavedModels; convert this one to "
                "TFLite (tf.lite.TFLiteConverter.from_saved_model) and inspect the .tflite",
            ) from None
    return config, None, ["Keras SavedModel loaded with TensorFlow to read its config; weights not checked"]


# --------------------------------------------------------------------------------------
# by suffix


def read_file(path: Path, trust: bool = False) -> tuple[dict[str, Any], list[FileWeight] | None, list[str]]:
    """(config, weight shapes, notes) of a Keras file or SavedModel folder, by its suffix."""
    if not path.exists():
        raise UsageError(f"no such file: {path}", "check the path")
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return read_savedmodel(path, trust)
        raise UsageError(f"{path} is a folder without saved_model.pb", "give a .h5 or .keras file or a SavedModel")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return read_h5(path)
    if suffix == ".keras":
        return read_keras_zip(path)
    raise UsageError(
        f"zooprof cannot read '{path.name}' as a Keras model", "expected .h5, .hdf5, .keras or a SavedModel folder"
    )

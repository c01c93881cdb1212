"""Keras frontend: Keras files and keras.applications models -> Graph.

Every route ends in a Keras model config, read by `zooprof.frontends.keras.config` (pure
Python: shapes are computed from the layer configs, nothing runs):

| reference | how the config is obtained | TensorFlow imported? |
|---|---|---|
| `model.h5` / `.hdf5` (Keras 2 or 3 HDF5) | the `model_config` attribute, read with h5py; weight shapes from the `model_weights` groups | no |
| `model.keras` (Keras 3 / tf_keras zip) | `config.json` read from the zip; weight shapes from `model.weights.h5` (extracted to a temporary folder) | no |
| a SavedModel folder | `keras_metadata.pb` (decoded here); without it, TensorFlow loads the model (`tf_keras.models.load_model`) | only without keras_metadata.pb |
| `keras:NAME[?opt=value&...]` | `keras.applications.NAME(weights=None, input_shape=..., **options)` then `get_config()` | yes |
| `keras:package.module:callable[?...]` | the callable (returning a Keras model, or a config dict) then `get_config()` | when the callable builds a model |

Teachable Machine's `keras_model.h5` is a Keras 2.4 file that Keras 3 refuses to load
(`DepthwiseConv2D` with `groups: 1`, keras-team/keras#19151); the config reader does not
need Keras and reads it as it is.

When the file holds weights, their shapes are checked against the config; keras: models are
checked against the built model's own weights.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zooprof.errors import MissingDependencyError, UsageError, ZooprofError
from zooprof.frontends import ReadOptions
from zooprof.frontends.keras.config import FileWeight, graph_from_config, weight_key
from zooprof.ir.graph import DTYPE_BYTES, Graph

Shape = tuple[int, ...]

TF_HINT = "pip install 'zooprof[tf]'"


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, cut at a sentence end when it is long."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    if len(line) > 160 and ". " in line[:200]:
        line = line[: line.index(". ") + 1]
    return line[:200]


def _dtype(name: Any) -> str:
    s = str(name)
    return s if s in DTYPE_BYTES else "float32"


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


def h5_weights(group: Any) -> list[FileWeight]:
    """Weight shapes of a Keras HDF5 weights group (`model_weights`, or a weights-only file's root)."""
    out: list[FileWeight] = []
    names = [_text(n) for n in group.attrs.get("layer_names", [])]
    if names:
        for lname in names:
            g = group[lname]
            for wname in (_text(w) for w in g.attrs.get("weight_names", [])):
                ds = g[wname]
                layer, var = weight_key(wname)
                out.append(
                    FileWeight(
                        layer or lname,
                        var,
                        tuple(int(d) for d in ds.shape),
                        _dtype(ds.dtype),
                        wname if wname.startswith(f"{lname}/") else f"{lname}/{wname}",
                    )
                )
        return out

    def visit(path: str, obj: Any) -> None:
        if hasattr(obj, "shape") and hasattr(obj, "dtype") and not path.startswith("optimizer"):
            out.append(FileWeight(None, path, tuple(int(d) for d in obj.shape), _dtype(obj.dtype)))

    group.visititems(visit)
    return out


def read_h5(path: Path) -> tuple[dict[str, Any], list[FileWeight] | None, list[str]]:
    """(model config, weight shapes, notes) of a Keras HDF5 file, read with h5py (no TensorFlow)."""
    h5py = _h5py()
    try:
        f = h5py.File(str(path), "r")
    except OSError as exc:
        raise UsageError(
            f"{path.name} is not a valid HDF5 file: {_first_line(exc)}",
            "the file may be truncated or damaged; re-export or re-download it",
        ) from None
    try:
        with f:
            raw = f.attrs.get("model_config")
            if raw is None:
                what = "weights only" if "layer_names" in f.attrs or "model_weights" in f else "no Keras model"
                raise UsageError(
                    f"{path.name} holds {what}: it has no model architecture (model_config)",
                    "save the whole model with model.save(...), or give the code that builds it "
                    "as keras:package.module:function",
                )
            config = json.loads(_text(raw))
            notes = []
            version = f.attrs.get("keras_version")
            if version is not None:
                backend = f.attrs.get("backend")
                notes.append(
                    f"Keras HDF5 file written by Keras {_text(version)}"
                    + (f" ({_text(backend)} backend)" if backend is not None else "")
                    + "; read with h5py, without TensorFlow"
                )
            weights = h5_weights(f["model_weights"]) if "model_weights" in f else None
    except UsageError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise UsageError(
            f"{path.name} is not a readable Keras HDF5 file: {_first_line(exc)}",
            "the file may be truncated or damaged; re-export or re-download it",
        ) from None
    return config, weights, notes


# --------------------------------------------------------------------------------------
# .keras (zip)


def read_keras_zip(path: Path) -> tuple[dict[str, Any], list[FileWeight] | None, list[str]]:
    """(config, weight shapes, notes) of a .keras file: config.json, and model.weights.h5
    copied into a temporary folder to read its dataset shapes."""
    if not zipfile.is_zipfile(path):
        raise UsageError(
            f"{path.name} is not a valid .keras file (not a zip archive)",
            "the file may be truncated or damaged; re-export or re-download it",
        )
    notes = []
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "config.json" not in names:
                raise UsageError(
                    f"{path.name} has no config.json: it is not a Keras model archive",
                    "save the model with model.save('model.keras')",
                )
            config = json.loads(z.read("config.json"))
            if "metadata.json" in names:
                meta = json.loads(z.read("metadata.json"))
                if isinstance(meta, dict) and meta.get("keras_version"):
                    notes.append(f".keras file written by Keras {meta['keras_version']}; read without TensorFlow")
            weights = None
            if "model.weights.h5" in names:
                h5py = _h5py()
                with tempfile.TemporaryDirectory(prefix="zooprof-keras-") as tmp:
                    target = Path(tmp) / "model.weights.h5"
                    with z.open("model.weights.h5") as src, open(target, "wb") as dst:
                        while chunk := src.read(1 << 20):
                            dst.write(chunk)
                    with h5py.File(str(target), "r") as f:
                        weights = h5_weights(f)
    except UsageError:
        raise
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as exc:
        raise UsageError(
            f"{path.name} is not a readable .keras file: {_first_line(exc)}",
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
        meta = json.loads(parts.get(5, b"{}").decode("utf-8"))
        if isinstance(meta, dict) and "class_name" in meta and isinstance(meta.get("config"), dict):
            return {"class_name": meta["class_name"], "config": meta["config"]}
    return None


def read_savedmodel(path: Path) -> tuple[dict[str, Any], list[FileWeight] | None, list[str]]:
    """The config of a Keras SavedModel folder: from keras_metadata.pb without TensorFlow, else
    by loading it with tf_keras (TensorFlow needed)."""
    meta = path / "keras_metadata.pb"
    if meta.is_file():
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
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        raise MissingDependencyError(
            f"{path.name} is a SavedModel without a readable keras_metadata.pb: "
            "loading it needs TensorFlow, which is not installed",
            TF_HINT,
        )
    _triton_first()
    with _quiet():
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
                f"{path.name} is a TensorFlow SavedModel that Keras cannot load ({_first_line(exc)})",
                "zooprof reads Keras SavedModels; convert this one to "
                "TFLite (tf.lite.TFLiteConverter.from_saved_model) and inspect the .tflite",
            ) from None
    return config, None, ["Keras SavedModel loaded with TensorFlow to read its config; weights not checked"]


# --------------------------------------------------------------------------------------
# keras: builders


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """TensorFlow's C++ start-up lines (CUDA probing, absl) go to the process's stderr: hide them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _triton_first() -> None:
    """Import triton (when installed) before TensorFlow: with TensorFlow loaded first, a later
    `import triton` (PyTorch imports it for torchvision and torch._dynamo) crashes the process
    with a segmentation fault. The other order is safe, and triton alone imports in ~0.2 s."""
    import importlib.util

    if "tensorflow" in sys.modules or "triton" in sys.modules:
        return
    try:
        if importlib.util.find_spec("triton") is not None:
            import triton  # noqa: F401
    except Exception:  # a broken triton must not stop a Keras model from being read
        pass


def _import_keras() -> Any:
    import importlib.util

    if importlib.util.find_spec("keras") is None and importlib.util.find_spec("tf_keras") is None:
        raise MissingDependencyError("building keras: models needs TensorFlow/Keras, which is not installed", TF_HINT)
    import warnings

    _triton_first()
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import keras
        except ImportError:
            import tf_keras as keras  # type: ignore[no-redef]
    return keras


def _hwc(shapes: list[Shape] | None) -> tuple[int, ...] | None:
    if not shapes:
        return None
    s = shapes[0]
    return (*s[2:], s[1]) if len(s) >= 3 else tuple(s[1:])


def _app_builder(keras: Any, name: str) -> Any:
    builder = getattr(keras.applications, name, None)
    if builder is None or not callable(builder):
        import difflib

        names = [n for n in dir(keras.applications) if n[:1].isupper()]
        close = difflib.get_close_matches(name, names, n=4, cutoff=0.5)
        raise UsageError(
            f"keras.applications has no model '{name}'",
            f"did you mean: {', '.join(close)}" if close else "see keras.applications",
        )
    return builder


def _callable(target: str) -> Any:
    import importlib

    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"cannot import module '{module_name}': {exc}", "check the name and that its folder is on PYTHONPATH"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"module '{module_name}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"'{target}' is not callable", "give a function returning a Keras model")
    return obj


def build_model(source: str, kwargs: dict[str, Any], shapes: list[Shape] | None) -> tuple[Any, str, str, Any]:
    """Build `keras:NAME` (keras.applications, random weights) or `keras:module:callable`.

    Returns (model or config dict, what was called, how, the keras module or None)."""
    target = source.split(":", 1)[1] if source.startswith("keras:") else source
    hwc = _hwc(shapes)
    options = {k: v for k, v in kwargs.items() if k != "weights"}
    if ":" in target:
        fn = _callable(target)
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        if hwc is not None and "input_shape" in params:
            options.setdefault("input_shape", hwc)
        what = target
        keras = None
        built_by = f"{target}({', '.join(f'{k}={v!r}' for k, v in options.items())})"
    else:
        keras = _import_keras()
        fn = _app_builder(keras, target)
        if hwc is not None:
            options["input_shape"] = hwc
        options["weights"] = None
        what = f"keras.applications.{target}"
        built_by = f"{what}({', '.join(f'{k}={v!r}' for k, v in options.items())})"
    import warnings

    _triton_first()
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = fn(**options)
        except ZooprofError:
            raise
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"{what} rejected the options {options}: {_first_line(exc)}",
                "check the option names and values (and --input-shape)",
            ) from None
        except Exception as exc:  # a builder failing in any other way
            raise ZooprofError(f"building {what} failed: {type(exc).__name__}: {_first_line(exc)}") from None
    return model, what, built_by, keras


def build_config(
    source: str, kwargs: dict[str, Any], shapes: list[Shape] | None
) -> tuple[Any, list[str], list[FileWeight] | None]:
    """(config, notes, the built model's weight shapes) for `keras:NAME` or `keras:module:callable`."""
    model, what, built_by, keras = build_model(source, kwargs, shapes)
    if isinstance(model, dict):
        return model, [f"config from {built_by}"], None
    if not hasattr(model, "get_config"):
        raise UsageError(
            f"{what} returned a {type(model).__name__}, not a Keras model",
            "the callable must return a Keras model (or its config dict)",
        )
    config = {"class_name": type(model).__name__, "config": model.get_config()}
    weights = []
    for w in model.weights:
        layer, var = weight_key(str(getattr(w, "path", None) or w.name))
        weights.append(FileWeight(layer, var, tuple(int(d) for d in w.shape), _dtype(getattr(w, "dtype", "float32"))))
    version = getattr(keras, "__version__", None) if keras is not None else None
    note = (
        f"built with {built_by}" + (f" (Keras {version})" if version else "") + "; random weights, shapes "
        "computed from its config"
    )
    return config, [note], weights


# --------------------------------------------------------------------------------------
# entry point


def read_file(path: Path) -> tuple[dict[str, Any], list[FileWeight] | None, list[str]]:
    if not path.exists():
        raise UsageError(f"no such file: {path}", "check the path")
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return read_savedmodel(path)
        raise UsageError(f"{path} is a folder without saved_model.pb", "give a .h5 or .keras file or a SavedModel")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return read_h5(path)
    if suffix == ".keras":
        return read_keras_zip(path)
    raise UsageError(
        f"zooprof cannot read '{path.name}' as a Keras model", "expected .h5, .hdf5, .keras or a SavedModel folder"
    )


def read(ref: Any, shapes: list[Shape] | None, options: ReadOptions) -> tuple[Graph, list[Shape]]:
    """Read a resolved reference (zooprof.reference.resolve.ModelRef): keras-file, keras-app, or a zoo
    entry whose source is keras:..."""
    if ref.kind == "keras-file":
        path = Path(ref.source)
        config, weights, notes = read_file(path)
        return graph_from_config(
            config,
            name=ref.name,
            input_shapes=shapes,
            trust=options.trust,
            weights=weights,
            framework="keras",
            trace_method="keras-config",
            source=path.name,
            notes=notes,
        )
    if ref.kind in ("keras-app", "zoo") and str(ref.source).startswith("keras:"):
        shapes = shapes or ref.input_shapes
        config, notes, weights = build_config(ref.source, dict(ref.kwargs), shapes)
        return graph_from_config(
            config,
            name=ref.name,
            input_shapes=shapes,
            trust=True,
            weights=weights,
            framework="keras",
            trace_method="keras-config",
            source=ref.source,
            notes=notes,
        )
    raise UsageError(
        f"the Keras frontend cannot read '{ref.text}' (kind {ref.kind})",
        "give a .h5/.keras file, a SavedModel folder, or keras:NAME",
    )

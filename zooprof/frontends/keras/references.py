"""`keras:` references: `keras:NAME` (keras.applications, random weights, at the given input
shape, else at the builder's own size: 224x224 for MobileNetV3, which leaves it open) and
`keras:package.module:callable` (a function returning a Keras model or its config).
`build_model` builds one (also used by the tensorflow runtime); `build_config` returns its
config and the built model's weight shapes, for `zooprof.frontends.keras.graph`."""

from __future__ import annotations

import inspect
from typing import Any

from zooprof.errors import UsageError, ZooprofError
from zooprof.frontends.compat import triton_first
from zooprof.frontends.keras.constants import Shape
from zooprof.frontends.keras.loading import first_line, import_keras, quiet
from zooprof.frontends.keras.weights import FileWeight, weight_dtype, weight_key

#: keras.applications builders whose input size is left open (None x None) without
#: input_shape: built at the size their weights were trained at, as every other builder is
DEFAULT_SIZE = {"MobileNetV3Small": 224, "MobileNetV3Large": 224}


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
        keras = import_keras()
        fn = _app_builder(keras, target)
        if hwc is not None:
            options["input_shape"] = hwc
        elif target in DEFAULT_SIZE and "input_shape" not in options and "input_tensor" not in options:
            size = DEFAULT_SIZE[target]
            channels_first = keras.backend.image_data_format() == "channels_first"
            options["input_shape"] = (3, size, size) if channels_first else (size, size, 3)
        options["weights"] = None
        what = f"keras.applications.{target}"
        built_by = f"{what}({', '.join(f'{k}={v!r}' for k, v in options.items())})"
    import warnings

    triton_first()
    with quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = fn(**options)
        except ZooprofError:
            raise
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"{what} rejected the options {options}: {first_line(exc)}",
                "check the option names and values (and --input-shape)",
            ) from None
        except Exception as exc:  # a builder failing in any other way
            raise ZooprofError(f"building {what} failed: {type(exc).__name__}: {first_line(exc)}") from None
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
        weights.append(
            FileWeight(layer, var, tuple(int(d) for d in w.shape), weight_dtype(getattr(w, "dtype", "float32")))
        )
    version = getattr(keras, "__version__", None) if keras is not None else None
    note = (
        f"built with {built_by}" + (f" (Keras {version})" if version else "") + "; random weights, shapes "
        "computed from its config"
    )
    return config, [note], weights

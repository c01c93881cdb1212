"""The three dialects of a Keras model config, normalised: what every other module reads.

- Keras 2 / tf_keras / tfjs-layers: `inbound_nodes` as nested lists
  `[[["layer", node, tensor, {kwargs}], ...], ...]`, inputs declared by `batch_input_shape`;
- Keras 3: `inbound_nodes` as `[{"args": [...], "kwargs": {...}}]` holding `__keras_tensor__`
  records (with `keras_history` and the tensor's shape), inputs declared by `batch_shape`,
  dtype policies as dicts;
- SavedModel metadata writes tuples as `{"class_name": "__tuple__", "items": [...]}`, and a
  TF.js `modelTopology` may wrap the model record in `model_config`.

`unwrap_config` turns any of them into one `{"class_name", "config"}` record of plain JSON
data; `parse_nodes` and `io_refs` give a layer's calls and a model's inputs/outputs as
`TensorRef`s whatever the dialect; the rest reads names, declared shapes, dtype policies and
the data format from layer configs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.keras.constants import MODEL_CLASSES, KShape
from zooprof.frontends.keras.limits import MAX_JSON_DEPTH, load_json


def _policy_name(dtype: Any) -> str | None:
    """The dtype policy name of a layer config's `dtype` (a string or a policy dict)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, dict):
        cfg = dtype.get("config")
        if isinstance(cfg, dict) and isinstance(cfg.get("name"), str):
            return cfg["name"]
        if isinstance(cfg, str):
            return cfg
        if isinstance(dtype.get("name"), str):
            return dtype["name"]
    return None


def layer_dtypes(cfg: dict[str, Any]) -> tuple[str, str]:
    """(compute dtype, variable dtype) of a layer from its dtype policy; float32 by default."""
    name = _policy_name(cfg.get("dtype")) or "float32"
    if name.startswith("mixed_"):
        return name[len("mixed_") :], "float32"
    if name in ("float16", "bfloat16", "float64", "float32"):
        return name, name
    return "float32", "float32"


def input_dtype(cfg: dict[str, Any]) -> str:
    """The dtype of an input layer from its config (float32 when zooprof does not know it)."""
    d = _policy_name(cfg.get("dtype")) or "float32"
    return (
        d
        if d in ("float32", "float16", "bfloat16", "float64", "int32", "int64", "uint8", "int8", "int16", "bool")
        else "float32"
    )


def _untuple(value: Any) -> Any:
    """SavedModel metadata writes tuples as {"class_name": "__tuple__", "items": [...]}."""
    if isinstance(value, dict):
        if value.get("class_name") == "__tuple__" and "items" in value:
            return [_untuple(v) for v in value["items"]]
        return {k: _untuple(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untuple(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def unwrap_config(config: Any) -> dict[str, Any]:
    """A {"class_name", "config"} model record, whatever the wrapping of the source.

    Accepts the record itself, a bare `get_config()` dict, a TF.js `modelTopology` (which may
    wrap it in `model_config`), or a JSON string of any of these."""
    if isinstance(config, (str, bytes)):
        config = load_json(config, "the Keras model config")
    if not isinstance(config, dict):
        raise UsageError("the Keras model config is not a JSON object", "the file may be damaged")
    # a live get_config() holds tuples (and numpy scalars): make it plain JSON data
    try:
        config = _untuple(json.loads(json.dumps(config, default=_jsonable)))
    except RecursionError:  # files are checked when read (limits.load_json); a dict given in code is not
        raise UsageError(
            f"the Keras model config nests more than {MAX_JSON_DEPTH} levels deep",
            "no model config nests that deep: it is damaged",
        ) from None
    if "model_config" in config and isinstance(config["model_config"], dict):
        config = config["model_config"]
    if "class_name" in config and "config" in config:
        return config
    if "layers" in config:
        kind = "Functional" if "input_layers" in config or "output_layers" in config else "Sequential"
        return {"class_name": kind, "config": config}
    raise UsageError("the Keras config describes no model (no layers)", "the file may be damaged or not a Keras model")


# --------------------------------------------------------------------------------------
# inbound nodes (both dialects)


#: the key of `parse_nodes`' kwargs that holds a Keras 3 call's positional numbers (not tensors)
SCALAR_ARGS = "scalar_args"


@dataclass(frozen=True)
class TensorRef:
    """A tensor a layer reads: (layer, node, index) of its producer, and the shape Keras 3 records."""

    layer: str
    node: int
    index: int
    shape: KShape | None = None  # what a Keras 3 config records for the tensor


def _refs_keras3(value: Any, out: list[TensorRef]) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            cfg = value.get("config", {})
            hist = cfg.get("keras_history") or []
            if len(hist) >= 3:
                shape = cfg.get("shape")
                out.append(
                    TensorRef(
                        str(hist[0]), int(hist[1]), int(hist[2]), tuple(shape) if isinstance(shape, list) else None
                    )
                )
            return
        for v in value.values():
            _refs_keras3(v, out)
    elif isinstance(value, list):
        for v in value:
            _refs_keras3(v, out)


def _is_ref(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) >= 3
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and isinstance(value[2], int)
    )


def parse_nodes(entry: dict[str, Any]) -> list[tuple[list[TensorRef], dict[str, Any]]]:
    """The calls of a Functional model's layer: per call, its input tensors and kwargs (with, for
    a Keras 3 call, its positional numbers under SCALAR_ARGS)."""
    nodes = entry.get("inbound_nodes") or []
    out: list[tuple[list[TensorRef], dict[str, Any]]] = []
    for node in nodes:
        refs: list[TensorRef] = []
        kwargs: dict[str, Any] = {}
        if isinstance(node, dict):  # Keras 3
            _refs_keras3(node.get("args", []), refs)
            kw = node.get("kwargs", {}) or {}
            kw_refs: list[TensorRef] = []
            _refs_keras3(kw, kw_refs)
            refs.extend(kw_refs)
            kwargs = {k: v for k, v in kw.items() if not isinstance(v, (dict, list))}
            scalars = [a for a in node.get("args", []) if isinstance(a, (int, float)) and not isinstance(a, bool)]
            if scalars:  # a keras.ops node called with a number: `x + 3.0` is Add(x, 3.0)
                kwargs[SCALAR_ARGS] = tuple(scalars)
        elif isinstance(node, list):  # Keras 2: [[name, node, index, kwargs], ...]
            for item in node:
                if _is_ref(item):
                    refs.append(TensorRef(item[0], item[1], item[2]))
                    if len(item) > 3 and isinstance(item[3], dict):
                        for k, v in item[3].items():
                            if _is_ref(v):
                                refs.append(TensorRef(v[0], v[1], v[2]))
                            elif not isinstance(v, (dict, list)):
                                kwargs[k] = v
        out.append((refs, kwargs))
    return out


def io_refs(value: Any) -> list[tuple[str, int, int]]:
    """input_layers / output_layers: ['x', 0, 0] (Keras 3, one) or [['x', 0, 0], ...] or a dict."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [r for v in value.values() for r in io_refs(v)]
    if _is_ref(value):
        return [(value[0], value[1], value[2])]
    out: list[tuple[str, int, int]] = []
    for v in value:
        out.extend(io_refs(v))
    return out


# --------------------------------------------------------------------------------------
# layers


def layer_name(entry: dict[str, Any]) -> str:
    """The name of a layer entry: its `name`, else its config's."""
    cfg = entry.get("config") or {}
    name = entry.get("name") or (cfg.get("name") if isinstance(cfg, dict) else None)
    if not name:
        raise UsageError(f"a Keras layer of class {entry.get('class_name')} has no name", "the config may be damaged")
    return str(name)


def declared_shape(cfg: dict[str, Any]) -> KShape | None:
    """The input shape a layer config declares (batch first, None for a dynamic axis), or None."""
    for key in ("batch_shape", "batch_input_shape"):
        if isinstance(cfg.get(key), list):
            return tuple(cfg[key])
    if isinstance(cfg.get("input_shape"), list):
        return (None, *cfg["input_shape"])
    return None


def walk_layers(record: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every layer entry of a model record, those of nested models included."""
    cfg = record.get("config") or {}
    for e in cfg.get("layers", []) if isinstance(cfg, dict) else []:
        yield e
        if e.get("class_name") in MODEL_CLASSES:
            yield from walk_layers(e)


def uses_channels_first(record: dict[str, Any]) -> bool:
    """Whether most conv/pool layers of the model say data_format=channels_first."""
    formats = [
        e.get("config", {}).get("data_format")
        for e in walk_layers(record)
        if isinstance(e.get("config"), dict)
        and e["config"].get("data_format")
        and str(e.get("class_name", "")).startswith(
            ("Conv", "Depthwise", "Separable", "MaxPool", "AveragePool", "AvgPool")
        )
    ]
    return bool(formats) and formats.count("channels_first") > formats.count("channels_last")

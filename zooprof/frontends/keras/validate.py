"""Checks on a Keras model config before anything is computed from it, and before any Keras
loader sees it: the one validation helper of the Keras and TF.js readers (and of the tensorflow
runtime, which scans a file's config before loading it).

- `scan_config(record, source, trust)`: one iterative walk of the whole model record:
  structure (layers are JSON objects with a class name, a name and a config object), limits
  (models nested at most MAX_MODEL_NESTING deep, at most `ZOOPROF_MAX_KERAS_LAYERS` layers),
  code at any depth (Lambda and the other code classes, custom classes, Keras 3 `__lambda__`
  functions: inside TimeDistributed, Bidirectional, RNN cells and nested models as well as at
  the top), inbound-node references (tensor indices >= 0), declared input shapes (positive
  ints up to MAX_DIM, or None) and the fields the layer handlers read (`FIELDS`: kernel sizes,
  strides, dilations and pool sizes positive ints, filters and units positive ints and
  present, groups >= 1, padding modes, ZeroPadding/Cropping >= 0, finite numbers).
- (an axis against the rank of the tensor it applies to is known only while the model is
  walked: `zooprof.frontends.keras.shapes.axes_in_rank`.)
- `check_manifest`: a TF.js weightsManifest (groups, paths, weights with name, shape, dtype).

Every refusal is one UsageError naming the file, the layer and the field, and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.keras.constants import CODE_CLASSES, INPUT_CLASSES, MODEL_CLASSES
from zooprof.frontends.keras.registry import is_custom
from zooprof.frontends.limits import MAX_DIM, MAX_TENSOR_ELEMENTS, size_cap

MAX_MODEL_NESTING = 32
LAYERS_ENV = "ZOOPROF_MAX_KERAS_LAYERS"
MAX_LAYERS = 200_000
DAMAGED = "the config may be damaged; re-export the model"

#: keys whose value is a layer record (or a list of them) inside a layer's config
LAYER_KEYS = ("layer", "backward_layer", "forward_layer", "cell")
LAYER_LIST_KEYS = ("cells",)


def short(value: Any) -> str:
    """A config value for a message: its repr, cut at 40 characters."""
    return cut(repr(value))


def cut(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


# --------------------------------------------------------------------------------------
# field checks: each returns what is allowed when the value is not, else None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def positive(v: Any) -> str | None:
    return None if _is_int(v) and 1 <= v <= MAX_DIM else f"a positive integer up to {MAX_DIM:,}"


def positive_tuple(v: Any) -> str | None:
    items = v if isinstance(v, list) else [v]
    ok = bool(items) and all(positive(x) is None for x in items)
    return None if ok else f"a positive integer (up to {MAX_DIM:,}) or a list of them"


def non_negative_tuple(v: Any) -> str | None:
    items = v if isinstance(v, list) else [v]
    ok = bool(items) and all(_is_int(x) and 0 <= x <= MAX_DIM for x in items)
    return None if ok else "an integer >= 0 or a list of them"


def padding_amounts(v: Any) -> str | None:
    items = v if isinstance(v, list) else [v]
    flat = [y for x in items for y in (x if isinstance(x, list) else [x])]
    ok = bool(items) and all(not isinstance(x, list) or len(x) == 2 for x in items)
    ok = ok and all(_is_int(x) and 0 <= x <= MAX_DIM for x in flat)
    return None if ok else "an integer >= 0, a list of them, or a list of (before, after) pairs of them"


def one_of(*allowed: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        return None if isinstance(v, str) and v.lower() in allowed else " or ".join(repr(a) for a in allowed)

    return check


def axis_value(v: Any) -> str | None:
    items = v if isinstance(v, list) else [v]
    ok = bool(items) and all(_is_int(x) and -64 <= x < 64 for x in items)
    return None if ok else "an axis (an integer) or a list of axes"


def finite(v: Any) -> str | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return None if ok else "a finite number"


def target_shape(v: Any) -> str | None:
    ok = isinstance(v, list) and all(_is_int(x) and (x == -1 or 1 <= x <= MAX_DIM) for x in v)
    return None if ok else "a list of positive integers (one may be -1)"


def axes_list(v: Any) -> str | None:
    items = v if isinstance(v, list) else [v]
    return None if all(_is_int(x) and 0 <= x < 64 for x in items) else "an axis or a list of axes"


def int_list(v: Any) -> str | None:
    return None if isinstance(v, list) and all(_is_int(x) and 0 <= x < 64 for x in v) else "a list of axes"


Check = Callable[[Any], str | None]
#: (field, check, required): a field absent or None is accepted unless required
Field = tuple[str, Check, bool]


def _names(*groups: tuple[str, ...]) -> list[str]:
    return [n for g in groups for n in g]


def _nd(*stems: str) -> tuple[str, ...]:
    return tuple(f"{s}{d}D" for s in stems for d in (1, 2, 3))


_CONV_COMMON: tuple[Field, ...] = (
    ("kernel_size", positive_tuple, True),
    ("strides", positive_tuple, False),
    ("dilation_rate", positive_tuple, False),
    ("padding", one_of("valid", "same", "causal"), False),
)
_FILTERS: Field = ("filters", positive, True)
_POOL: tuple[Field, ...] = (
    ("pool_size", positive_tuple, False),
    ("strides", positive_tuple, False),
    ("padding", one_of("valid", "same"), False),
)
_RELU: tuple[Field, ...] = (
    ("max_value", finite, False),
    ("negative_slope", finite, False),
    ("threshold", finite, False),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    **dict.fromkeys(
        _names(_nd("Conv", "Convolution", "SeparableConv", "SeparableConvolution")),
        (*_CONV_COMMON, _FILTERS, ("groups", positive, False), ("depth_multiplier", positive, False)),
    ),
    **dict.fromkeys(("DepthwiseConv1D", "DepthwiseConv2D"), (*_CONV_COMMON, ("depth_multiplier", positive, False))),
    **dict.fromkeys(
        ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose", "Deconvolution2D"),
        (
            ("kernel_size", positive_tuple, True),
            ("strides", positive_tuple, False),
            ("dilation_rate", positive_tuple, False),
            ("padding", one_of("valid", "same", "full"), False),
            ("output_padding", non_negative_tuple, False),
            _FILTERS,
        ),
    ),
    **dict.fromkeys(_names(_nd("MaxPooling", "MaxPool", "AveragePooling", "AvgPool")), _POOL),
    "Dense": (("units", positive, True),),
    **dict.fromkeys(("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU"), (("units", positive, True),)),
    **dict.fromkeys(("BatchNormalization", "LayerNormalization", "Normalization"), (("axis", axis_value, False),)),
    "GroupNormalization": (("groups", positive, False), ("axis", axis_value, False)),
    "ReLU": _RELU,
    "LeakyReLU": (("negative_slope", finite, False), ("alpha", finite, False)),
    "ELU": (("alpha", finite, False),),
    "PReLU": (("shared_axes", axes_list, False),),
    "Softmax": (("axis", axis_value, False),),
    "Concatenate": (("axis", axis_value, False),),
    "Reshape": (("target_shape", target_shape, True),),
    "Permute": (("dims", int_list, True),),
    **dict.fromkeys(_nd("ZeroPadding"), (("padding", padding_amounts, False),)),
    **dict.fromkeys(_nd("Cropping"), (("cropping", padding_amounts, False),)),
    **dict.fromkeys(_nd("UpSampling"), (("size", positive_tuple, False),)),
    "Resizing": (("height", positive, True), ("width", positive, True)),
    "Embedding": (("input_dim", positive, True), ("output_dim", positive, True)),
    "LayerScale": (("projection_dim", positive, True),),
}

DATA_FORMAT = one_of("channels_last", "channels_first")
SHAPE_KEYS = ("batch_shape", "batch_input_shape", "input_shape")


# --------------------------------------------------------------------------------------
# the walk


class _Scan:
    def __init__(self, source: str, trust: bool) -> None:
        self.source = source
        self.trust = trust
        self.layers = 0
        self.cap = size_cap(LAYERS_ENV, MAX_LAYERS)

    def fail(self, where: str, what: str, hint: str = DAMAGED) -> UsageError:
        return UsageError(f"{self.source}: {where}: {what}", hint)

    def model(self, record: Any, path: str, depth: int, stack: list[tuple[Any, str, int]]) -> None:
        where = f"model '{path}'" if path else "the model"
        if depth > MAX_MODEL_NESTING:
            raise self.fail(where, f"models nested more than {MAX_MODEL_NESTING} deep", "no real model nests that deep")
        cfg = record.get("config") if isinstance(record, dict) else None
        if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), list):
            raise self.fail(where, "has no list of layers")
        self.shape(cfg.get("build_input_shape"), where, "build_input_shape")
        for key in ("input_layers", "output_layers"):
            self.refs_io(cfg.get(key), where, key)
        for entry in cfg["layers"]:
            self.layers += 1
            if self.layers > self.cap:
                raise self.fail(
                    where,
                    f"more than {self.cap:,} layers",
                    f"set {LAYERS_ENV} to a larger number if the model is genuine",
                )
            name = self.layer(entry, where, path)
            if entry["class_name"] in MODEL_CLASSES:
                stack.append((entry, f"{path}/{name}" if path else name, depth + 1))

    def layer(self, entry: Any, where: str, path: str) -> str:
        if not isinstance(entry, dict):
            raise self.fail(where, f"a layer is {type(entry).__name__} {short(entry)}, not a JSON object")
        cls = entry.get("class_name")
        if not isinstance(cls, str) or not cls:
            raise self.fail(where, f"a layer has the class_name {short(cls)}, not a class name")
        cfg = entry.get("config")
        if cfg is not None and not isinstance(cfg, dict):
            raise self.fail(f"Keras layer of class {cls}", f"its config is {short(cfg)}, not a JSON object")
        cfg = cfg or {}
        name = entry.get("name") or cfg.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail(f"a Keras layer of class {cls}", f"its name is {short(name)}, not a string")
        full = f"{path}/{name}" if path else name
        self.code(entry, full)
        if cls in MODEL_CLASSES:
            return name
        lwhere = f"Keras layer '{full}' ({cls})"
        for key in SHAPE_KEYS:
            self.shape(cfg.get(key), lwhere, key)
        fmt = cfg.get("data_format")
        if fmt is not None and DATA_FORMAT(fmt) is not None:
            raise self.fail(lwhere, f"data_format {short(fmt)} is not {DATA_FORMAT(fmt)}")
        self.fields(cls, cfg, lwhere)
        if cls == "Bidirectional":
            inner = cfg.get("layer")
            if not isinstance(inner, dict) or not isinstance(inner.get("config"), dict):
                raise self.fail(lwhere, "its 'layer' is not a layer record")
            self.fields(str(inner.get("class_name")), inner["config"], lwhere + " (inner layer)")
        if cls not in INPUT_CLASSES:
            self.nodes(entry.get("inbound_nodes"), lwhere)
        return name

    def fields(self, cls: str, cfg: dict[str, Any], where: str) -> None:
        for key, check, required in FIELDS.get(cls, ()):
            value = cfg.get(key)
            if value is None:
                if required:
                    raise self.fail(where, f"has no {key}")
                continue
            allowed = check(value)
            if allowed is not None:
                raise self.fail(where, f"{key} {short(value)} is not {allowed}")

    def shape(self, value: Any, where: str, key: str) -> None:
        if value is None:
            return
        if not isinstance(value, list) or not value:
            raise self.fail(where, f"{key} {short(value)} is not a list of dimensions")
        n = 1
        for d in value:
            if d is None:
                continue
            if positive(d) is not None:
                raise self.fail(where, f"{key} {short(value)} has the dimension {short(d)}: {positive(d)} or null")
            n *= d
        if n > MAX_TENSOR_ELEMENTS:
            raise self.fail(where, f"{key} {short(value)} has {n:,} elements (at most {MAX_TENSOR_ELEMENTS:,})")

    def code(self, entry: dict[str, Any], full: str) -> None:
        """Lambda, custom classes and serialised functions anywhere inside a layer record."""
        stack: list[tuple[Any, bool]] = [(entry, True)]
        while stack:
            item, is_layer = stack.pop()
            if isinstance(item, list):
                stack.extend((v, False) for v in item)
                continue
            if not isinstance(item, dict):
                continue
            cls = item.get("class_name")
            what = None
            if isinstance(cls, str) and cls in CODE_CLASSES:
                what = "a Lambda layer" if cls == "Lambda" else f"a {cls} layer"
            elif cls == "__lambda__" or item.get("function_type") == "lambda":
                what = "a serialised Python function"
            elif is_layer and isinstance(cls, str) and cls not in INPUT_CLASSES and is_custom(item):
                what = f"a custom layer of class {short(cls)}"
            if what is not None and not self.trust:
                place = f"'{cut(full)}'" if item is entry else f"inside layer '{cut(full)}'"
                raise UsageError(
                    f"{self.source}: the model has {what} {place}: its code would run if Keras loaded the model",
                    "pass --trust if you trust the model's source; zooprof then lists it as uncounted",
                )
            cfg = item.get("config")
            for key, value in item.items():
                if key == "config" and isinstance(value, dict):
                    continue
                stack.append((value, False))
            if isinstance(cfg, dict):
                for key, value in cfg.items():
                    if key in LAYER_KEYS and isinstance(value, dict):
                        stack.append((value, True))
                    elif key in LAYER_LIST_KEYS and isinstance(value, list):
                        stack.extend((v, True) for v in value)
                    elif key == "layers" and isinstance(value, list):
                        if not (item is entry and cls in MODEL_CLASSES):  # scanned as a nested model
                            stack.extend((v, True) for v in value)
                    else:
                        stack.append((value, False))

    def nodes(self, nodes: Any, where: str) -> None:
        if nodes is None:
            return
        if not isinstance(nodes, list):
            raise self.fail(where, f"inbound_nodes {short(nodes)} is not a list")
        for node in nodes:
            if isinstance(node, dict):
                self.keras3_refs(node, where)
            elif isinstance(node, list):
                for item in node:
                    if isinstance(item, list) and item and isinstance(item[0], str):
                        self.ref(item, where, "inbound_nodes")
                        if len(item) > 3 and isinstance(item[3], dict):
                            for v in item[3].values():
                                if isinstance(v, list) and len(v) >= 3 and isinstance(v[0], str):
                                    self.ref(v, where, "inbound_nodes")
            else:
                raise self.fail(where, f"an inbound node is {short(node)}, not a list or an object")

    def keras3_refs(self, node: dict[str, Any], where: str) -> None:
        stack: list[Any] = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if item.get("class_name") == "__keras_tensor__":
                    cfg = item.get("config")
                    hist = cfg.get("keras_history") if isinstance(cfg, dict) else None
                    if not isinstance(hist, list) or len(hist) < 3 or not isinstance(hist[0], str):
                        raise self.fail(where, f"a tensor's keras_history {short(hist)} is not [layer, node, index]")
                    self.ref(hist, where, "keras_history")
                    continue
                stack.extend(item.values())

    def ref(self, ref: list[Any], where: str, key: str) -> None:
        for i, what in ((1, "node index"), (2, "tensor index")):
            v = ref[i] if len(ref) > i else None
            if not _is_int(v) or not 0 <= v <= MAX_LAYERS:
                raise self.fail(where, f"{key} {short(ref)}: the {what} {short(v)} is not an integer >= 0")

    def refs_io(self, value: Any, where: str, key: str) -> None:
        stack: list[Any] = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                if item and isinstance(item[0], str):
                    self.ref(item, where, key)
                else:
                    stack.extend(item)
            elif item is not None:
                raise self.fail(where, f"{key} holds {short(item)}, not [layer, node, index] references")


def scan_config(record: dict[str, Any], source: str, trust: bool) -> None:
    """Check a whole model record (see the module docstring); a UsageError on the first problem."""
    scan = _Scan(source, trust)
    stack: list[tuple[Any, str, int]] = [(record, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        scan.model(item, path, depth, stack)


# --------------------------------------------------------------------------------------
# TF.js weightsManifest


def check_manifest(manifest: Any, name: str, hint: str) -> None:
    """A TF.js weightsManifest: a list of {paths: [str], weights: [{name, shape, dtype}]}."""
    if not isinstance(manifest, list):
        raise UsageError(f"{name}: weightsManifest is {short(manifest)}, not a list of weight groups", hint)
    for i, group in enumerate(manifest):
        where = f"{name}: weightsManifest[{i}]"
        if not isinstance(group, dict):
            raise UsageError(f"{where} is {short(group)}, not an object", hint)
        paths = group.get("paths")
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise UsageError(f"{where}: paths {short(paths)} is not a list of file names", hint)
        weights = group.get("weights")
        if weights is None:
            continue
        if not isinstance(weights, list):
            raise UsageError(f"{where}: weights {short(weights)} is not a list of weight records", hint)
        for w in weights:
            if not isinstance(w, dict):
                raise UsageError(f"{where}: a weight is {short(w)}, not an object with name, shape and dtype", hint)
            wname = w.get("name")
            if not isinstance(wname, str):
                raise UsageError(f"{where}: a weight's name {short(wname)} is not a string", hint)
            shape = w.get("shape", [])
            if not isinstance(shape, list) or not all(_is_int(d) and 0 <= d <= MAX_DIM for d in shape):
                raise UsageError(
                    f"{where}: weight '{short(wname)}' has the shape {short(shape)}, "
                    f"not a list of integers from 0 to {MAX_DIM:,}",
                    hint,
                )
            for key in ("dtype",):
                if w.get(key) is not None and not isinstance(w.get(key), str):
                    raise UsageError(f"{where}: weight '{short(wname)}' has the {key} {short(w.get(key))}", hint)
            quant = w.get("quantization")
            if quant is not None and (not isinstance(quant, dict) or not isinstance(quant.get("dtype", ""), str)):
                raise UsageError(f"{where}: weight '{short(wname)}' has the quantization {short(quant)}", hint)

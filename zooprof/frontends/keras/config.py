"""A Keras model config -> Graph, in pure Python (no TensorFlow, no Keras import).

The config is the dict that `model.get_config()` returns, the `config` of a `.keras` file's
config.json, the `model_config` attribute of an .h5 file, or the `modelTopology` of a
TF.js layers model (a Keras 2 config written by tfjs-layers). Every dialect is read:

- Keras 2 / tf_keras / tfjs-layers: `inbound_nodes` as nested lists
  `[[["layer", node, tensor, {kwargs}], ...], ...]`, inputs declared by `batch_input_shape`;
- Keras 3: `inbound_nodes` as `[{"args": [...], "kwargs": {...}}]` holding `__keras_tensor__`
  records (with `keras_history` and the tensor's shape), inputs declared by `batch_shape`,
  dtype policies as dicts.

Nothing runs: every output shape is computed here from the layer configs, in the Keras
layout (channels last), and converted to zooprof's logical order (N, C, spatial...) when the
tensor is written into the Graph. Nested Sequential and Functional models are flattened;
the nesting stays in the layer names (`sequential_1/model1/Conv1`) and in `Layer.scope`
(`sequential_1.model1`), so `--depth` collapses by nested model.

Weights are described from the configs (kernel, bias, depthwise_kernel, gamma, beta,
moving_mean, moving_variance...). BatchNormalization's moving statistics are
non-trainable parameters, as Keras' `count_params()` counts them, so the total equals
Keras' figure and `trainable_params` equals Keras' trainable count. When the file holds the
weights too (an .h5, a .keras, a TF.js manifest), their shapes are checked against the
config: a disagreement is an error, never a silent guess.

Lambda, TFOpLambda and custom (non-Keras) layer classes carry code: they are refused unless
`trust=True`, and then listed as uncounted (OpKind.UNKNOWN). Keras layers zooprof has no rule
for (LSTM, Embedding, UpSampling2D...) are listed as uncounted too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zooprof.errors import ModelShapeError, UsageError
from zooprof.ir.graph import Graph, Layer, ParamSpec, TensorSpec, numel
from zooprof.ir.ops import OpKind

Shape = tuple[int, ...]
KShape = tuple[int | None, ...]

MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
INPUT_CLASSES = frozenset({"InputLayer"})
#: Layers that hold arbitrary Python code (or TF ops called by name).
CODE_CLASSES = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda", "TFClassMethodDispatcher"})

#: Keras activation name -> OpKind (None: identity, no layer).
ACTIVATIONS: dict[str, OpKind | None] = {
    "linear": None,
    "relu": OpKind.RELU,
    "relu6": OpKind.RELU6,
    "sigmoid": OpKind.SIGMOID,
    "tanh": OpKind.TANH,
    "softmax": OpKind.SOFTMAX,
    "swish": OpKind.SILU,
    "silu": OpKind.SILU,
    "hard_sigmoid": OpKind.HARDSIGMOID,
    "hard_swish": OpKind.HARDSWISH,
    "hard_silu": OpKind.HARDSWISH,
    "gelu": OpKind.GELU,
    "elu": OpKind.ELU,
    "selu": OpKind.ELU,
    "leaky_relu": OpKind.LEAKY_RELU,
}

#: Keras built-in layers zooprof has no rule for: listed as uncounted (OpKind.UNKNOWN), their
#: weights taken from the file when it has them. Any class neither handled nor listed here is
#: treated as custom code (refused without trust).
KNOWN_UNSUPPORTED = frozenset(
    {
        "LSTM",
        "GRU",
        "SimpleRNN",
        "RNN",
        "Bidirectional",
        "TimeDistributed",
        "ConvLSTM1D",
        "ConvLSTM2D",
        "ConvLSTM3D",
        "LSTMCell",
        "GRUCell",
        "SimpleRNNCell",
        "StackedRNNCells",
        "CuDNNLSTM",
        "CuDNNGRU",
        "MultiHeadAttention",
        "GroupQueryAttention",
        "Attention",
        "AdditiveAttention",
        "Embedding",
        "EinsumDense",
        "UpSampling1D",
        "UpSampling2D",
        "UpSampling3D",
        "Resizing",
        "CenterCrop",
        "RandomCrop",
        "Dot",
        "Maximum",
        "Minimum",
        "CategoryEncoding",
        "StringLookup",
        "IntegerLookup",
        "TextVectorization",
        "Hashing",
        "HashedCrossing",
        "Discretization",
        "LocallyConnected1D",
        "LocallyConnected2D",
        "UnitNormalization",
        "SpectralNormalization",
        "RepeatVector",
        "Masking",
        "ThresholdedReLU",
        "Softplus",
        "TFSMLayer",
        "Identity",
    }
)


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


def _dtypes(cfg: dict[str, Any]) -> tuple[str, str]:
    """(compute dtype, variable dtype) of a layer from its dtype policy; float32 by default."""
    name = _policy_name(cfg.get("dtype")) or "float32"
    if name.startswith("mixed_"):
        return name[len("mixed_") :], "float32"
    if name in ("float16", "bfloat16", "float64", "float32"):
        return name, name
    return "float32", "float32"


def _tuple(value: Any, n: int, what: str, layer: str) -> tuple[int, ...]:
    if value is None:
        raise UsageError(f"Keras layer '{layer}' has no {what} in its config", "the config may be damaged")
    if isinstance(value, (int, float)):
        return (int(value),) * n
    t = tuple(int(v) for v in value)
    if len(t) == 1 and n > 1:
        return t * n
    if len(t) != n:
        raise UsageError(
            f"Keras layer '{layer}': {what} {list(t)} does not fit {n} spatial axes", "the config may be damaged"
        )
    return t


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
        try:
            config = json.loads(config)
        except ValueError as exc:
            raise UsageError(f"the Keras model config is not valid JSON ({exc})", "the file may be damaged") from None
    if not isinstance(config, dict):
        raise UsageError("the Keras model config is not a JSON object", "the file may be damaged")
    # a live get_config() holds tuples (and numpy scalars): make it plain JSON data
    config = _untuple(json.loads(json.dumps(config, default=_jsonable)))
    if "model_config" in config and isinstance(config["model_config"], dict):
        config = config["model_config"]
    if "class_name" in config and "config" in config:
        return config
    if "layers" in config:
        kind = "Functional" if "input_layers" in config or "output_layers" in config else "Sequential"
        return {"class_name": kind, "config": config}
    raise UsageError("the Keras config describes no model (no layers)", "the file may be damaged or not a Keras model")


# --------------------------------------------------------------------------------------
# tensors and weights


@dataclass(frozen=True)
class KTensor:
    """A tensor while the config is read: its IR name, Keras-layout shape (batch first), dtype."""

    name: str
    shape: Shape
    dtype: str = "float32"


@dataclass
class FileWeight:
    """One weight tensor found in a model file: the Keras layer it belongs to (when the file
    names it), the variable name, and its shape."""

    layer: str | None
    var: str
    shape: Shape
    dtype: str = "float32"
    path: str = ""  # the full name in the file, e.g. 'lstm/lstm_cell/kernel:0'


def weight_key(name: str) -> tuple[str | None, str]:
    """'sequential_1/Conv1/kernel:0' -> ('Conv1', 'kernel')."""
    name = name.split(":")[0]
    parts = [p for p in name.split("/") if p]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return None, parts[-1] if parts else name


@dataclass
class _Expected:
    layer: str  # Keras layer name (leaf)
    var: str
    shape: Shape
    ir_index: int  # index of the IR layer holding it


@dataclass
class _Ctx:
    """Where a (possibly nested) model sits: IR name prefix, scope, weight prefix, trainable."""

    names: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    trainable: bool = True

    def child(self, name: str, call: int, trainable: bool) -> _Ctx:
        shown = name if call == 0 else f"{name}#{call}"
        return _Ctx((*self.names, shown), (*self.params, name), self.trainable and trainable)


@dataclass
class _Builder:
    trust: bool
    channels_first: bool
    batch: int
    user_shapes: list[Shape] | None  # logical
    layers: list[Layer] = field(default_factory=list)
    inputs: list[TensorSpec] = field(default_factory=list)
    used_shapes: list[Shape] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    expected: list[_Expected] = field(default_factory=list)
    seen_params: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    unknown_layers: dict[str, list[int]] = field(default_factory=dict)  # keras leaf name -> IR indices
    assumed_shapes: list[str] = field(default_factory=list)
    dense_as_conv: int = 0
    check_recorded: bool = True
    input_notes: list[str] = field(default_factory=list)
    extra_outputs: list[KTensor] = field(default_factory=list)  # of the last emitted layer

    # ---------------------------------------------------------------- layout
    def logical(self, shape: Shape) -> Shape:
        if self.channels_first or len(shape) < 3:
            return tuple(shape)
        return (shape[0], shape[-1], *shape[1:-1])

    def logical_axis(self, axis: int, rank: int) -> int:
        a = axis % rank
        if self.channels_first or rank < 3 or a == 0:
            return a
        return 1 if a == rank - 1 else a + 1

    def spec(self, t: KTensor) -> TensorSpec:
        return TensorSpec(t.name, self.logical(t.shape), t.dtype)

    # ---------------------------------------------------------------- emit
    def emit(
        self,
        ctx: _Ctx,
        name: str,
        op: OpKind,
        source_op: str,
        inputs: Sequence[KTensor],
        out_shape: Shape,
        dtype: str,
        attrs: dict[str, Any] | None = None,
        params: Iterable[tuple[str, str, Shape, str, str]] = (),
        keras_name: str | None = None,
        extra_outputs: Sequence[Shape] = (),
    ) -> KTensor:
        """Add one IR layer. `params`: (keras layer, var, shape, dtype, kind) per weight."""
        full = "/".join((*ctx.names, name))
        if any(d is None or d < 0 for d in out_shape):
            raise ModelShapeError(
                f"cannot compute the output shape of Keras layer '{full}' ({source_op}): got {list(out_shape)}",
                "give --input-shape with every dimension",
            )
        if any(d == 0 for d in out_shape):
            raise ModelShapeError(
                f"Keras layer '{full}' ({source_op}) gives an empty output {list(out_shape)} "
                f"for the input {'x'.join(map(str, inputs[0].shape)) if inputs else ''}",
                "the input is too small for the model; give a larger --input-shape",
            )
        specs: list[ParamSpec] = []
        for keras_layer, var, shape, pdtype, kind in params:
            pname = "/".join((*ctx.params, keras_layer, var))
            if not ctx.trainable and kind == "trainable":
                kind = "non_trainable"
            specs.append(ParamSpec(pname, tuple(int(d) for d in shape), pdtype, kind))  # type: ignore[arg-type]
            if pname not in self.seen_params:
                self.seen_params.add(pname)
                self.expected.append(_Expected(keras_layer, var, tuple(int(d) for d in shape), len(self.layers)))
        out = KTensor(full, tuple(int(d) for d in out_shape), dtype)  # type: ignore[arg-type]
        extra = [
            KTensor(f"{full}:{i + 1}", tuple(int(d) for d in shape), dtype) for i, shape in enumerate(extra_outputs)
        ]
        self.extra_outputs = extra
        # scope: the dotted path of the Keras layer itself (as PyTorch module paths), so
        # `--depth` groups a layer with its sub-layers (conv + activation) and by nested model
        scope = ".".join(n.replace(".", "_") for n in (*ctx.names, name.split("/")[0]))
        layer = Layer(
            full,
            op,
            source_op,
            tuple(self.spec(t) for t in inputs),
            (self.spec(out), *(self.spec(t) for t in extra)),
            dict(attrs or {}),
            tuple(specs),
            scope,
        )
        if op is OpKind.UNKNOWN:
            self.unknown.append(f"{full} ({source_op})")
            if keras_name is not None:
                self.unknown_layers.setdefault(keras_name, []).append(len(self.layers))
        self.layers.append(layer)
        return out


# --------------------------------------------------------------------------------------
# shape arithmetic (Keras layout)


def _spatial_axes(rank: int, data_format: str | None) -> tuple[list[int], int]:
    """(spatial axes, channel axis) of a Keras-layout tensor for a layer's data_format."""
    if data_format == "channels_first":
        return list(range(2, rank)), 1
    return list(range(1, rank - 1)), rank - 1


def _window(size: int, k: int, s: int, d: int, padding: str, layer: str) -> tuple[int, tuple[int, int]]:
    """Output length and (before, after) padding of a Keras sliding window."""
    k_eff = (k - 1) * d + 1
    if padding == "same":
        out = -(-size // s)
        total = max((out - 1) * s + k_eff - size, 0)
        return out, (total // 2, total - total // 2)
    if padding == "causal":
        return -(-size // s), ((k - 1) * d, 0)
    if padding == "valid":
        if size < k_eff:
            raise ModelShapeError(
                f"Keras layer '{layer}': window {k_eff} is larger than its input ({size})",
                "the input is too small for the model; give a larger --input-shape",
            )
        return (size - k_eff) // s + 1, (0, 0)
    raise UsageError(
        f"Keras layer '{layer}' has padding '{padding}', which zooprof does not know",
        "expected 'valid', 'same' or 'causal'",
    )


def _pad_attr(pairs: Sequence[tuple[int, int]]) -> Any:
    """Per-axis ints when symmetric, else per-axis (before, after) pairs (zooprof.rules.base.pads)."""
    if all(a == b for a, b in pairs):
        return tuple(a for a, _ in pairs)
    return tuple((a, b) for a, b in pairs)


def _broadcast(shapes: Sequence[Shape], layer: str) -> Shape:
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for dims in zip(*padded, strict=True):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ModelShapeError(
                f"Keras layer '{layer}': inputs {[list(s) for s in shapes]} do not broadcast",
                "the model does not fit this input shape",
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _deconv_length(size: int, k: int, padding: str, out_pad: int | None, s: int, d: int) -> int:
    """keras.src.utils.conv_utils.deconv_output_length."""
    k = k + (k - 1) * (d - 1)
    if out_pad is None:
        if padding == "valid":
            return size * s + max(k - s, 0)
        if padding == "full":
            return size * s - (s + k - 2)
        return size * s
    pad = {"same": k // 2, "valid": 0, "full": k - 1}.get(padding, 0)
    return (size - 1) * s + k - 2 * pad + out_pad


# --------------------------------------------------------------------------------------
# inbound nodes (both dialects)


@dataclass(frozen=True)
class _Ref:
    layer: str
    node: int
    index: int
    shape: KShape | None = None  # what a Keras 3 config records for the tensor


def _refs_keras3(value: Any, out: list[_Ref]) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            cfg = value.get("config", {})
            hist = cfg.get("keras_history") or []
            if len(hist) >= 3:
                shape = cfg.get("shape")
                out.append(
                    _Ref(str(hist[0]), int(hist[1]), int(hist[2]), tuple(shape) if isinstance(shape, list) else None)
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


def parse_nodes(entry: dict[str, Any]) -> list[tuple[list[_Ref], dict[str, Any]]]:
    """The calls of a Functional model's layer: per call, its input tensors and kwargs."""
    nodes = entry.get("inbound_nodes") or []
    out: list[tuple[list[_Ref], dict[str, Any]]] = []
    for node in nodes:
        refs: list[_Ref] = []
        kwargs: dict[str, Any] = {}
        if isinstance(node, dict):  # Keras 3
            _refs_keras3(node.get("args", []), refs)
            kw = node.get("kwargs", {}) or {}
            kw_refs: list[_Ref] = []
            _refs_keras3(kw, kw_refs)
            refs.extend(kw_refs)
            kwargs = {k: v for k, v in kw.items() if not isinstance(v, (dict, list))}
        elif isinstance(node, list):  # Keras 2: [[name, node, index, kwargs], ...]
            for item in node:
                if _is_ref(item):
                    refs.append(_Ref(item[0], item[1], item[2]))
                    if len(item) > 3 and isinstance(item[3], dict):
                        for k, v in item[3].items():
                            if _is_ref(v):
                                refs.append(_Ref(v[0], v[1], v[2]))
                            elif not isinstance(v, (dict, list)):
                                kwargs[k] = v
        out.append((refs, kwargs))
    return out


def _io_refs(value: Any) -> list[tuple[str, int, int]]:
    """input_layers / output_layers: ['x', 0, 0] (Keras 3, one) or [['x', 0, 0], ...] or a dict."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [r for v in value.values() for r in _io_refs(v)]
    if _is_ref(value):
        return [(value[0], value[1], value[2])]
    out: list[tuple[str, int, int]] = []
    for v in value:
        out.extend(_io_refs(v))
    return out


# --------------------------------------------------------------------------------------
# the reader


def _layer_name(entry: dict[str, Any]) -> str:
    cfg = entry.get("config") or {}
    name = entry.get("name") or (cfg.get("name") if isinstance(cfg, dict) else None)
    if not name:
        raise UsageError(f"a Keras layer of class {entry.get('class_name')} has no name", "the config may be damaged")
    return str(name)


def _declared_shape(cfg: dict[str, Any]) -> KShape | None:
    for key in ("batch_shape", "batch_input_shape"):
        if isinstance(cfg.get(key), list):
            return tuple(cfg[key])
    if isinstance(cfg.get("input_shape"), list):
        return (None, *cfg["input_shape"])
    return None


def _is_custom(entry: dict[str, Any]) -> bool:
    """A class that is not Keras' own: its module (Keras 3) says so, or zooprof does not know it."""
    module = entry.get("module")
    cls = entry.get("class_name", "")
    registered = entry.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        return True
    if isinstance(module, str) and module:  # Keras 3 (and tf_keras .keras) name the class's module
        return not module.startswith(("keras", "tf_keras", "tensorflow"))
    return cls not in HANDLERS and cls not in KNOWN_UNSUPPORTED and cls not in MODEL_CLASSES


class _Reader:
    def __init__(self, b: _Builder) -> None:
        self.b = b
        self.n_inputs = 0

    # ---------------------------------------------------------------- inputs
    def graph_input(self, name: str, declared: KShape | None, dtype: str) -> KTensor:
        b = self.b
        i = self.n_inputs
        self.n_inputs += 1

        def shown(shape: Sequence[int | None]) -> str:
            return "x".join("?" if d is None else str(d) for d in b.logical(tuple(shape)))  # type: ignore[arg-type]

        if b.user_shapes is not None:
            if i >= len(b.user_shapes):
                raise UsageError(
                    f"the model has more inputs than --input-shape gives ({len(b.user_shapes)})",
                    "give one shape per input, separated by commas",
                )
            logical = b.user_shapes[i]
            keras = logical if b.channels_first or len(logical) < 3 else (logical[0], *logical[2:], logical[1])
            if declared is not None:
                if len(declared) != len(keras):
                    raise UsageError(
                        f"input '{name}' has rank {len(declared)} (N, C, spatial: {shown(declared)}), "
                        f"--input-shape gives {'x'.join(map(str, logical))} (rank {len(logical)})",
                        f"give a shape of rank {len(declared)}, batch first, channels second",
                    )
                if any(d is not None and d != k for d, k in zip(declared[1:], keras[1:], strict=True)):
                    b.input_notes.append(
                        f"input '{name}': the model declares {shown(declared)}, analysed at "
                        f"{'x'.join(map(str, logical))} (--input-shape)"
                    )
                    b.check_recorded = False
                elif any(d is None for d in declared[1:]):
                    b.check_recorded = False
            shape: tuple[int, ...] = tuple(int(d) for d in keras)
        else:
            if declared is None:
                raise UsageError(f"input '{name}' has no shape in the Keras config", "give --input-shape")
            if any(d is None for d in declared[1:]):
                raise UsageError(
                    f"input '{name}' has dynamic dimensions (N, C, spatial: {shown(declared)}) and no "
                    "--input-shape was given",
                    "give one, batch first, channels second, e.g. --input-shape 1x3x224x224",
                )
            shape = (b.batch if declared[0] is None else int(declared[0]), *(int(d) for d in declared[1:]))  # type: ignore[arg-type]
        t = KTensor(name, shape, dtype)
        b.inputs.append(b.spec(t))
        b.used_shapes.append(b.logical(t.shape))
        return t

    # ---------------------------------------------------------------- models
    def model(self, record: dict[str, Any], ctx: _Ctx, inputs: list[KTensor] | None) -> list[KTensor]:
        cls = record.get("class_name")
        cfg = record.get("config") or {}
        if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), list):
            raise UsageError(
                f"the nested Keras model '{'/'.join(ctx.names) or cls}' has no layers", "the config may be damaged"
            )
        if cls == "Sequential" or ("input_layers" not in cfg and "output_layers" not in cfg):
            return self.sequential(cfg, ctx, inputs)
        return self.functional(cfg, ctx, inputs)

    def sequential(self, cfg: dict[str, Any], ctx: _Ctx, inputs: list[KTensor] | None) -> list[KTensor]:
        current: list[KTensor] | None = list(inputs) if inputs is not None else None
        layers = cfg["layers"]
        if current is None and layers and layers[0].get("class_name") not in INPUT_CLASSES | MODEL_CLASSES:
            # Keras 2 style: the first layer declares the input (batch_input_shape)
            first = layers[0]
            first_cfg = first.get("config") or {}
            declared = _declared_shape(first_cfg)
            if declared is None and isinstance(cfg.get("build_input_shape"), list):
                declared = tuple(cfg["build_input_shape"])
            current = [
                self.graph_input(self.top_name(ctx, f"{_layer_name(first)}_input"), declared, _dtypes(first_cfg)[0])
            ]
        for entry in layers:
            cls = entry.get("class_name")
            if cls in INPUT_CLASSES:
                if current is None:
                    lcfg = entry.get("config") or {}
                    current = [
                        self.graph_input(
                            self.top_name(ctx, _layer_name(entry)), _declared_shape(lcfg), _input_dtype(lcfg)
                        )
                    ]
                continue
            if current is None:  # a nested model that declares its own input
                current = self.call(entry, ctx, None, {}, 0, {})
                continue
            current = self.call(entry, ctx, current, {}, 0, {})
        if current is None:
            raise UsageError(f"the Keras Sequential model '{cfg.get('name')}' has no layers", "the config is empty")
        return current

    def top_name(self, ctx: _Ctx, name: str) -> str:
        return "/".join((*ctx.names, name))

    def functional(self, cfg: dict[str, Any], ctx: _Ctx, inputs: list[KTensor] | None) -> list[KTensor]:
        entries = {_layer_name(e): e for e in cfg["layers"]}
        produced: dict[tuple[str, int], list[KTensor]] = {}
        in_refs = _io_refs(cfg.get("input_layers"))
        if inputs is not None:
            if len(in_refs) != len(inputs):
                raise UsageError(
                    f"the nested Keras model '{cfg.get('name')}' takes {len(in_refs)} input(s), "
                    f"it is called with {len(inputs)}",
                    "the config may be damaged",
                )
            for (name, node, _), t in zip(in_refs, inputs, strict=True):
                produced[(name, node)] = [t]
        else:
            for name, node, _ in in_refs:
                entry = entries.get(name)
                if entry is None:
                    raise UsageError(
                        f"the Keras model's input '{name}' is not among its layers", "the config may be damaged"
                    )
                lcfg = entry.get("config") or {}
                produced[(name, node)] = [
                    self.graph_input(self.top_name(ctx, name), _declared_shape(lcfg), _input_dtype(lcfg))
                ]
        pending: list[tuple[str, int, list[_Ref], dict[str, Any]]] = []
        recorded: dict[tuple[str, int, int], KShape] = {}
        for e in cfg["layers"]:
            if e.get("class_name") in INPUT_CLASSES:
                continue
            for k, (refs, kwargs) in enumerate(parse_nodes(e)):
                pending.append((_layer_name(e), k, refs, kwargs))
                for r in refs:
                    if r.shape is not None:
                        recorded[(r.layer, r.node, r.index)] = r.shape
        while pending:
            progressed = False
            rest = []
            for name, k, refs, kwargs in pending:
                tensors = [self.lookup(produced, r) for r in refs]
                if any(t is None for t in tensors):
                    rest.append((name, k, refs, kwargs))
                    continue
                self.check_recorded(refs, tensors)  # type: ignore[arg-type]
                produced[(name, k)] = self.call(
                    entries[name],
                    ctx,
                    tensors,
                    kwargs,
                    k,  # type: ignore[arg-type]
                    {i: s for (n, kk, i), s in recorded.items() if n == name and kk == k},
                )
                progressed = True
            if not progressed:
                name, _, refs, _ = rest[0]
                waits = [r.layer for r in refs if self.lookup(produced, r) is None]
                raise UsageError(
                    f"Keras layer '{name}' reads from '{waits[0]}', which nothing produces", "the config may be damaged"
                )
            pending = rest
        outs = []
        for name, node, index in _io_refs(cfg.get("output_layers")):
            t = self.lookup(produced, _Ref(name, node, index))
            if t is None:
                raise UsageError(f"the Keras model's output '{name}' is never computed", "the config may be damaged")
            outs.append(t)
        return outs

    def check_recorded(self, refs: list[_Ref], tensors: list[KTensor]) -> None:
        """Keras 3 records each tensor's shape where it is read: the computed shape must agree."""
        if not self.b.check_recorded:
            return
        for r, t in zip(refs, tensors, strict=True):
            if r.shape is None or len(r.shape) != len(t.shape):
                continue
            if any(d is not None and d != g for d, g in zip(r.shape[1:], t.shape[1:], strict=True)):
                got = "x".join(map(str, self.b.logical(t.shape)))
                want = "x".join("?" if d is None else str(d) for d in self.b.logical(r.shape))  # type: ignore[arg-type]
                raise ModelShapeError(
                    f"Keras layer '{r.layer}': zooprof computes the output {got}, the config records {want}",
                    "please report this model: zooprof misreads one of its layers",
                )

    @staticmethod
    def lookup(produced: dict[tuple[str, int], list[KTensor]], ref: _Ref) -> KTensor | None:
        got = produced.get((ref.layer, ref.node))
        if got is None:
            calls = [k for (n, k) in produced if n == ref.layer]
            if len(calls) == 1 and ref.node == calls[0] + 1:  # a nested model's own first node counted
                got = produced[(ref.layer, calls[0])]
        if got is None or ref.index >= len(got):
            return None
        return got[ref.index]

    # ---------------------------------------------------------------- one call
    def call(
        self,
        entry: dict[str, Any],
        ctx: _Ctx,
        inputs: list[KTensor] | None,
        kwargs: dict[str, Any],
        k: int,
        recorded: dict[int, KShape],
    ) -> list[KTensor]:
        b = self.b
        cls = str(entry.get("class_name"))
        name = _layer_name(entry)
        cfg = entry.get("config") or {}
        if cls in MODEL_CLASSES:
            trainable = bool(cfg.get("trainable", True)) if isinstance(cfg, dict) else True
            return self.model(entry, ctx.child(name, k, trainable), inputs)
        if inputs is None:
            raise UsageError(
                f"Keras layer '{name}' has no input (the model declares no input shape)", "give --input-shape"
            )
        shown = name if k == 0 else f"{name}#{k}"
        lctx = ctx if cfg.get("trainable", True) is not False else _Ctx(ctx.names, ctx.params, False)
        full = "/".join((*ctx.names, shown))
        if cls in CODE_CLASSES or _is_custom(entry):
            what = (
                "a Lambda layer"
                if cls == "Lambda"
                else f"a {cls} layer"
                if cls in CODE_CLASSES
                else f"a custom layer of class '{cls}'"
            )
            if not b.trust:
                raise UsageError(
                    f"the model has {what} '{full}': its code would run if Keras loaded the model",
                    "pass --trust if you trust the model's source; zooprof then lists it as uncounted",
                )
            return [self.unknown(cls, name, lctx, shown, inputs, cfg, recorded.get(0), code=True)]
        handler = HANDLERS.get(cls)
        if handler is None:
            return [self.unknown(cls, name, lctx, shown, inputs, cfg, recorded.get(0), code=False)]
        compute, var = _dtypes(cfg)
        outs = handler(_Call(b, lctx, shown, name, cls, cfg, compute, var, kwargs), inputs)
        return outs if isinstance(outs, list) else [outs]

    def unknown(
        self,
        cls: str,
        name: str,
        ctx: _Ctx,
        shown: str,
        inputs: list[KTensor],
        cfg: dict[str, Any],
        recorded: KShape | None,
        code: bool,
    ) -> KTensor:
        """A layer without a rule: OpKind.UNKNOWN, its output shape from the config if it has one."""
        b = self.b
        shape = recorded
        declared = cfg.get("output_shape")
        if (
            shape is None
            and isinstance(declared, list)
            and declared
            and all(isinstance(d, int) or d is None for d in declared)
        ):
            shape = (None, *declared)
        full = "/".join((*ctx.names, shown))
        if shape is None or any(d is None for d in shape[1:]):
            shape = inputs[0].shape if inputs else (b.batch,)
            b.assumed_shapes.append(full)
        out = (inputs[0].shape[0] if inputs else b.batch, *shape[1:])
        dtype = inputs[0].dtype if inputs else "float32"
        return b.emit(
            ctx,
            shown,
            OpKind.UNKNOWN,
            cls,
            inputs,
            out,
            dtype,  # type: ignore[arg-type]
            {"keras_class": cls, **({"code": True} if code else {})},
            keras_name=name,
        )


def _input_dtype(cfg: dict[str, Any]) -> str:
    d = _policy_name(cfg.get("dtype")) or "float32"
    return (
        d
        if d in ("float32", "float16", "bfloat16", "float64", "int32", "int64", "uint8", "int8", "int16", "bool")
        else "float32"
    )


# --------------------------------------------------------------------------------------
# layer handlers


@dataclass
class _Call:
    b: _Builder
    ctx: _Ctx
    shown: str  # IR name of the layer (with #k for a second call)
    name: str  # Keras layer name
    cls: str
    cfg: dict[str, Any]
    dtype: str  # compute dtype
    var_dtype: str
    kwargs: dict[str, Any]

    def emit(
        self,
        op: OpKind,
        inputs: Sequence[KTensor],
        out: Shape,
        attrs: dict[str, Any] | None = None,
        params: Iterable[tuple[str, Shape, str]] = (),
        suffix: str = "",
        source_op: str | None = None,
        dtype: str | None = None,
        extra_outputs: Sequence[Shape] = (),
    ) -> KTensor:
        plist = [
            (
                self.name,
                var,
                shape,
                self.var_dtype if kind != "int64" else "int64",
                "non_trainable" if kind == "int64" else kind,
            )
            for var, shape, kind in params
        ]
        return self.b.emit(
            self.ctx,
            self.shown + suffix,
            op,
            source_op or self.cls,
            inputs,
            out,
            dtype or self.dtype,
            attrs,
            plist,
            keras_name=self.name,
            extra_outputs=extra_outputs,
        )

    def activation(self, t: KTensor, value: Any, suffix: str = "/activation") -> KTensor:
        """The built-in `activation` of a Conv/Dense: a separate layer after it (none for linear)."""
        name = _activation_name(value)
        if name is None:
            return t
        op = ACTIVATIONS.get(name, OpKind.UNKNOWN)
        if op is None:
            return t
        attrs: dict[str, Any] = {"activation": name}
        if op is OpKind.SOFTMAX:
            attrs["axis"] = self.b.logical_axis(-1, len(t.shape))
        return self.emit(op, [t], t.shape, attrs, suffix=suffix, source_op=f"activation={name}")

    def get(self, key: str, default: Any = None) -> Any:
        v = self.cfg.get(key, default)
        return default if v is None else v


def _activation_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("config", "registered_name", "class_name"):
            v = value.get(key)
            if isinstance(v, str):
                return v
            if isinstance(v, dict) and isinstance(v.get("name"), str):
                return v["name"]
    return str(value)


def _one(c: _Call, inputs: list[KTensor]) -> KTensor:
    if len(inputs) != 1:
        raise UsageError(
            f"Keras layer '{c.shown}' ({c.cls}) takes one input, the config gives {len(inputs)}",
            "the config may be damaged",
        )
    return inputs[0]


def _conv_geometry(
    c: _Call, inputs: list[KTensor]
) -> tuple[KTensor, list[int], int, tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The input, its spatial axes and channel axis, and kernel, strides, dilation of a conv layer."""
    x = _one(c, inputs)
    sp, ch = _spatial_axes(len(x.shape), c.get("data_format"))
    n = len(sp)
    kernel = _tuple(c.get("kernel_size"), n, "kernel_size", c.shown)
    stride = _tuple(c.get("strides", 1), n, "strides", c.shown)
    dil = _tuple(c.get("dilation_rate", 1), n, "dilation_rate", c.shown)
    return x, sp, ch, kernel, stride, dil


def _conv(c: _Call, inputs: list[KTensor]) -> KTensor:
    x, sp, ch, kernel, stride, dil = _conv_geometry(c, inputs)
    n = len(sp)
    padding = str(c.get("padding", "valid")).lower()
    cin = x.shape[ch]
    depthwise = c.cls.startswith("DepthwiseConv")
    separable = c.cls.startswith(("SeparableConv", "SeparableConvolution"))
    if depthwise or separable:
        mult = int(c.get("depth_multiplier", 1))
        groups, cout = cin, cin * mult
    else:
        groups = int(c.get("groups", 1))
        cout = int(c.get("filters"))
        if cin % groups:
            raise ModelShapeError(f"Keras layer '{c.shown}': {cin} input channels do not split into {groups} groups")
    outs, pads = [], []
    for axis, k, s, d in zip(sp, kernel, stride, dil, strict=True):
        o, p = _window(x.shape[axis], k, s, d, padding, c.shown)
        outs.append(o)
        pads.append(p)
    shape = list(x.shape)
    for axis, o in zip(sp, outs, strict=True):
        shape[axis] = o
    shape[ch] = cout
    use_bias = bool(c.get("use_bias", True))
    attrs = {
        "kernel": kernel,
        "stride": stride,
        "padding": _pad_attr(pads),
        "dilation": dil,
        "groups": groups,
        "in_channels": cin,
        "out_channels": cout,
    }
    if separable:
        mid = c.emit(
            OpKind.CONV,
            [x],
            tuple(shape),
            {**attrs, "bias": False},
            [("depthwise_kernel", (*kernel, cin, mult), "trainable")],
            suffix="/depthwise",
            source_op=f"{c.cls} (depthwise)",
        )
        filters = int(c.get("filters"))
        shape2 = list(shape)
        shape2[ch] = filters
        params = [("pointwise_kernel", (*(1,) * n, cin * mult, filters), "trainable")]
        if use_bias:
            params.append(("bias", (filters,), "trainable"))
        y = c.emit(
            OpKind.CONV,
            [mid],
            tuple(shape2),
            {
                "kernel": (1,) * n,
                "stride": (1,) * n,
                "padding": (0,) * n,
                "dilation": (1,) * n,
                "groups": 1,
                "in_channels": cin * mult,
                "out_channels": filters,
                "bias": use_bias,
            },
            params,
            suffix="/pointwise",
            source_op=f"{c.cls} (pointwise)",
        )
        return c.activation(y, c.get("activation"))
    if depthwise:
        params = [("depthwise_kernel", (*kernel, cin, mult), "trainable")]
    else:
        params = [("kernel", (*kernel, cin // groups, cout), "trainable")]
    if use_bias:
        params.append(("bias", (cout,), "trainable"))
    y = c.emit(OpKind.CONV, [x], tuple(shape), {**attrs, "bias": use_bias}, params)
    return c.activation(y, c.get("activation"))


def _conv_transpose(c: _Call, inputs: list[KTensor]) -> KTensor:
    x, sp, ch, kernel, stride, dil = _conv_geometry(c, inputs)
    n = len(sp)
    out_pad = c.cfg.get("output_padding")
    out_pads = [None] * n if out_pad is None else list(_tuple(out_pad, n, "output_padding", c.shown))
    padding = str(c.get("padding", "valid")).lower()
    cin, cout = x.shape[ch], int(c.get("filters"))
    shape = list(x.shape)
    pads = []
    for axis, k, s, d, op in zip(sp, kernel, stride, dil, out_pads, strict=True):
        o = _deconv_length(x.shape[axis], k, padding, op, s, d)
        shape[axis] = o
        total = max((x.shape[axis] - 1) * s + (k - 1) * d + 1 - o, 0)
        pads.append((total // 2, total - total // 2))
    shape[ch] = cout
    use_bias = bool(c.get("use_bias", True))
    params = [("kernel", (*kernel, cout, cin), "trainable")]
    if use_bias:
        params.append(("bias", (cout,), "trainable"))
    y = c.emit(
        OpKind.CONV_TRANSPOSE,
        [x],
        tuple(shape),
        {
            "kernel": kernel,
            "stride": stride,
            "padding": _pad_attr(pads),
            "dilation": dil,
            "groups": 1,
            "in_channels": cin,
            "out_channels": cout,
            "bias": use_bias,
        },
        params,
    )
    return c.activation(y, c.get("activation"))


def _dense(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    units = int(c.get("units"))
    cin = x.shape[-1]
    use_bias = bool(c.get("use_bias", True))
    params = [("kernel", (cin, units), "trainable")]
    if use_bias:
        params.append(("bias", (units,), "trainable"))
    shape = (*x.shape[:-1], units)
    rank = len(x.shape)
    if rank > 2 and not c.b.channels_first:
        # Keras' Dense acts on the last (channels) axis: in N, C, spatial order that is a 1x1 conv.
        c.b.dense_as_conv += 1
        n = rank - 2
        y = c.emit(
            OpKind.CONV,
            [x],
            shape,
            {
                "kernel": (1,) * n,
                "stride": (1,) * n,
                "padding": (0,) * n,
                "dilation": (1,) * n,
                "groups": 1,
                "in_channels": cin,
                "out_channels": units,
                "bias": use_bias,
            },
            params,
            source_op="Dense (on the channel axis)",
        )
    else:
        y = c.emit(OpKind.DENSE, [x], shape, {"in_features": cin, "out_features": units, "bias": use_bias}, params)
    return c.activation(y, c.get("activation"))


def _norm_axes(c: _Call, x: KTensor, default: int | list[int]) -> list[int]:
    axis = c.cfg.get("axis", default)
    axes = axis if isinstance(axis, list) else [axis]
    return sorted(int(a) % len(x.shape) for a in axes)


def _batchnorm(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    axes = _norm_axes(c, x, -1)
    shape = tuple(x.shape[a] for a in axes)
    size = numel(shape)
    params: list[tuple[str, Shape, str]] = []
    if c.get("scale", True):
        params.append(("gamma", shape, "trainable"))
    if c.get("center", True):
        params.append(("beta", shape, "trainable"))
    params += [("moving_mean", shape, "non_trainable"), ("moving_variance", shape, "non_trainable")]
    return c.emit(
        OpKind.BATCHNORM,
        [x],
        x.shape,
        {
            "num_features": size,
            "eps": c.get("epsilon", 1e-3),
            "axis": [c.b.logical_axis(a, len(x.shape)) for a in axes],
        },
        params,
    )


def _layernorm(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    axes = _norm_axes(c, x, -1)
    shape = tuple(x.shape[a] for a in axes)
    params: list[tuple[str, Shape, str]] = []
    if c.get("scale", True):
        params.append(("gamma", shape, "trainable"))
    if c.get("center", True):
        params.append(("beta", shape, "trainable"))
    return c.emit(OpKind.LAYERNORM, [x], x.shape, {"axis": [c.b.logical_axis(a, len(x.shape)) for a in axes]}, params)


def _groupnorm(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    ch = int(c.cfg.get("axis", -1)) % len(x.shape)
    shape = (x.shape[ch],)
    params: list[tuple[str, Shape, str]] = []
    if c.get("scale", True):
        params.append(("gamma", shape, "trainable"))
    if c.get("center", True):
        params.append(("beta", shape, "trainable"))
    return c.emit(OpKind.GROUPNORM, [x], x.shape, {"groups": int(c.get("groups", 32))}, params)


def _relu(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    max_value = c.cfg.get("max_value")
    slope = float(c.cfg.get("negative_slope") or 0.0)
    threshold = float(c.cfg.get("threshold") or 0.0)
    if threshold:
        return c.emit(
            OpKind.UNKNOWN, [x], x.shape, {"keras_class": "ReLU", "threshold": threshold}, source_op="ReLU (threshold)"
        )
    if max_value is None:
        op = OpKind.LEAKY_RELU if slope else OpKind.RELU
    elif float(max_value) == 6.0 and not slope:
        op = OpKind.RELU6
    elif not slope:
        op = OpKind.HARDTANH
    else:
        return c.emit(OpKind.UNKNOWN, [x], x.shape, {"keras_class": "ReLU"}, source_op="ReLU (slope and max)")
    attrs = {"max_value": float(max_value)} if max_value is not None else {}
    if slope:
        attrs["negative_slope"] = slope
    return c.emit(op, [x], x.shape, attrs)


def _activation_layer(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    name = _activation_name(c.cfg.get("activation")) or "linear"
    op = ACTIVATIONS.get(name, OpKind.UNKNOWN)
    if op is None:
        return c.emit(OpKind.IDENTITY, [x], x.shape, {"activation": name}, source_op="Activation(linear)")
    attrs: dict[str, Any] = {"activation": name}
    if op is OpKind.SOFTMAX:
        attrs["axis"] = c.b.logical_axis(-1, len(x.shape))
    return c.emit(op, [x], x.shape, attrs, source_op=f"Activation({name})")


def _simple(op: OpKind) -> Any:
    def handler(c: _Call, inputs: list[KTensor]) -> KTensor:
        x = _one(c, inputs)
        attrs: dict[str, Any] = {}
        if c.cls == "LeakyReLU":
            slope = c.cfg.get("negative_slope", c.cfg.get("alpha"))
            attrs["negative_slope"] = 0.3 if slope is None else float(slope)
        return c.emit(op, [x], x.shape, attrs)

    return handler


def _prelu(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    shared = c.cfg.get("shared_axes") or []
    shared = [shared] if isinstance(shared, int) else shared
    shape = tuple(1 if (i + 1) in shared else d for i, d in enumerate(x.shape[1:]))
    return c.emit(OpKind.LEAKY_RELU, [x], x.shape, {"negative_slope": "learned"}, [("alpha", shape, "trainable")])


def _softmax(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = inputs[0]
    axis = c.cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    return c.emit(OpKind.SOFTMAX, [x], x.shape, {"axis": c.b.logical_axis(int(axis), len(x.shape))})


def _pool(op: OpKind) -> Any:
    def handler(c: _Call, inputs: list[KTensor]) -> KTensor:
        x = _one(c, inputs)
        rank = len(x.shape)
        sp, _ = _spatial_axes(rank, c.get("data_format"))
        n = len(sp)
        kernel = _tuple(c.get("pool_size", 2), n, "pool_size", c.shown)
        stride = _tuple(c.cfg.get("strides") or kernel, n, "strides", c.shown)
        padding = str(c.get("padding", "valid")).lower()
        shape = list(x.shape)
        pads = []
        for axis, k, s in zip(sp, kernel, stride, strict=True):
            o, p = _window(x.shape[axis], k, s, 1, padding, c.shown)
            shape[axis] = o
            pads.append(p)
        attrs = {"kernel": kernel, "stride": stride, "padding": _pad_attr(pads), "ceil_mode": False}
        if op is OpKind.AVGPOOL and padding == "same":
            attrs["count_include_pad"] = False
        return c.emit(op, [x], tuple(shape), attrs)

    return handler


def _global_pool(maximum: bool) -> Any:
    def handler(c: _Call, inputs: list[KTensor]) -> KTensor:
        x = _one(c, inputs)
        rank = len(x.shape)
        sp, ch = _spatial_axes(rank, c.get("data_format"))
        keep = bool(c.get("keepdims", False))
        kept = list(x.shape)
        for a in sp:
            kept[a] = 1
        squeezed = (x.shape[0], x.shape[ch])
        if not maximum:
            axes = [c.b.logical_axis(a, rank) for a in sp]
            return c.emit(OpKind.MEAN, [x], tuple(kept) if keep else squeezed, {"axis": axes, "keepdims": keep})
        y = c.emit(OpKind.ADAPTIVE_MAXPOOL, [x], tuple(kept), {"output_size": (1,) * len(sp)})
        if keep:
            return y
        return c.emit(
            OpKind.RESHAPE,
            [y],
            squeezed,
            {"shape": list(squeezed)},
            suffix="/squeeze",
            source_op=f"{c.cls} (drop the 1x1 axes)",
        )

    return handler


def _merge(op: OpKind) -> Any:
    def handler(c: _Call, inputs: list[KTensor]) -> KTensor:
        if len(inputs) < 2:
            raise UsageError(
                f"Keras layer '{c.shown}' ({c.cls}) needs two or more inputs, got {len(inputs)}",
                "the config may be damaged",
            )
        if op is OpKind.SUB and len(inputs) != 2:
            raise UsageError(
                f"Keras layer '{c.shown}' (Subtract) takes exactly two inputs", "the config may be damaged"
            )
        shape = _broadcast([t.shape for t in inputs], c.shown)
        kind = OpKind.ADD if c.cls == "Average" else op
        acc = inputs[0]
        steps = len(inputs) - 1
        for i in range(steps):
            last = i == steps - 1 and c.cls != "Average"
            acc = c.emit(
                kind,
                [acc, inputs[i + 1]],
                _broadcast([acc.shape, inputs[i + 1].shape], c.shown),
                suffix="" if last else f"/{i + 1}",
                source_op=c.cls if steps == 1 else f"{c.cls} ({i + 1}/{steps})",
            )
        if c.cls == "Average":
            acc = c.emit(OpKind.DIV, [acc], shape, {"divisor": len(inputs)}, source_op="Average (divide)")
        return acc

    return handler


def _concat(c: _Call, inputs: list[KTensor]) -> KTensor:
    rank = len(inputs[0].shape)
    axis = int(c.cfg.get("axis", -1)) % rank
    shape = list(inputs[0].shape)
    for t in inputs[1:]:
        if len(t.shape) != rank or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, shape, strict=True)) if i != axis
        ):
            raise ModelShapeError(
                f"Keras layer '{c.shown}' (Concatenate): inputs "
                f"{[list(x.shape) for x in inputs]} differ outside axis {axis}"
            )
        shape[axis] += t.shape[axis]
    return c.emit(OpKind.CONCAT, inputs, tuple(shape), {"axis": c.b.logical_axis(axis, rank)})


def _flatten(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    return c.emit(OpKind.FLATTEN, [x], (x.shape[0], numel(x.shape[1:])), {"start_dim": 1})


def _reshape(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    target = [int(d) for d in c.get("target_shape", [])]
    total = numel(x.shape[1:])
    if target.count(-1) > 1:
        raise UsageError(f"Keras layer '{c.shown}' (Reshape): more than one -1 in {target}", "the config is invalid")
    if -1 in target:
        known = numel(tuple(d for d in target if d != -1))
        if known == 0 or total % known:
            raise ModelShapeError(f"Keras layer '{c.shown}' (Reshape): {total} values do not fit {target}")
        target[target.index(-1)] = total // known
    if numel(tuple(target)) != total:
        raise ModelShapeError(
            f"Keras layer '{c.shown}' (Reshape): the input has {total} values "
            f"({'x'.join(map(str, x.shape[1:]))}), the target shape {target} holds "
            f"{numel(tuple(target))}",
            "the model does not fit this input shape",
        )
    shape = (x.shape[0], *target)
    return c.emit(OpKind.RESHAPE, [x], shape, {"shape": list(c.b.logical(shape))})


def _permute(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    dims = [int(d) for d in c.get("dims", [])]
    if sorted(dims) != list(range(1, len(x.shape))):
        raise UsageError(
            f"Keras layer '{c.shown}' (Permute): dims {dims} do not permute {len(x.shape) - 1} axes",
            "the config is invalid",
        )
    return c.emit(OpKind.PERMUTE, [x], (x.shape[0], *(x.shape[d] for d in dims)), {"dims": dims})


def _dropout(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    return c.emit(OpKind.DROPOUT, [x], x.shape, {"rate": c.cfg.get("rate")})


def _identity(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    return c.emit(OpKind.IDENTITY, [x], x.shape, {"note": "inactive at inference"})


def _pad_pairs(c: _Call, n: int, key: str) -> list[tuple[int, int]]:
    raw = c.cfg.get(key, 1)
    if isinstance(raw, int):
        return [(raw, raw)] * n
    out = []
    for p in raw:
        out.append((int(p), int(p)) if isinstance(p, int) else (int(p[0]), int(p[1])))
    if len(out) == 2 and n == 1 and all(isinstance(p, int) for p in raw):
        return [(int(raw[0]), int(raw[1]))]  # ZeroPadding1D(padding=(left, right))
    if len(out) != n:
        raise UsageError(f"Keras layer '{c.shown}': {key} {raw} does not fit {n} spatial axes", "the config is invalid")
    return out


def _zeropad(c: _Call, inputs: list[KTensor]) -> KTensor:
    x = _one(c, inputs)
    sp, _ = _spatial_axes(len(x.shape), c.get("data_format"))
    pairs = _pad_pairs(c, len(sp), "padding")
    shape = list(x.shape)
    for a, (lo, hi) in zip(sp, pairs, strict=True):
        shape[a] += lo + hi
    return c.emit(OpKind.PAD, [x], tuple(shape), {"padding": [list(p) for p in pairs], "mode": "constant"})


def _crop(c: _Call, inputs: list[KTensor]) -> KTensor:
    """Cropping is negative padding: the receptive-field offset shrinks by the crop."""
    x = _one(c, inputs)
    sp, _ = _spatial_axes(len(x.shape), c.get("data_format"))
    pairs = _pad_pairs(c, len(sp), "cropping")
    shape = list(x.shape)
    for a, (lo, hi) in zip(sp, pairs, strict=True):
        shape[a] -= lo + hi
    return c.emit(OpKind.PAD, [x], tuple(shape), {"padding": [[-lo, -hi] for lo, hi in pairs], "mode": "crop"})


def _rescaling(c: _Call, inputs: list[KTensor]) -> KTensor:
    """x * scale + offset: a multiply, and an add when there is an offset."""
    x = _one(c, inputs)
    scale, offset = c.cfg.get("scale", 1.0), c.cfg.get("offset", 0.0)
    y = c.emit(OpKind.MUL, [x], x.shape, {"scale": scale}, source_op="Rescaling (scale)")
    if offset in (0, 0.0, None) or (isinstance(offset, list) and not any(offset)):
        return y
    return c.emit(OpKind.ADD, [y], x.shape, {"offset": offset}, suffix="/offset", source_op="Rescaling (offset)")


def _normalization(c: _Call, inputs: list[KTensor]) -> KTensor:
    """(x - mean) / sqrt(variance) (or the inverse): a subtract and a divide per element.

    Without mean/variance in the config, Keras keeps them (and the sample count) as
    non-trainable weights, which count_params includes."""
    x = _one(c, inputs)
    axes = _norm_axes(c, x, -1)
    shape = tuple(x.shape[a] for a in axes)
    params: list[tuple[str, Shape, str]] = []
    if c.cfg.get("mean") is None and c.cfg.get("variance") is None:
        params = [("mean", shape, "non_trainable"), ("variance", shape, "non_trainable"), ("count", (), "int64")]
    invert = bool(c.cfg.get("invert", False))
    first, second = (OpKind.MUL, OpKind.ADD) if invert else (OpKind.SUB, OpKind.DIV)
    y = c.emit(
        first,
        [x],
        x.shape,
        {"normalization": "invert" if invert else "standardize"},
        params,
        source_op="Normalization (" + ("scale" if invert else "subtract mean") + ")",
    )
    return c.emit(
        second,
        [y],
        x.shape,
        {},
        suffix="/scale" if not invert else "/offset",
        source_op="Normalization (" + ("add mean" if invert else "divide by std") + ")",
    )


def _unsupported_with_shape(shape_fn: Any) -> Any:
    """A layer without a rule whose output shape zooprof can still compute (listed as uncounted)."""

    def handler(c: _Call, inputs: list[KTensor]) -> KTensor:
        x = _one(c, inputs)
        out, params = shape_fn(c, x)
        return c.emit(OpKind.UNKNOWN, [x], out, {"keras_class": c.cls}, params)

    return handler


def _upsampling_shape(c: _Call, x: KTensor) -> tuple[Shape, list[Any]]:
    sp, _ = _spatial_axes(len(x.shape), c.get("data_format"))
    size = _tuple(c.get("size", 2), len(sp), "size", c.shown)
    shape = list(x.shape)
    for a, s in zip(sp, size, strict=True):
        shape[a] *= s
    return tuple(shape), []


def _resizing_shape(c: _Call, x: KTensor) -> tuple[Shape, list[Any]]:
    sp, _ = _spatial_axes(len(x.shape), c.get("data_format"))
    shape = list(x.shape)
    shape[sp[0]], shape[sp[1]] = int(c.get("height")), int(c.get("width"))
    return tuple(shape), []


def _rnn(c: _Call, inputs: list[KTensor]) -> list[KTensor]:
    """LSTM/GRU/SimpleRNN (and Bidirectional around one): no rule, but the output shapes are
    computed (sequence or last step, with the states when return_state), so the layers after
    them are read right. Their weights come from the file when it has them."""
    x = inputs[0]
    cfg, cls = c.cfg, c.cls
    if cls == "Bidirectional":
        inner = cfg.get("layer") or {}
        cfg, cls = inner.get("config") or {}, str(inner.get("class_name"))
    units = int(cfg.get("units"))
    seq = bool(cfg.get("return_sequences", False))
    out = (x.shape[0], x.shape[1], units) if seq else (x.shape[0], units)
    states = {"LSTM": 2, "CuDNNLSTM": 2}.get(cls, 1) if cfg.get("return_state") else 0
    if c.cls == "Bidirectional":
        mode = c.cfg.get("merge_mode", "concat")
        if mode == "concat":
            out = (*out[:-1], 2 * units)
        states *= 2
    y = c.emit(
        OpKind.UNKNOWN,
        [x],
        out,
        {"keras_class": c.cls, "units": units, "return_sequences": seq},
        extra_outputs=[(x.shape[0], units)] * states,
    )
    return [y, *c.b.extra_outputs]


def _embedding_shape(c: _Call, x: KTensor) -> tuple[Shape, list[Any]]:
    dim = int(c.get("output_dim"))
    return (*x.shape, dim), [("embeddings", (int(c.get("input_dim")), dim), "trainable")]


HANDLERS: dict[str, Any] = {
    "Conv1D": _conv,
    "Conv2D": _conv,
    "Conv3D": _conv,
    "Convolution1D": _conv,
    "Convolution2D": _conv,
    "Convolution3D": _conv,
    "DepthwiseConv1D": _conv,
    "DepthwiseConv2D": _conv,
    "SeparableConv1D": _conv,
    "SeparableConv2D": _conv,
    "SeparableConvolution1D": _conv,
    "SeparableConvolution2D": _conv,
    "Conv1DTranspose": _conv_transpose,
    "Conv2DTranspose": _conv_transpose,
    "Conv3DTranspose": _conv_transpose,
    "Convolution2DTranspose": _conv_transpose,
    "Deconvolution2D": _conv_transpose,
    "Dense": _dense,
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
    "GroupNormalization": _groupnorm,
    "ReLU": _relu,
    "Activation": _activation_layer,
    "LeakyReLU": _simple(OpKind.LEAKY_RELU),
    "ELU": _simple(OpKind.ELU),
    "PReLU": _prelu,
    "Softmax": _softmax,
    "MaxPooling1D": _pool(OpKind.MAXPOOL),
    "MaxPooling2D": _pool(OpKind.MAXPOOL),
    "MaxPooling3D": _pool(OpKind.MAXPOOL),
    "MaxPool1D": _pool(OpKind.MAXPOOL),
    "MaxPool2D": _pool(OpKind.MAXPOOL),
    "MaxPool3D": _pool(OpKind.MAXPOOL),
    "AveragePooling1D": _pool(OpKind.AVGPOOL),
    "AveragePooling2D": _pool(OpKind.AVGPOOL),
    "AveragePooling3D": _pool(OpKind.AVGPOOL),
    "AvgPool1D": _pool(OpKind.AVGPOOL),
    "AvgPool2D": _pool(OpKind.AVGPOOL),
    "AvgPool3D": _pool(OpKind.AVGPOOL),
    "GlobalAveragePooling1D": _global_pool(False),
    "GlobalAveragePooling2D": _global_pool(False),
    "GlobalAveragePooling3D": _global_pool(False),
    "GlobalAvgPool1D": _global_pool(False),
    "GlobalAvgPool2D": _global_pool(False),
    "GlobalAvgPool3D": _global_pool(False),
    "GlobalMaxPooling1D": _global_pool(True),
    "GlobalMaxPooling2D": _global_pool(True),
    "GlobalMaxPooling3D": _global_pool(True),
    "GlobalMaxPool1D": _global_pool(True),
    "GlobalMaxPool2D": _global_pool(True),
    "GlobalMaxPool3D": _global_pool(True),
    "Add": _merge(OpKind.ADD),
    "Multiply": _merge(OpKind.MUL),
    "Subtract": _merge(OpKind.SUB),
    "Average": _merge(OpKind.ADD),
    "Concatenate": _concat,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Permute": _permute,
    "Dropout": _dropout,
    "SpatialDropout1D": _dropout,
    "SpatialDropout2D": _dropout,
    "SpatialDropout3D": _dropout,
    "GaussianDropout": _dropout,
    "GaussianNoise": _dropout,
    "AlphaDropout": _dropout,
    "ActivityRegularization": _identity,
    "RandomFlip": _identity,
    "RandomRotation": _identity,
    "RandomZoom": _identity,
    "RandomContrast": _identity,
    "RandomTranslation": _identity,
    "RandomBrightness": _identity,
    "ZeroPadding1D": _zeropad,
    "ZeroPadding2D": _zeropad,
    "ZeroPadding3D": _zeropad,
    "Cropping1D": _crop,
    "Cropping2D": _crop,
    "Cropping3D": _crop,
    "Rescaling": _rescaling,
    "Normalization": _normalization,
    "UpSampling1D": _unsupported_with_shape(_upsampling_shape),
    "UpSampling2D": _unsupported_with_shape(_upsampling_shape),
    "UpSampling3D": _unsupported_with_shape(_upsampling_shape),
    "Resizing": _unsupported_with_shape(_resizing_shape),
    "Embedding": _unsupported_with_shape(_embedding_shape),
    "LSTM": _rnn,
    "GRU": _rnn,
    "SimpleRNN": _rnn,
    "CuDNNLSTM": _rnn,
    "CuDNNGRU": _rnn,
    "Bidirectional": _rnn,
}


# --------------------------------------------------------------------------------------
# the entry point


def _walk_layers(record: dict[str, Any]) -> Iterable[dict[str, Any]]:
    cfg = record.get("config") or {}
    for e in cfg.get("layers", []) if isinstance(cfg, dict) else []:
        yield e
        if e.get("class_name") in MODEL_CLASSES:
            yield from _walk_layers(e)


def _channels_first(record: dict[str, Any]) -> bool:
    formats = [
        e.get("config", {}).get("data_format")
        for e in _walk_layers(record)
        if isinstance(e.get("config"), dict)
        and e["config"].get("data_format")
        and str(e.get("class_name", "")).startswith(
            ("Conv", "Depthwise", "Separable", "MaxPool", "AveragePool", "AvgPool")
        )
    ]
    return bool(formats) and formats.count("channels_first") > formats.count("channels_last")


def graph_from_config(
    config: Any,
    *,
    name: str | None = None,
    input_shapes: list[Shape] | None = None,
    trust: bool = False,
    weights: list[FileWeight] | None = None,
    framework: str = "keras",
    trace_method: str = "keras-config",
    source: str = "the model",
    notes: Sequence[str] = (),
) -> tuple[Graph, list[Shape]]:
    """Read a Keras model config into a Graph (see the module docstring).

    `input_shapes` are logical (N, C, spatial...) as `--input-shape` gives them; None takes the
    config's own (a dynamic batch is 1). `weights` are the weight tensors a file holds, to be
    checked against the config. Returns the Graph and the logical input shapes used."""
    record = unwrap_config(config)
    channels_first = _channels_first(record)
    batch = input_shapes[0][0] if input_shapes else 1
    b = _Builder(
        trust=trust,
        channels_first=channels_first,
        batch=batch,
        user_shapes=[tuple(s) for s in input_shapes] if input_shapes else None,
    )
    reader = _Reader(b)
    model_name = name or str((record.get("config") or {}).get("name") or "keras_model")
    trainable = (record.get("config") or {}).get("trainable", True) is not False
    outputs = reader.model(record, _Ctx((), (), trainable), None)
    if b.user_shapes is not None and len(b.user_shapes) != reader.n_inputs:
        raise UsageError(
            f"the model has {reader.n_inputs} input(s), --input-shape gives {len(b.user_shapes)}",
            "give one shape per input, separated by commas",
        )
    if not b.layers:
        raise UsageError(f"{source} has no layers", "the model is empty")
    layer_notes = list(notes) + b.input_notes
    if weights is not None:
        layer_notes += _check_weights(b, weights, source)
    layer_notes += _summary_notes(b)
    graph = Graph(
        model_name,
        framework,
        tuple(b.inputs),
        tuple(b.layers),
        tuple(t.name for t in outputs),
        trace_method,
        tuple(layer_notes),
    )
    return graph, b.used_shapes


#: variable names that differ between Keras versions (config's name -> another file's name)
VAR_ALIASES = {"depthwise_kernel": "kernel"}


def _check_weights(b: _Builder, weights: list[FileWeight], source: str) -> list[str]:
    """Compare the file's weight shapes with the config's; attach file weights to uncounted layers."""
    notes: list[str] = []
    expected: dict[tuple[str, str], list[Shape]] = {}
    for e in b.expected:
        expected.setdefault((e.layer, e.var), []).append(e.shape)
    actual: dict[tuple[str | None, str], list[FileWeight]] = {}
    for w in weights:
        actual.setdefault((w.layer, w.var), []).append(w)
    named = any(k in expected for k in actual)
    if named:
        used: set[tuple[str | None, str]] = set()
        missing: list[tuple[tuple[str, str], Shape]] = []
        for key, shapes in expected.items():
            akey: tuple[str | None, str] = key
            if key not in actual and key[1] in VAR_ALIASES:
                akey = (key[0], VAR_ALIASES[key[1]])  # Keras 3 names a depthwise kernel 'kernel'
            got = actual.get(akey)
            if got is None:
                missing.extend((key, shape) for shape in shapes)
                continue
            used.add(akey)
            if sorted(shapes) != sorted(w.shape for w in got):
                hint = (
                    "the file is inconsistent (architecture and weights from different models?)"
                    if not b.assumed_shapes
                    else f"zooprof could not compute the output shape of {b.assumed_shapes[0]} (assumed equal to "
                    "its input), which the layers after it depend on; give a model without it"
                )
                raise UsageError(
                    f"{source}: weight '{key[0]}/{key[1]}' is "
                    f"{', '.join('x'.join(map(str, w.shape)) for w in got)} in the file, the config "
                    f"gives {', '.join('x'.join(map(str, s)) for s in shapes)}",
                    hint,
                )
        attached: list[str] = []
        orphans: list[FileWeight] = []
        for (layer_name, var), ws in actual.items():
            if (layer_name, var) in used:
                continue
            for w in ws:
                owners = [layer_name or "", *w.path.split(":")[0].split("/")]
                owner = next((o for o in owners if o in b.unknown_layers), None)
                if owner is None:
                    orphans.append(w)
                    continue
                i = b.unknown_layers[owner][0]
                layer = b.layers[i]
                label = w.path.split(":")[0] or f"{layer_name}/{var}"
                prefix = layer.name.rsplit("/", 1)[0] + "/" if "/" in layer.name else ""
                b.layers[i] = replace(layer, params=(*layer.params, ParamSpec(f"{prefix}{label}", w.shape, w.dtype)))
                attached.append(label)
        if missing or orphans:
            # names that differ (a renamed layer): the rest must still agree shape for shape
            if sorted(s for _, s in missing) != sorted(w.shape for w in orphans):
                if missing:
                    (layer_name, var), shape = missing[0]
                    raise UsageError(
                        f"{source}: the config gives layer '{layer_name}' a weight '{var}' "
                        f"{'x'.join(map(str, shape))}, the file has none",
                        "the file is inconsistent (architecture and weights from different models?)",
                    )
                w = orphans[0]
                raise UsageError(
                    f"{source}: the file holds a weight '{w.path or f'{w.layer}/{w.var}'}' "
                    f"({'x'.join(map(str, w.shape))}) that the config does not describe",
                    "the file is inconsistent, or zooprof misreads that layer",
                )
            notes.append(f"{len(missing)} weight(s) matched by shape, not by name (named differently in the file)")
        if attached:
            notes.append(
                f"weights of uncounted layers taken from the file: {', '.join(attached[:4])}"
                f"{' ...' if len(attached) > 4 else ''}"
            )
        return notes
    want = sorted(s for shapes in expected.values() for s in shapes)
    have = sorted(w.shape for w in weights)
    if want != have:
        n_want, n_have = sum(numel(s) for s in want), sum(numel(s) for s in have)
        if not b.unknown or n_have < n_want:
            raise UsageError(
                f"{source}: the weights file holds {len(have)} tensors ({n_have:,} values), the config "
                f"describes {len(want)} ({n_want:,} values)",
                "the file is inconsistent (architecture and weights from different models?)",
            )
        notes.append(
            f"the weights file holds {n_have - n_want:,} values more than the counted layers describe "
            "(weights of uncounted layers, not attributed)"
        )
    return notes


def _summary_notes(b: _Builder) -> list[str]:
    notes = []
    if not b.channels_first and any(len(t.shape) >= 3 for t in b.inputs):
        notes.append("Keras tensors are channels-last (N, H, W, C); shapes are shown as N, C, H, W")
    if any(
        p.kind == "non_trainable" and p.name.endswith(("moving_mean", "moving_variance"))
        for layer in b.layers
        for p in layer.params
    ):
        notes.append(
            "BatchNormalization moving mean/variance are counted as non-trainable parameters, as Keras' "
            "count_params() does"
        )
    if b.dense_as_conv:
        notes.append(
            f"{b.dense_as_conv} Dense layer(s) on a rank > 2 input act on the channel axis: listed as 1x1 "
            "convs (same MACs)"
        )
    if b.unknown:
        notes.append(
            f"{len(b.unknown)} layer(s) without a zooprof rule are uncounted: {', '.join(b.unknown[:4])}"
            f"{' ...' if len(b.unknown) > 4 else ''}"
        )
    if b.assumed_shapes:
        notes.append(
            f"output shape not in the config, assumed equal to the input: {', '.join(b.assumed_shapes[:4])}"
            f"{' ...' if len(b.assumed_shapes) > 4 else ''}"
        )
    return notes


def class_counts(config: Any) -> dict[str, int]:
    """Layer classes of a config (nested models included), for messages and tests."""
    counts: dict[str, int] = {}
    for e in _walk_layers(unwrap_config(config)):
        cls = str(e.get("class_name"))
        counts[cls] = counts.get(cls, 0) + 1
    return counts


__all__ = [
    "FileWeight",
    "graph_from_config",
    "unwrap_config",
    "weight_key",
    "class_counts",
    "KNOWN_UNSUPPORTED",
    "HANDLERS",
]

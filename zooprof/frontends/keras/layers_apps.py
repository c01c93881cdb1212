"""Layer handlers for what keras.applications models hold besides Keras' own layers:

- the layers keras.applications itself defines: LayerScale (ConvNeXt: `x * gamma`, one
  trainable weight per channel), CustomScaleLayer (InceptionResNetV2: `x + r * scale`) and
  StochasticDepth (ConvNeXt with drop_path_rate > 0: the identity at inference). An .h5 file
  does not name a class's module, so they are known by class name and config keys
  (`is_app_layer`): read in .h5 as in .keras files, without --trust; a custom class of
  another shape stays custom code.
- keras.ops nodes: Keras 3 records an op called on a symbolic tensor as a node of its own
  (module `keras.src.ops.numpy`, config `{"name"}` only). MobileNetV3's hard_sigmoid,
  `relu6(x + 3.0) * (1/6)`, gives Add and Multiply nodes with one tensor and a number, which
  are element-wise ops with one input, not the merge layers of the same class name
  (`is_op_node`, `OP_NODES`).

Every handler emits counted element-wise ops (one FLOP per output element, docs/counting.md).
"""

from __future__ import annotations

from typing import Any

from zooprof.errors import ModelShapeError, UsageError
from zooprof.frontends.keras.builder import KTensor
from zooprof.frontends.keras.call import LayerCall, one_input
from zooprof.frontends.keras.dialects import SCALAR_ARGS
from zooprof.frontends.keras.shapes import broadcast
from zooprof.ir.ops import OpKind

#: Modules of the keras.ops operations a Keras 3 functional config may record as nodes
OP_MODULES = ("keras.src.ops", "keras.ops")


def _layer_scale(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    """LayerScale: x * gamma, gamma a trainable vector of projection_dim values (the channels)."""
    x = one_input(c, inputs)
    dim = int(c.get("projection_dim"))
    if x.shape[-1] != dim:
        raise ModelShapeError(
            f"Keras layer '{c.shown}' (LayerScale): projection_dim {dim} does not fit the input's "
            f"{x.shape[-1]} channels"
        )
    return c.emit(OpKind.MUL, [x], x.shape, {"scale": "learned, per channel"}, [("gamma", (dim,), "trainable")])


def _custom_scale(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    """CustomScaleLayer: inputs[0] + inputs[1] * scale, a multiply then an add."""
    if len(inputs) != 2:
        raise UsageError(
            f"Keras layer '{c.shown}' (CustomScaleLayer) takes two inputs, the config gives {len(inputs)}",
            "the config may be damaged",
        )
    x, r = inputs
    scaled = c.emit(
        OpKind.MUL, [r], r.shape, {"scale": c.get("scale")}, suffix="/scale", source_op="CustomScaleLayer (scale)"
    )
    shape = broadcast([x.shape, scaled.shape], c.shown)
    return c.emit(OpKind.ADD, [x, scaled], shape, source_op="CustomScaleLayer (add)")


def _stochastic_depth(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    """StochasticDepth drops whole residual branches in training only: the identity at inference."""
    x = one_input(c, inputs)
    return c.emit(OpKind.DROPOUT, [x], x.shape, {"rate": c.cfg.get("drop_path_rate")})


#: keras.applications' own layers: class name -> (config keys it always has, handler)
APP_LAYERS: dict[str, tuple[frozenset[str], Any]] = {
    "LayerScale": (frozenset({"init_values", "projection_dim"}), _layer_scale),
    "CustomScaleLayer": (frozenset({"scale"}), _custom_scale),
    "StochasticDepth": (frozenset({"drop_path_rate"}), _stochastic_depth),
}


def is_app_layer(entry: dict[str, Any]) -> bool:
    """A layer of a class keras.applications defines, with that class's config."""
    known = APP_LAYERS.get(str(entry.get("class_name")))
    cfg = entry.get("config")
    return known is not None and isinstance(cfg, dict) and known[0] <= set(cfg)


#: keras.ops node class -> the element-wise op it is
OP_NODE_KINDS: dict[str, OpKind] = {
    "Add": OpKind.ADD,
    "Subtract": OpKind.SUB,
    "Multiply": OpKind.MUL,
    "Divide": OpKind.DIV,
    "TrueDivide": OpKind.DIV,
}


def is_op_node(entry: dict[str, Any], kwargs: dict[str, Any]) -> bool:
    """A keras.ops operation recorded as a node: its module says so (.keras), or, where the file
    names no module (.h5), a class of OP_NODE_KINDS whose config is only a name or that was
    called with a number."""
    module = entry.get("module")
    if isinstance(module, str) and module:
        return module.startswith(OP_MODULES)
    cfg = entry.get("config")
    return str(entry.get("class_name")) in OP_NODE_KINDS and (
        SCALAR_ARGS in kwargs or (isinstance(cfg, dict) and set(cfg) <= {"name"})
    )


def _op_node(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    """An element-wise keras.ops node: one tensor and a number (`x + 3.0`), or two tensors."""
    op = OP_NODE_KINDS[c.cls]
    if not inputs or len(inputs) > 2:
        raise UsageError(
            f"Keras op '{c.shown}' ({c.cls}) takes one or two tensors, the config gives {len(inputs)}",
            "the config may be damaged",
        )
    shape = broadcast([t.shape for t in inputs], c.shown)
    attrs: dict[str, Any] = {"keras_op": c.cls}
    scalars = c.kwargs.get(SCALAR_ARGS, ())
    if scalars:
        attrs["scalar"] = scalars[0]
    return c.emit(op, inputs, shape, attrs, source_op=f"keras.ops {c.cls}", dtype=inputs[0].dtype)


OP_NODES: dict[str, Any] = dict.fromkeys(OP_NODE_KINDS, _op_node)
HANDLERS: dict[str, Any] = {name: handler for name, (_, handler) in APP_LAYERS.items()}

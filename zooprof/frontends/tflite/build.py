"""TFLite graph builder: a parsed TflModel (zooprof.frontends.tflite.schema) -> the layers of a Graph.

1. Subgraph 0 is the model (further subgraphs are control-flow bodies: noted, not read).
2. Every operator, in the order the file lists them (the execution order), becomes a Layer
   named after its output tensor (`layer_label`); the op mapping is in ops.py. An op with a
   fused activation (CONV_2D ... RELU6) is followed by a separate activation layer that
   works in place, so FLOPs count the activation as docs/counting.md does for every framework.
3. Tensors keep their stored dtype and quantisation (QuantSpec: scale, zero point,
   quantized dimension). NHWC image tensors (layout.py) are shown in the logical
   N, C, H, W order, axes converted with them.
4. Constant tensors an op reads as weights are its ParamSpecs, at their stored dtype (int8
   weights: 1 byte each, int32 biases: 4), so weight_bytes is what the file stores.

`GraphReader` also decides the input shapes (`set_input_shapes`: the batch and the
dimensions the file leaves dynamic); the entry point (read.py) propagates the shapes the file
leaves dynamic (propagate.py), measures those it cannot compute, and writes the notes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.tflite.codes import FUSED, FUSED_FIELD, Dtypes
from zooprof.frontends.tflite.custom_ops import DETECTION_POSTPROCESS_OP, EDGETPU_OP, detection_postprocess_attrs
from zooprof.frontends.tflite.layout import fmt_shape, image_tensors, param_shape, to_logical, weight_derived
from zooprof.frontends.tflite.ops import map_op, param_role
from zooprof.frontends.tflite.opview import DATA_INPUT, NO_OPTIONS, OpView, logical_axis
from zooprof.frontends.tflite.schema import TflModel, TflOp
from zooprof.ir.graph import Layer, ParamSpec, QuantSpec, TensorSpec, numel
from zooprof.ir.ops import OpKind

Shape = tuple[int, ...]

#: builtin -> words that mark, in a fused tensor name, the part naming the op itself
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "CONV_2D": ("convolution", "conv2d", "conv"),
    "DEPTHWISE_CONV_2D": ("depthwise",),
    "FULLY_CONNECTED": ("matmul", "tensordot", "dense", "biasadd"),
    "TRANSPOSE_CONV": ("conv2d_transpose", "transpose"),
}


#: last name components that name a (fused) activation, not the op it is fused into
ACTIVATION_WORDS = frozenset({"relu", "relu6", "tanh", "sigmoid", "clip_by_value", "hardtanh"})


def unique_tensor_names(model: TflModel) -> list[str]:
    """Tensor names, made unique (a name used twice gets #index)."""
    counts = Counter(t.name for t in model.tensors)
    return [t.name if counts[t.name] == 1 else f"{t.name}#{t.index}" for t in model.tensors]


def layer_label(op: TflOp, name: str, tensor_names: Sequence[str]) -> str:
    """A layer's name: the part of its output tensor's name that names the op (the
    converter joins the names of fused ops with ';'), or OPNAME_index."""
    if not op.outputs or op.outputs[0] < 0:
        return f"{name.lower()}_{op.index}"
    parts = [p for p in tensor_names[op.outputs[0]].split(";") if p]
    if not parts:
        return f"{name.lower()}_{op.index}"
    for hint in NAME_HINTS.get(name, ()):
        for p in parts:
            if hint in p.rsplit("/", 1)[-1].lower():
                return p
    if len(parts) > 1:  # a fused activation's name comes first: name the op itself
        rest = [p for p in parts if p.rsplit("/", 1)[-1].lower().rstrip("0123456789_") not in ACTIVATION_WORDS]
        if rest:
            return rest[0]
    return parts[0]


class GraphReader:
    """Builds the Graph from a parsed TflModel."""

    def __init__(self, model: TflModel, fname: str) -> None:
        self.m = model
        self.fname = fname
        self.dtype = Dtypes()
        self.names = [model.op_name(op) for op in model.ops]
        self.const = {t.index for t in model.tensors if model.has_data(t.index)}
        self.weight_derived = weight_derived(model, self.const)
        self.image = image_tensors(model, self.names, self.const, self.weight_derived)
        self.batch: tuple[int, int] | None = None
        self.measured: dict[int, Shape] = {}
        self.propagated: dict[int, Shape] = {}  # computed from the producers (propagate.py)
        self.resize: list[Shape] | None = None
        self.used: dict[str, int] = {}
        self.tensor_names = unique_tensor_names(model)

    # -- shapes

    def raw_shape(self, t: int) -> Shape:
        if t in self.measured:
            return self.measured[t]
        if t in self.propagated:
            return self.propagated[t]
        if self.resize is not None and t in self.m.inputs:
            return self.resize[self.m.inputs.index(t)]
        shape = self.m.tensors[t].shape
        if self.batch and shape and shape[0] == self.batch[0] and t not in self.const and t not in self.weight_derived:
            return (self.batch[1], *shape[1:])
        return shape

    def shape(self, t: int) -> Shape:
        s = self.raw_shape(t)
        return to_logical(s) if t in self.image else s

    def spec(self, t: int, name: str | None = None) -> TensorSpec:
        tensor = self.m.tensors[t]
        quant = None
        if tensor.quant is not None:
            q = tensor.quant
            axis = None
            if len(q.scale) > 1:
                axis = logical_axis(q.dim, 4, True) if t in self.image else q.dim
            quant = QuantSpec(q.scale, q.zero_point, axis)
        return TensorSpec(name or self.tensor_names[t], self.shape(t), self.dtype(tensor.type_code), quant)

    def set_input_shapes(self, shapes: list[Shape] | None, notes: list[str]) -> list[Shape]:
        """The input shapes to analyse, in logical order. The file fixes every dimension its
        shape signature does not mark dynamic (-1); --input-shape may change the batch and
        the dynamic dimensions, in logical or file order. A dynamic dimension other than the
        batch needs --input-shape (the stored shape is a placeholder)."""
        ins = self.m.inputs
        stored = [self.m.tensors[t].shape for t in ins]
        sigs = [self.m.tensors[t].signature or self.m.tensors[t].shape for t in ins]
        if shapes is None:
            for t, sig in zip(ins, sigs, strict=True):
                dynamic = [i for i, d in enumerate(sig) if i > 0 and d < 0]
                if dynamic:
                    example = tuple(d if d > 0 else 224 for d in sig[1:])
                    example = to_logical((1, *example)) if t in self.image else (1, *example)
                    raise UsageError(
                        f"{self.fname}: input '{self.tensor_names[t]}' has dynamic dimension(s) "
                        f"{', '.join(map(str, dynamic))} (file order, signature {list(sig)}) and no "
                        "--input-shape was given",
                        f"give a size for each, e.g. --input-shape {fmt_shape(example)}",
                    )
            return [self.shape(t) for t in ins]
        if len(shapes) != len(ins):
            names = ", ".join(f"'{self.tensor_names[t]}'" for t in ins)
            raise UsageError(
                f"{self.fname} has {len(ins)} input(s) ({names}) but --input-shape gives {len(shapes)}",
                "give one shape per input, separated by commas, in that order",
            )
        chosen: list[Shape] = []
        for t, raw, sig, given in zip(ins, stored, sigs, shapes, strict=True):
            given = tuple(int(d) for d in given)
            candidates = [given]
            if t in self.image and len(given) == 4:
                n, c, h, w = given
                candidates.insert(0, (n, h, w, c))  # logical N, C, H, W first
            match = next(
                (
                    g
                    for g in candidates
                    if len(g) == len(raw)
                    and len(g) > 0
                    and all(i == 0 or g[i] == raw[i] or sig[i] < 0 for i in range(len(g)))
                ),
                None,
            )
            if match is None:
                log = self.shape(t)
                stored_note = f" (stored NHWC {fmt_shape(raw)})" if t in self.image else ""
                raise UsageError(
                    f"{self.fname} fixes the shape of input '{self.tensor_names[t]}' to "
                    f"{fmt_shape(log)}{stored_note}; --input-shape gives {fmt_shape(given)}",
                    "a TFLite file's shapes are fixed when it is converted (only dimensions its shape "
                    f"signature marks -1 can change) and the batch, e.g. --input-shape "
                    f"{fmt_shape((2, *log[1:]))}",
                )
            chosen.append(match)
        if any(g[1:] != raw[1:] for g, raw in zip(chosen, stored, strict=True)):
            self.resize = chosen  # sized by the interpreter: see read.py
            notes.append(
                "input shape(s) " + ", ".join(fmt_shape(g) for g in chosen) + " (file order) set where the "
                "file leaves dimensions dynamic"
            )
        else:
            batches = {g[0] for g in chosen}
            old = stored[0][0] if stored and stored[0] else 1
            if batches != {old}:
                if len(batches) > 1 or any(raw and raw[0] != old for raw in stored):
                    raise UsageError(
                        f"{self.fname}: the inputs would get different batch sizes", "give every input the same batch"
                    )
                new = batches.pop()
                self.batch = (old, new)
                notes.append(
                    f"batch {new}: every activation whose first dimension is the stored batch ({old}) "
                    f"is taken with batch {new} (the file stores batch {old})"
                )
        return [to_logical(g) if t in self.image else g for t, g in zip(ins, chosen, strict=True)]

    # -- layers

    def unique(self, name: str) -> str:
        n = self.used.get(name, 0)
        self.used[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def layers(self) -> tuple[list[Layer], dict[str, Any]]:
        stats: dict[str, Any] = {
            "fused": Counter(),
            "unknown": Counter(),
            "custom": Counter(),
            "edgetpu": 0,
            "edgetpu_bytes": 0,
            "dequantized_weights": 0,
        }
        out: list[Layer] = []
        for op, name in zip(self.m.ops, self.names, strict=True):
            out.extend(self.layer(op, name, stats))
        return out, stats

    def layer(self, op: TflOp, name: str, stats: dict[str, Any]) -> list[Layer]:
        m = self.m
        custom = m.is_custom(op)
        in_shapes = [self.raw_shape(t) if t >= 0 else None for t in op.inputs]
        view = OpView(
            name=name,
            options=op.options or NO_OPTIONS,
            in_shapes=in_shapes,
            in_values=[m.values(t) if t in self.const else None for t in op.inputs],
            out_shapes=[self.raw_shape(t) for t in op.outputs if t >= 0],
        )
        d = DATA_INPUT.get(name, 0)
        view.image_in = d < len(op.inputs) and op.inputs[d] in self.image
        view.image_out = bool(op.outputs) and op.outputs[0] in self.image
        if op.inputs and op.outputs and op.inputs[0] >= 0:
            view.extra = {
                "in_dtype": self.dtype(m.tensors[op.inputs[0]].type_code),
                "out_dtype": self.dtype(m.tensors[op.outputs[0]].type_code),
            }
        if custom:
            kind, attrs = OpKind.UNKNOWN, {"unmapped": f"custom op '{name}'"}
            stats["custom"][name] += 1
            if name == EDGETPU_OP:
                stats["edgetpu"] += 1
                stats["edgetpu_bytes"] += op.custom_bytes
                attrs = {
                    "unmapped": "compiled for the Edge TPU: its layers cannot be read",
                    "custom_options_bytes": op.custom_bytes,
                }
            elif name == DETECTION_POSTPROCESS_OP:
                kind, attrs = OpKind.DETECTION_POSTPROCESS, detection_postprocess_attrs(m, op, in_shapes)
                stats["custom"].pop(name)  # recognised: reported as post-processing, not as an unknown custom op
        else:
            kind, attrs = map_op(view)
        if kind is OpKind.UNKNOWN:
            stats["unknown"][name] += 1

        all_const = bool(op.inputs) and all(t < 0 or t in self.const or t in self.weight_derived for t in op.inputs)
        inputs: list[TensorSpec] = []
        params: list[ParamSpec] = []
        for i, t in enumerate(op.inputs):
            if t < 0:
                continue
            if t in self.const:
                tensor = m.tensors[t]
                n = numel(tensor.shape)
                if param_role(name, i, n) and all(p.name != self.tensor_names[t] for p in params):
                    role = "buffer" if name == DETECTION_POSTPROCESS_OP else "trainable"  # anchors: stored, not learned
                    params.append(
                        ParamSpec(
                            self.tensor_names[t],
                            param_shape(name, i, tensor.shape),
                            self.dtype(tensor.type_code),
                            role,
                        )
                    )
                if all_const:
                    inputs.append(self.spec(t))
                continue
            inputs.append(self.spec(t))
        if name == "DEQUANTIZE" and all_const:
            stats["dequantized_weights"] += 1
        outputs = [self.spec(t) for t in op.outputs if t >= 0]
        if not outputs:
            return []
        label = self.unique(layer_label(op, name, self.tensor_names))
        scope = ".".join(label.split("/")[:-1]) if "/" in label else ""
        fused = None
        if not custom and name in FUSED_FIELD and op.options is not None:
            fused = FUSED.get(int(op.options.scalar(FUSED_FIELD[name], "<b", 0)))
        result: list[Layer] = []
        pre: list[Layer] = []
        if kind is OpKind.DENSE and len(inputs) and len(inputs[0].shape) > 2 and not attrs.get("keep_num_dims"):
            # TFLite flattens the input of FULLY_CONNECTED to (-1, in_features) itself
            x = inputs[0]
            flat = TensorSpec(
                f"{x.name}#flattened",
                (numel(x.shape) // int(attrs["in_features"]), int(attrs["in_features"])),
                x.dtype,
                x.quant,
            )
            pre.append(
                Layer(
                    self.unique(f"{label}/flatten"),
                    OpKind.FLATTEN,
                    f"{name} (implicit flatten)",
                    (x,),
                    (flat,),
                    {"implicit": True},
                    (),
                    scope,
                )
            )
            inputs[0] = flat
        if fused is not None:
            act_name, act_kind = fused
            attrs["fused_activation"] = act_name
            real = outputs[0]
            pre_act = TensorSpec(f"{real.name}#pre_activation", real.shape, real.dtype, real.quant)
            result.append(Layer(label, kind, name, tuple(inputs), (pre_act, *outputs[1:]), attrs, tuple(params), scope))
            act_attrs: dict[str, Any] = {"fused_into": label}
            if act_kind is OpKind.UNKNOWN:
                act_attrs["unmapped"] = f"fused activation {act_name}"
                stats["unknown"][act_name] += 1
            result.append(
                Layer(
                    self.unique(f"{label}/{act_name.lower()}"),
                    act_kind,
                    f"{name} fused {act_name}",
                    (pre_act,),
                    (real,),
                    act_attrs,
                    (),
                    scope,
                    inplace=True,
                )
            )
            stats["fused"][act_name] += 1
        else:
            result.append(Layer(label, kind, name, tuple(inputs), tuple(outputs), attrs, tuple(params), scope))
        return pre + result

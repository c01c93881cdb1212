"""ONNX nodes -> Layers: constants found, op mapping applied, tensors, parameters, names and scopes.

`find_constants` splits the (topologically sorted, `validate.order_nodes`) nodes into constant
computations (Constant, Shape and anything computed from initialisers, constants or shapes
only: not layers) and layer nodes; `LayerBuilder.add` turns each layer node into a Layer,
its initialiser inputs into ParamSpecs (named after the initialiser, so one shared by
several nodes counts once), its PyTorch module path into the scope (`scope_of`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from zooprof.errors import ModelShapeError
from zooprof.frontends.onnx import ops as onnx_ops
from zooprof.frontends.onnx.ops_tensor import nms_attrs
from zooprof.frontends.onnx.protos import Dtypes, Shape, attr_values, constant_node, flat_values, fmt_shape
from zooprof.ir.graph import Layer, ParamSpec, TensorSpec
from zooprof.ir.ops import OpKind

# --------------------------------------------------------------------------------------
# scopes and names


def scope_of(node: Any) -> str:
    """Module path of the PyTorch module a node came from, where the exporter says.

    torch.onnx.export (TorchScript) names nodes '/features/features.1/conv/conv.0/Conv': each
    segment is a child name, Sequential children carry their parent's name as a prefix
    ('conv.0' under 'conv'), so the path is rebuilt as 'features.1.conv.0'. The dynamo
    exporter stores the path list in the node's metadata 'pkg.torch.onnx.name_scopes'.
    """
    meta = {p.key: p.value for p in node.metadata_props}
    scopes = meta.get("pkg.torch.onnx.name_scopes")
    if scopes:
        try:
            entries = [s for s in ast.literal_eval(scopes)[:-1] if s]
            return str(entries[-1]) if entries else ""
        except (ValueError, SyntaxError, TypeError):
            pass
    name = node.name
    if not name.startswith("/"):
        return ""
    prefix, rel = "", ""
    for seg in name.split("/")[1:-1]:
        if not seg:
            continue
        if rel and seg.startswith(rel + "."):
            rel = seg
        else:
            prefix = f"{prefix}.{rel}" if prefix and rel else (prefix or rel)
            rel = seg
    return f"{prefix}.{rel}" if prefix and rel else (prefix or rel)


# --------------------------------------------------------------------------------------
# constants


@dataclass
class Constants:
    """Which tensors are constants once the input shape is fixed, and what they hold.

    `static`: initialisers, Constant outputs, Shape outputs and whatever is computed from
    those only; `source`: for a static tensor that stands for a stored tensor (an initialiser,
    or a Constant, possibly through Identity/Cast/Transpose...), that tensor's ParamSpec;
    `values`: the values of small constants (flattened).
    """

    static: set[str] = field(default_factory=set)
    source: dict[str, ParamSpec] = field(default_factory=dict)
    values: dict[str, list[Any]] = field(default_factory=dict)


def find_constants(
    model: Any, nodes: list[Any], info: dict[str, tuple[Shape | None, int]], dtype: Dtypes
) -> tuple[Constants, list[tuple[int, Any]]]:
    """Split the nodes into constant computations (not layers) and layers, in graph order."""
    c = Constants()
    for t in model.graph.initializer:
        c.static.add(t.name)
        c.source[t.name] = ParamSpec(t.name, tuple(int(d) for d in t.dims), dtype(t.data_type))
        v = flat_values(t)
        if v is not None:
            c.values[t.name] = v
    layer_nodes: list[tuple[int, Any]] = []
    for idx, node in enumerate(nodes):
        ins = [i for i in node.input if i]
        outs = [o for o in node.output if o]
        default_domain = node.domain in ("", "ai.onnx")
        op = node.op_type if default_domain else None
        if op == "Constant":
            c.static.update(outs)
            spec, vals = constant_node(node, dtype)
            if spec is not None:
                c.source[node.output[0]] = spec
                if vals is not None:
                    c.values[node.output[0]] = vals
            continue
        has_subgraph = any(a.HasField("g") or a.graphs for a in node.attribute)
        if has_subgraph or not (op in onnx_ops.SHAPE_OPS or all(i in c.static for i in ins)):
            layer_nodes.append((idx, node))
            continue
        c.static.update(outs)
        if op in onnx_ops.VALUE_PRESERVING_OPS and ins and ins[0] in c.source:
            for o in outs:
                c.source[o] = c.source[ins[0]]
        if op in ("Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape") and ins and ins[0] in c.values and outs:
            c.values[outs[0]] = c.values[ins[0]]
        elif op == "Shape" and ins and outs and info.get(ins[0], (None, 0))[0] is not None:
            attrs = attr_values(node)
            full = list(info[ins[0]][0])  # type: ignore[arg-type]
            c.values[outs[0]] = full[attrs.get("start", 0) : attrs.get("end", len(full))]
    return c, layer_nodes


# --------------------------------------------------------------------------------------
# layers


def _subgraph_nms(node: Any, consts: Constants) -> list[dict[str, Any]]:
    """The NonMaxSuppression nodes inside a control-flow node's subgraphs (recursively), with
    their configuration where it is constant (in the subgraph or the outer graph)."""
    found = []
    for a in node.attribute:
        for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
            values = {t.name: flat_values(t) for t in g.initializer}
            for n in g.node:
                if n.op_type == "Constant":
                    values[n.output[0]] = constant_node(n, Dtypes())[1]
            for n in g.node:
                if n.op_type == "NonMaxSuppression":

                    def value(i: int, n: Any = n, values: dict[str, Any] = values) -> Any:
                        if len(n.input) <= i or not n.input[i]:
                            return None
                        v = values.get(n.input[i]) or consts.values.get(n.input[i])
                        return v[0] if v else None

                    found.append(
                        nms_attrs(attr_values(n).get("center_point_box", 0), value(2), value(3), value(4), None, None)
                    )
                if any(x.HasField("g") or x.graphs for x in n.attribute):
                    found.extend(_subgraph_nms(n, consts))
    return found


class LayerBuilder:
    """Turns the layer nodes into Layers: op mapping, tensors, parameters, names, scopes."""

    def __init__(
        self,
        info: dict[str, tuple[Shape | None, int]],
        consts: Constants,
        opset: int,
        dtype: Dtypes,
        input_shapes: list[Shape],
    ) -> None:
        self.info = info
        self.c = consts
        self.opset = opset
        self.dtype = dtype
        self.input_shapes = input_shapes
        self.used: dict[str, int] = {}
        self.layers: list[Layer] = []
        self.unknown_shapes: list[str] = []
        self.custom: set[str] = set()
        self.fused_bn = 0

    def shape_of(self, name: str) -> Shape | None:
        return self.info.get(name, (None, 0))[0]

    def spec(self, name: str) -> tuple[TensorSpec, bool]:
        s, et = self.info.get(name, (None, 0))
        return TensorSpec(name, s if s is not None else (), self.dtype(et) if et else "float32"), s is not None

    def unique(self, name: str) -> str:
        n = self.used.get(name, 0)
        self.used[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def add(self, idx: int, node: Any) -> None:
        default_domain = node.domain in ("", "ai.onnx")
        c = self.c
        view = onnx_ops.NodeView(
            op_type=node.op_type,
            attrs=attr_values(node),
            inputs=list(node.input),
            shapes=[self.shape_of(i) if i else None for i in node.input],
            values=[c.values.get(i) if i else None for i in node.input],
            const=[bool(i) and i in c.static for i in node.input],
            out_shape=self.shape_of(node.output[0]) if node.output else None,
            opset=self.opset,
        )
        kind, attrs = onnx_ops.map_node(view, node.domain)
        source_op = node.op_type if default_domain else f"{node.domain}::{node.op_type}"
        if not default_domain:
            self.custom.add(node.domain)
        if any(a.HasField("g") or a.graphs for a in node.attribute):
            attrs["unmapped"] = "control flow: its subgraphs are not analysed"
            nms = _subgraph_nms(node, c)
            if nms:  # e.g. torchvision's batched_nms exported under `if boxes.numel() == 0`
                kind, attrs = OpKind.NMS, {**nms[0], "in_subgraph_of": node.op_type, "nms_nodes": len(nms)}
        inputs: list[TensorSpec] = []
        params: list[ParamSpec] = []
        known = True
        for i, name in enumerate(node.input):
            if not name:
                continue
            if name in c.static:
                p = c.source.get(name)
                role = onnx_ops.param_role(node.op_type, i, p.numel) if p is not None else None
                if p is not None and role is not None and all(q.name != p.name for q in params):
                    params.append(ParamSpec(p.name, p.shape, p.dtype, role))
                if kind is OpKind.MATMUL:  # a constant operand still sets the product's shape
                    inputs.append(self.spec(name)[0])
                continue
            spec, ok = self.spec(name)
            known &= ok
            inputs.append(spec)
        outputs = []
        for name in node.output:
            if name:
                spec, ok = self.spec(name)
                known &= ok
                outputs.append(spec)
        if not outputs:
            return
        fallback = f"{node.op_type}_{idx}"
        if not known and kind is OpKind.NMS:  # how many boxes it selects depends on the data
            attrs["output_shape"] = "data-dependent (unknown without a run)"
        elif not known:
            self.unknown_shapes.append(node.name or fallback)
            kind, attrs = OpKind.UNKNOWN, {**attrs, "unmapped": "tensor shape unknown"}
        label = self.unique(node.name or fallback)
        if kind in (OpKind.CONV, OpKind.MAXPOOL, OpKind.AVGPOOL) and any(d <= 0 for d in outputs[0].shape):
            raise ModelShapeError(
                f"input shape {', '.join(map(fmt_shape, self.input_shapes))} does not fit the model: it breaks at layer "
                f"'{label}' ({node.op_type}, input {fmt_shape(inputs[0].shape) if inputs else '?'}): "
                f"output {fmt_shape(outputs[0].shape)}",
                "try a larger or different --input-shape",
            )
        meta = {p.key: p.value for p in node.metadata_props}
        if "FuseBatchNorm" in meta.get("pkg.onnxscript.rewriter.rule_name", ""):
            self.fused_bn += 1
        self.layers.append(
            Layer(label, kind, source_op, tuple(inputs), tuple(outputs), attrs, tuple(params), scope_of(node))
        )

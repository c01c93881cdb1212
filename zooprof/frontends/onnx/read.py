"""ONNX frontend: an .onnx file -> Graph, by static shape inference (no weights are read).

1. `onnx.load` without external data: only the protobuf (initialiser shapes, not values, are
   needed). External-data files must lie next to the model; small tensors kept there (Clip
   bounds, reduction axes, pad widths) are read, large ones are not.
2. The graph inputs' dimensions are set to the input shape (the file's own static shape,
   or the user's where the file leaves a dimension dynamic), then
   `onnx.shape_inference.infer_shapes(data_prop=True)` gives every tensor a shape. Large
   initialisers are handed to inference as typed inputs, so it never copies the weights.
   Between rounds of inference, shape computations inference cannot follow (Where, Expand
   on a batch size) are constant-folded with the onnx reference evaluator, and ceil-mode
   pools are sized as onnxruntime sizes them. Only if static inference still leaves an
   activation without a shape is onnxruntime run once on zero inputs to measure it (noted
   in `Graph.notes`).
3. Every node, in graph order, becomes a Layer (op mapping in ops.py), except nodes
   that compute constants: Constant, Shape and anything whose inputs are all initialisers,
   constants or shape computations (like the PyTorch frontend skips ops on weights only).

Tensor names are the ONNX tensor names; initialisers a layer reads as weights are its
ParamSpecs (named after the initialiser, so one shared by several nodes counts once).
Modules: load.py (1), infer.py (2), build.py (3) with the op mapping in ops.py (table),
ops_nn.py, ops_tensor.py and ops_view.py, protos.py (dtypes, attribute and constant values).
This module holds the entry points, `read_onnx(path, shapes)` and the frontend registry's
`read(ref, shapes, options)`, which run the three steps and write the graph's notes (BN
folding detected, shared initialisers, uncounted layers). See docs/onnx.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zooprof.frontends import ReadOptions
from zooprof.frontends.onnx.build import LayerBuilder, find_constants
from zooprof.frontends.onnx.infer import infer, ort_shapes
from zooprof.frontends.onnx.load import graph_inputs, load_model, resolve_input_shapes
from zooprof.frontends.onnx.protos import Dtypes
from zooprof.frontends.onnx.validate import check_shapes, order_nodes
from zooprof.ir.graph import Graph, Layer, TensorSpec, numel
from zooprof.ir.ops import OpKind

#: onnxruntime measures missing shapes by running the model on zeros: not for a model whose
#: tensors (those of known shape) hold more elements than this (2^28: 1 GiB of float32).
ORT_MAX_ELEMENTS = 2**28


def read_onnx(path: Path, shapes: list[tuple[int, ...]] | None) -> tuple[Graph, list[tuple[int, ...]]]:
    """Read an ONNX file into a Graph (framework "onnx", trace_method "onnx") and the input
    shapes used. `shapes` replaces the file's dynamic input dimensions (one shape per input)."""
    path = Path(path)
    model = load_model(path)
    notes: list[str] = []
    input_shapes = resolve_input_shapes(model, shapes, path.name, notes)
    dtype = Dtypes()
    g = model.graph
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=1)
    producer = f"{model.producer_name} {model.producer_version}".strip()
    notes.append(
        f"ONNX IR version {model.ir_version}, opset {opset}" + (f", produced by {producer}" if producer else "")
    )

    real_inputs = graph_inputs(model)
    available = {vi.name for vi in real_inputs} | {t.name for t in g.initializer}
    nodes, reordered = order_nodes(list(g.node), available, path.name)
    if reordered:
        notes.append("nodes were not in topological order in the file: sorted")
        del g.node[:]
        g.node.extend(nodes)
    info = infer(model, input_shapes, notes)
    check_shapes(model, nodes, info, path.name)
    consts, layer_nodes = find_constants(model, nodes, info, dtype)

    # activations static inference left without a shape: measure them with onnxruntime
    needed = [t for _, n in layer_nodes for t in list(n.input) + list(n.output) if t and t not in consts.static]
    missing = list(dict.fromkeys(t for t in needed if info.get(t, (None, 0))[0] is None))
    known = sum(numel(s) for s, _ in info.values() if s is not None)
    if missing and known > ORT_MAX_ELEMENTS:
        notes.append(
            f"{len(missing)} tensor shape(s) static inference left unknown are not measured with onnxruntime: "
            f"the model's tensors hold {known:,} elements (more than {ORT_MAX_ELEMENTS:,})"
        )
    elif missing:
        measured, why = ort_shapes(path, input_shapes, missing, [info.get(t, (None, 0))[1] for t in missing])
        info.update(measured)
        if measured:
            notes.append(
                f"shapes: onnx.shape_inference; {len(measured)} tensor shape(s) it left unknown "
                "measured with onnxruntime on zero inputs"
            )
        if why:
            notes.append(
                f"onnxruntime could not measure {len(missing)} tensor shape(s) static inference left unknown ({why})"
            )
    else:
        notes.append("shapes: onnx.shape_inference (static, no weights read)")

    builder = LayerBuilder(info, consts, opset, dtype, input_shapes)
    for idx, node in layer_nodes:
        builder.add(idx, node)
    layers = builder.layers

    input_specs = tuple(
        TensorSpec(vi.name, s, dtype(vi.type.tensor_type.elem_type))
        for vi, s in zip(real_inputs, input_shapes, strict=True)
    )
    notes.extend(_bn_notes(layers, builder.fused_bn))
    readers: dict[str, int] = {}
    for layer in layers:
        for p in layer.params:
            readers[p.name] = readers.get(p.name, 0) + 1
    shared = [n for n, k in readers.items() if k > 1]
    if shared:
        notes.append(
            f"{len(shared)} initialiser(s) shared by several layers, counted once "
            f"({', '.join(shared[:3])}{' ...' if len(shared) > 3 else ''}): tied weights, or equal tensors "
            "the exporter merged (e.g. an untrained model's all-zero biases)"
        )
    if builder.unknown_shapes:
        names = builder.unknown_shapes
        notes.append(
            f"{len(names)} layer(s) with an unknown tensor shape are uncounted: "
            f"{', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
        )
    if builder.custom:
        notes.append(f"ops from custom domains ({', '.join(sorted(builder.custom))}) are uncounted")
    if dtype.approximated:
        notes.append(
            "dtypes without a zooprof equivalent, counted at the same element size: "
            + ", ".join(f"{k} as {v}" for k, v in sorted(dtype.approximated.items()))
        )
    notes.append("weights count as trainable (ONNX has no trainable flag); BatchNormalization mean/var as buffers")
    graph = Graph(path.stem, "onnx", input_specs, tuple(layers), tuple(o.name for o in g.output), "onnx", tuple(notes))
    return graph, input_shapes


def _bn_notes(layers: list[Layer], fused: int) -> list[str]:
    """How many BatchNormalization layers the file has, and whether BN was folded into convs."""
    bn = sum(1 for layer in layers if layer.op is OpKind.BATCHNORM)
    notes = [f"{bn} BatchNormalization node(s)"]
    if fused:
        notes.append(
            f"BatchNorm folded into {fused} conv(s) by the exporter (onnxscript FuseBatchNormIntoConv): "
            "BN scale and shift (2 x C per BN) gone, a conv bias (C_out) added"
        )
        return notes
    folded = [
        layer
        for layer in layers
        if layer.op is OpKind.CONV
        and layer.attrs.get("bias")
        and layer.params
        and layer.params[0].name.startswith("onnx::")
    ]
    if folded:
        notes.append(
            f"BatchNorm folded into {len(folded)} conv(s) by the exporter (inferred from their onnx::Conv_* "
            "weights and biases, what torch.onnx.export leaves in eval mode): BN scale and shift (2 x C per "
            "BN) gone, a conv bias (C_out) added"
        )
    return notes


def read(ref: Any, shapes: list[tuple[int, ...]] | None, options: ReadOptions) -> tuple[Graph, list[tuple[int, ...]]]:
    """Read a resolved reference (zooprof.reference.resolve.ModelRef) whose source is an .onnx path."""
    return read_onnx(Path(ref.source), shapes)

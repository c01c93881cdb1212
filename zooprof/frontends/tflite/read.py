"""TFLite frontend entry points: a .tflite file -> Graph, by reading the flatbuffer directly.

`read_tflite(path, shapes) -> (Graph, shapes)` reads a file (framework "tflite", trace method
"tflite-flatbuffer"); `read(ref, shapes, options)` is the frontend entry point the registry
(zooprof.frontends) names. No TensorFlow, LiteRT or flatbuffers package is needed: the few
tables zooprof reads are decoded with `struct` (flatbuffer.py, schema.py), every offset
checked against the file size, so a truncated or foreign file is a one-line UsageError,
never a crash. That also reads Edge TPU files, which no stock interpreter can load
(custom_ops.py).

Here: the input shapes are set, tensor shapes the file leaves dynamic are computed from the
ops that produce them (propagate.py; never a placeholder taken for a size), those that cannot
be (and every shape, when a new input shape changes them) are measured with the LiteRT
interpreter when it is installed (`measure_shapes`), the layers are built (build.py) and the graph's notes are written
(schema version, layout, Edge TPU, quantisation (quant.py), fused activations, folded
BatchNorm, shared and sparse weights, custom ops, approximated dtypes).

See docs/keras-tflite.md.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends import ReadOptions
from zooprof.frontends.tflite.build import GraphReader
from zooprof.frontends.tflite.custom_ops import EDGETPU_OP, edgetpu_note
from zooprof.frontends.tflite.flatbuffer import TFLiteFormatError
from zooprof.frontends.tflite.layout import fmt_shape
from zooprof.frontends.tflite.propagate import propagate
from zooprof.frontends.tflite.quant import quant_notes
from zooprof.frontends.tflite.schema import BAD_FILE_HINT, load
from zooprof.frontends.tflite.validate import validate
from zooprof.ir.graph import Graph
from zooprof.ir.ops import OpKind

Shape = tuple[int, ...]


def measure_shapes(
    path: Path, input_shapes: Sequence[Shape] | None, tensors: Sequence[int]
) -> tuple[dict[int, Shape], str | None]:
    """Shapes (file order) of `tensors` after one run of the LiteRT interpreter (no default
    delegates) on zero inputs of `input_shapes` (file order; None: as stored), for shapes the
    file leaves dynamic; ({}, why) when that is not possible."""
    try:
        import numpy as np
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError as exc:
        return {}, f"ai-edge-litert is not installed: {exc}"
    try:
        interp = Interpreter(
            model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
        if input_shapes:
            for d, shape in zip(interp.get_input_details(), input_shapes, strict=True):
                interp.resize_tensor_input(d["index"], list(shape))
        interp.allocate_tensors()
        for d in interp.get_input_details():
            interp.set_tensor(d["index"], np.zeros(tuple(d["shape"]), dtype=d["dtype"]))
        interp.invoke()
        details = {d["index"]: d for d in interp.get_tensor_details()}
        return {t: tuple(int(x) for x in details[t]["shape"]) for t in tensors if t in details}, None
    except Exception as exc:  # the interpreter rejects the model (custom ops, bad shapes)
        text = str(exc).strip()
        return {}, text.splitlines()[0][:200] if text else type(exc).__name__


def read_tflite(path: Path, shapes: list[tuple[int, ...]] | None = None) -> tuple[Graph, list[tuple[int, ...]]]:
    """Read a .tflite file into a Graph (framework "tflite", trace method "tflite-flatbuffer")
    and the input shapes used (logical order). `shapes` may change the batch only."""
    path = Path(path)
    try:
        return _read(path, shapes)
    except (TFLiteFormatError, struct.error) as exc:  # an options table read while building the layers
        raise UsageError(f"{path.name} is not a valid TFLite file: {exc}", BAD_FILE_HINT) from None


def _read(path: Path, shapes: list[tuple[int, ...]] | None) -> tuple[Graph, list[tuple[int, ...]]]:
    model = load(path)
    validate(model, path.name)
    reader = GraphReader(model, path.name)
    notes: list[str] = []
    desc = f" ({model.description.strip()})" if model.description.strip() else ""
    more = (
        f"; {model.subgraphs - 1} more subgraph(s) (control-flow bodies) are not analysed"
        if model.subgraphs > 1
        else ""
    )
    notes.append(f"TFLite schema version {model.version}{desc}: {len(model.ops)} operator(s) in subgraph 0{more}")
    input_shapes = reader.set_input_shapes(shapes, notes)
    dynamic: list[int] = []
    if reader.resize is None:
        reader.propagated, dynamic = propagate(model, reader.names, reader.const, reader.raw_shape)
        if reader.propagated:
            notes.append(
                f"{len(reader.propagated)} tensor shape(s) that the file leaves dynamic (its placeholder is not "
                "the size) computed from the ops that produce them (e.g. the rows of a FULLY_CONNECTED fed by a "
                "RESHAPE of N x H x W rows)"
            )
    if reader.resize is not None:
        wanted = [t.index for t in model.tensors if t.index not in reader.const]
        measured, why = measure_shapes(path, reader.resize, wanted)
        if not measured:
            raise UsageError(
                f"{path.name}: sizing the model at --input-shape "
                f"{', '.join(fmt_shape(s) for s in input_shapes)} needs the LiteRT interpreter, which "
                f"failed: {why}",
                "pip install 'zooprof[tflite]', or leave out --input-shape",
            )
        reader.measured = measured
        notes.append("every tensor shape measured with the LiteRT interpreter on zero inputs at that input shape")
    elif dynamic:
        batch = reader.batch[1] if reader.batch else None
        raw_inputs = [(batch, *model.tensors[t].shape[1:]) for t in model.inputs] if batch else None
        measured, why = measure_shapes(path, raw_inputs, dynamic)
        reader.measured = measured
        if measured:
            notes.append(
                f"{len(dynamic)} tensor shape(s) are dynamic in the file (the converter could not size "
                "them, nor can zooprof from their producers): measured with the LiteRT interpreter on zero inputs"
            )
        else:
            notes.append(
                f"{len(dynamic)} tensor shape(s) are dynamic in the file and could not be measured "
                f"({why}): their stored placeholder shapes are used, so counts on them are unreliable"
            )
    layers, stats = reader.layers()
    input_specs = tuple(reader.spec(t) for t in model.inputs)
    if reader.image:
        notes.append(
            "layout: NHWC in the file; image tensors are shown as N, C, H, W, conv weights as "
            "O, I, kH, kW (stored OHWI)"
        )
    if stats["edgetpu"]:
        notes.append(edgetpu_note(stats["edgetpu"]))
        notes.append(
            f"the Edge TPU program and its weights are {stats['edgetpu_bytes']:,} bytes of custom "
            "options, not counted as params"
        )
    notes.extend(quant_notes(reader, layers, input_specs, model.outputs))
    if stats["fused"]:
        which = ", ".join(f"{k} x{v}" for k, v in stats["fused"].most_common())
        notes.append(
            f"{sum(stats['fused'].values())} fused activation(s) ({which}) shown as their own in-place "
            "layers after the op that fuses them, so FLOPs count them as docs/counting.md does"
        )
    if any(layer.op is OpKind.CONV for layer in layers):
        notes.append(
            "BatchNorm, where the source model had it, is folded into the conv weights and biases by the "
            "TFLite converter: each BN's 4 x C values (gamma, beta, moving mean and variance, all in "
            "Keras' count_params) become C bias values (or nothing, if the conv had a bias), so params "
            "are lower than the Keras model's by 3 x C (or 4 x C) per BN"
        )
    if stats["dequantized_weights"]:
        notes.append(
            f"{stats['dequantized_weights']} DEQUANTIZE op(s) expand stored weights at run time; those "
            "weights are listed on the DEQUANTIZE layers"
        )
    readers = Counter(p.name for layer in layers for p in layer.params)
    shared = [n for n, k in readers.items() if k > 1]
    if shared:
        notes.append(
            f"{len(shared)} constant tensor(s) read by several ops, counted once "
            f"({', '.join(shared[:3])}{' ...' if len(shared) > 3 else ''}): shared weights, or equal "
            "tensors the converter merged (e.g. an untrained model's all-zero biases)"
        )
    custom = {k: v for k, v in stats["custom"].items() if k != EDGETPU_OP}
    if custom:
        notes.append("custom ops are uncounted: " + ", ".join(f"{k} x{v}" for k, v in custom.items()))
    sparse = sum(1 for t in model.tensors if t.sparse)
    if sparse:
        notes.append(f"{sparse} sparse tensor(s): their weight bytes are counted dense")
    if reader.dtype.approximated:
        notes.append(
            "dtypes without a zooprof equivalent, counted at the element size of: "
            + ", ".join(f"{k} as {v}" for k, v in sorted(reader.dtype.approximated.items()))
        )
    notes.append(
        "params: the stored constants each op reads as weights, at their stored dtype; TFLite has no "
        "trainable flag, so all count as trainable"
    )
    graph = Graph(
        path.stem,
        "tflite",
        input_specs,
        tuple(layers),
        tuple(reader.tensor_names[t] for t in model.outputs),
        "tflite-flatbuffer",
        tuple(notes),
    )
    return graph, input_shapes


def read(ref: Any, shapes: list[tuple[int, ...]] | None, options: ReadOptions) -> tuple[Graph, list[tuple[int, ...]]]:
    """Read a resolved reference (zooprof.reference.resolve.ModelRef) whose source is a .tflite path."""
    return read_tflite(Path(ref.source), shapes)

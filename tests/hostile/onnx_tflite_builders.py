"""Builders of the hostile ONNX and TFLite files (tests/hostile/test_onnx_tflite_files.py and
tests/frontends/test_onnx_tflite_validation.py): a small valid model of each format, made
in memory (onnx.helper; LiteRT's flatbuffer schema classes), and the mutations of issue 16.
Deterministic: seeded weights, seeded byte flips.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np

# --------------------------------------------------------------------------------------
# ONNX


def onnx_model(
    conv_attrs: dict[str, Any] | None = None,
    weight_dims: list[int] | None = None,
    weight_raw: bytes | None = None,
    names: dict[str, str] | None = None,
) -> Any:
    """x[1,3,8,8] -> Conv(16, 3x3, pads 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(10)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    names = names or {}
    w = numpy_helper.from_array(rng.standard_normal((16, 3, 3, 3)).astype(np.float32), "w")
    if weight_dims is not None or weight_raw is not None:
        w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=weight_dims or [16, 3, 3, 3])
        if weight_raw is not None:
            w.raw_data = weight_raw
    inits = [
        w,
        numpy_helper.from_array(np.zeros(16, np.float32), "b"),
        numpy_helper.from_array(rng.standard_normal((10, 16)).astype(np.float32), "fc_w"),
        numpy_helper.from_array(np.zeros(10, np.float32), "fc_b"),
    ]
    attrs = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], **(conv_attrs or {})}
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name=names.get("conv", "conv1"), **attrs),
        helper.make_node("Relu", ["c"], ["r"], name=names.get("relu", "relu1")),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="hostile")


def onnx_bytes(model: Any) -> bytes:
    return model.SerializeToString()


def set_attr(model: Any, node: str, name: str, value: Any) -> Any:
    """The model with attribute `name` of node `node` replaced by `value` (any attribute type)."""
    from onnx import helper

    for n in model.graph.node:
        if n.name == node:
            keep = [a for a in n.attribute if a.name != name]
            del n.attribute[:]
            n.attribute.extend(keep)
            n.attribute.append(helper.make_attribute(name, value))
    return model


def onnx_graph(nodes: list[Any], inits: list[Any] | None = None, shape: list[int] | None = None) -> Any:
    """A model of `nodes` reading x (float, `shape`, default [1, 4]) and writing y."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape or [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits or [],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def onnx_cycle() -> Any:
    from onnx import helper

    return onnx_graph(
        [
            helper.make_node("Add", ["x", "b"], ["a"], name="a"),
            helper.make_node("Relu", ["a"], ["b"], name="b"),
            helper.make_node("Relu", ["b"], ["y"], name="out"),
        ]
    )


def onnx_self_loop() -> Any:
    from onnx import helper

    return onnx_graph([helper.make_node("Add", ["x", "y"], ["y"], name="loop")])


def onnx_reverse_chain(n: int = 20_000) -> Any:
    """A chain of n Relu nodes stored last to first."""
    from onnx import helper

    names = ["x", *[f"t{i}" for i in range(1, n)], "y"]
    nodes = [helper.make_node("Relu", [names[i]], [names[i + 1]], name=f"relu{i}") for i in range(n)]
    return onnx_graph(nodes[::-1])


def onnx_huge_constant(op: str) -> Any:
    """x[1, 1] plus a constant that folding would make 33000 x 33000 (Expand, ConstantOfShape)
    or 6e8 long (Range)."""
    from onnx import TensorProto, helper, numpy_helper

    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    f32 = lambda name, v: numpy_helper.from_array(np.array(v, np.float32), name)  # noqa: E731
    if op == "Expand":
        nodes = [helper.make_node("Expand", ["one", "shape"], ["big"])]
        inits = [f32("one", [1.0]), i64("shape", [33000, 33000])]
    elif op == "ConstantOfShape":
        nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"], value=helper.make_tensor("v", 1, [1], [1]))]
        inits = [i64("shape", [33000, 33000])]
    else:
        nodes = [helper.make_node("Range", ["start", "limit", "delta"], ["big"])]
        inits = [f32("start", 0.0), f32("limit", 6e8), f32("delta", 1.0)]
    nodes.append(helper.make_node("Add", ["x", "big"], ["y"], name="add"))
    model = onnx_graph(nodes, inits, [1, 1])
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.FLOAT
    return model


def onnx_external(offset: int, length: int) -> tuple[Any, bytes]:
    """The small model with its conv weight in 'weights.bin' (2 KiB) at `offset`, `length`."""
    from onnx import TensorProto

    model = onnx_model()
    w = model.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "weights.bin"), ("offset", str(offset)), ("length", str(length))):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    return model, bytes(2048)


def flip_bytes(data: bytes, seed: int, count: int = 3) -> bytes:
    """`data` with `count` bytes at seeded positions XORed with seeded non-zero values."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(count):
        out[rng.randrange(len(out))] ^= rng.randrange(1, 256)
    return bytes(out)


# --------------------------------------------------------------------------------------
# TFLite


def tflite_model(mutate: Callable[[Any, Any], None] | None = None) -> bytes:
    """input[1,8,8,3] -> CONV_2D(4, 3x3, SAME) -> RELU -> output, written with LiteRT's schema
    classes; `mutate(model, schema)` edits the object tree before it is packed."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    rng = np.random.default_rng(0)

    def tensor(name: str, shape: list[int], buffer: int) -> Any:
        t = schema.TensorT()
        t.name, t.shape, t.type, t.buffer = name, shape, 0, buffer
        return t

    def buffer(data: np.ndarray | None) -> Any:
        b = schema.BufferT()
        if data is not None:
            b.data = np.frombuffer(data.astype(np.float32).tobytes(), np.uint8)
        return b

    model = schema.ModelT()
    model.version, model.description = 3, "hostile"
    codes = []
    for code in (3, 19):  # CONV_2D, RELU
        oc = schema.OperatorCodeT()
        oc.builtinCode = oc.deprecatedBuiltinCode = code
        oc.version = 1
        codes.append(oc)
    model.operatorCodes = codes
    model.buffers = [
        buffer(None),
        buffer(rng.standard_normal((4, 3, 3, 3))),
        buffer(np.zeros(4)),
        buffer(None),
    ]
    g = schema.SubGraphT()
    g.tensors = [
        tensor("input", [1, 8, 8, 3], 0),
        tensor("conv/filter", [4, 3, 3, 3], 1),
        tensor("conv/bias", [4], 2),
        tensor("conv", [1, 8, 8, 4], 0),
        tensor("relu", [1, 8, 8, 4], 0),
    ]
    conv = schema.OperatorT()
    conv.opcodeIndex, conv.inputs, conv.outputs = 0, [0, 1, 2], [3]
    opts = schema.Conv2DOptionsT()
    opts.padding, opts.strideW, opts.strideH = 0, 1, 1
    conv.builtinOptionsType, conv.builtinOptions = 1, opts
    relu = schema.OperatorT()
    relu.opcodeIndex, relu.inputs, relu.outputs = 1, [3], [4]
    g.operators, g.inputs, g.outputs, g.name = [conv, relu], [0], [4], "main"
    model.subgraphs = [g]
    if mutate is not None:
        mutate(model, schema)
    builder = flatbuffers.Builder(4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _input_shape(shape: list[int]) -> Callable[[Any, Any], None]:
    def f(m: Any, s: Any) -> None:
        m.subgraphs[0].tensors[0].shape = shape

    return f


def _weight_in_empty_buffer(m: Any, s: Any) -> None:
    m.subgraphs[0].tensors[1].buffer = 3


def _own_output(m: Any, s: Any) -> None:
    m.subgraphs[0].operators[1].inputs = [4]


def _later_output(m: Any, s: Any) -> None:
    m.subgraphs[0].operators[0].inputs = [4, 1, 2]


def _opcode_out_of_range(m: Any, s: Any) -> None:
    m.subgraphs[0].operators[1].opcodeIndex = 7


def _buffer_offset_out_of_range(m: Any, s: Any) -> None:
    b = m.buffers[1]
    b.data, b.offset, b.size = None, 10**9, 432


def _buffer_index_out_of_range(m: Any, s: Any) -> None:
    m.subgraphs[0].tensors[1].buffer = 99


def _short_buffer(m: Any, s: Any) -> None:
    m.buffers[1].data = m.buffers[1].data[:100]


#: name -> mutation of the small TFLite model that zooprof must refuse (exit 2)
TFLITE_MUTATIONS: dict[str, Callable[[Any, Any], None]] = {
    "tflite-input-minus-224": _input_shape([1, -224, 8, 3]),
    "tflite-input-zero": _input_shape([1, 0, 8, 3]),
    "tflite-input-int32-max": _input_shape([1, 2**31 - 1, 8, 3]),
    "tflite-weight-empty-buffer": _weight_in_empty_buffer,
    "tflite-weight-short-buffer": _short_buffer,
    "tflite-op-reads-own-output": _own_output,
    "tflite-op-reads-later-output": _later_output,
    "tflite-opcode-out-of-range": _opcode_out_of_range,
    "tflite-buffer-offset-out-of-range": _buffer_offset_out_of_range,
    "tflite-buffer-index-out-of-range": _buffer_index_out_of_range,
}

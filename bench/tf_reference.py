"""An independent MACs reference for Keras models: TensorFlow's own profiler.

`tf_profiler_macs(model, shape)`: the float ops of the conv and matmul nodes of the model's
concrete function at `shape` (2 per multiply-accumulate), the bodies of called functions included
(Keras 3's TensorFlow backend runs grouped convs in a function of their own). Used by
bench/catalogue.py and the Keras tests.
"""

from __future__ import annotations

from typing import Any

#: TensorFlow op types whose float_ops are multiply-adds (2 per MAC)
MAC_OPS = frozenset({"Conv2D", "DepthwiseConv2dNative", "Conv3D", "Conv2DBackpropInput", "MatMul", "BatchMatMulV2"})


def _source(name: str) -> str:
    """The node of a graph_def input ('node:0', '^node' for a control input)."""
    return name.lstrip("^").split(":")[0]


def body_graph(fdef: Any, inputs: list[Any]) -> Any:
    """The graph of a called function at its inputs' shapes. A variable's handle that the body only
    reads (a resource input whose handle data gives the variable's dtype and shape, consumed by
    ReadVariableOp alone) becomes a placeholder of that dtype and shape and its reads Identity ops,
    so the ops that use the weight see its shape: freezing without the values."""
    import tensorflow as tf
    from tensorflow.python.framework import importer
    from tensorflow.python.framework.func_graph import FuncGraph
    from tensorflow.python.framework.function_def_to_graph import function_def_to_graph_def
    from tensorflow.python.ops import handle_data_util

    shapes: list[Any] = []
    variables: dict[str, Any] = {}  # arg name -> the variable's shape and dtype
    for arg, tensor in zip(fdef.signature.input_arg, inputs, strict=True):
        if tensor.dtype == tf.resource:
            data = handle_data_util.get_resource_handle_data(tensor)
            if data.is_set and len(data.shape_and_type) == 1:
                variables[arg.name] = data.shape_and_type[0]
                shapes.append(tf.TensorShape(data.shape_and_type[0].shape))
                continue
        shapes.append(tensor.shape)
    graph_def, _ = function_def_to_graph_def(fdef, shapes)
    readers: dict[str, set[str]] = {}
    for node in graph_def.node:
        for name in node.input:
            readers.setdefault(_source(name), set()).add(node.op)
    only_read = {name for name in variables if readers.get(name, set()) <= {"ReadVariableOp"}}
    for node in graph_def.node:
        if node.name in only_read:
            node.attr["dtype"].type = variables[node.name].dtype
        elif node.op == "ReadVariableOp" and _source(node.input[0]) in only_read:
            node.op = "Identity"
            node.attr["T"].type = node.attr["dtype"].type
            del node.attr["dtype"]
    graph = FuncGraph(fdef.signature.name)
    with graph.as_default():
        importer.import_graph_def_for_function(graph_def, name="")
    return graph


def graph_flops(graph: Any, library: dict[str, Any]) -> dict[str, int]:
    """float_ops by op type of a graph, TensorFlow's profiler per node, the bodies of the
    functions it calls included (Keras 3's TF backend runs grouped convs in a function)."""
    import tensorflow as tf

    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    root = tf.compat.v1.profiler.profile(graph=graph, cmd="scope", options=options)
    per_node: dict[str, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.float_ops:
            per_node[node.name] = int(node.float_ops)
        stack.extend(node.children)
    out: dict[str, int] = {}
    for op in graph.get_operations():
        out[op.type] = out.get(op.type, 0) + per_node.get(op.name, 0)
        if op.type in ("PartitionedCall", "StatefulPartitionedCall"):
            body = body_graph(library[op.get_attr("f").name], list(op.inputs))
            for kind, flops in graph_flops(body, library).items():
                out[kind] = out.get(kind, 0) + flops
    return out


def tf_profiler_macs(model: Any, shape: tuple[int, ...], freeze: bool = False) -> int:
    """MACs of a Keras model by TensorFlow's profiler (tf.compat.v1.profiler, float_ops of the
    conv and matmul ops of the concrete function at `shape`, function bodies included) / 2.

    The float_ops of these ops depend on shapes alone, so the graph is profiled as traced, its
    variables read through their handles (`body_graph` gives a called function's reads the
    variables' shapes), and no weight is copied: 3.6 GiB peak for ConvNeXtXLarge (350 M params),
    build included. `freeze=True` profiles the frozen graph instead (convert_variables_to_constants_v2,
    the method before), which copies every weight into the graph several times over: 8 GiB more
    than the built model for ConvNeXtLarge (0.8 GB of weights; ConvNeXtXLarge has 1.4 GB).
    Both give the same MACs for the keras.applications models: checked side by side on
    MobileNetV2, ConvNeXtTiny, DenseNet121, EfficientNetB0 and NASNetMobile, and all 39 models
    with a reference in docs/catalogue.md (the frozen method's) get exactly that reference. Where a
    MAC op follows a called function without a reshape to a static shape, the frozen graph loses
    the call's output shape and the profiler that op's float_ops (a Dense after a grouped conv: its
    640 MACs), which the traced graph keeps."""
    import tensorflow as tf

    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(tf.TensorSpec(shape, tf.float32))
    if freeze:
        from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

        concrete = convert_variables_to_constants_v2(concrete)
    library = {f.signature.name: f for f in concrete.graph.as_graph_def().library.function}
    by_type = graph_flops(concrete.graph, library)
    return sum(v for k, v in by_type.items() if k in MAC_OPS) // 2

"""An independent MACs reference for Keras models: TensorFlow's own profiler.

`tf_profiler_macs(model, shape)`: the float ops of the conv and matmul nodes of the model's frozen
concrete function at `shape` (2 per multiply-accumulate), the bodies of called functions included
(Keras 3's TensorFlow backend runs grouped convs in a function of their own). Used by
bench/catalogue.py and the Keras tests.
"""

from __future__ import annotations

from typing import Any

#: TensorFlow op types whose float_ops are multiply-adds (2 per MAC)
MAC_OPS = frozenset({"Conv2D", "DepthwiseConv2dNative", "Conv3D", "Conv2DBackpropInput", "MatMul", "BatchMatMulV2"})


def graph_flops(graph: Any, library: dict[str, Any]) -> dict[str, int]:
    """float_ops by op type of a graph, TensorFlow's profiler per node, the bodies of the
    functions it calls included (Keras 3's TF backend runs grouped convs in a function)."""
    import tensorflow as tf
    from tensorflow.python.framework.function_def_to_graph import function_def_to_graph

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
            body = function_def_to_graph(library[op.get_attr("f").name], input_shapes=[t.shape for t in op.inputs])
            for kind, flops in graph_flops(body, library).items():
                out[kind] = out.get(kind, 0) + flops
    return out


def tf_profiler_macs(model: Any, shape: tuple[int, ...]) -> int:
    """MACs of a Keras model by TensorFlow's profiler (tf.compat.v1.profiler, float_ops of the
    conv and matmul ops of the frozen concrete function at `shape`, function bodies included) / 2."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(tf.TensorSpec(shape, tf.float32))
    frozen = convert_variables_to_constants_v2(concrete)
    library = {f.signature.name: f for f in frozen.graph.as_graph_def().library.function}
    by_type = graph_flops(frozen.graph, library)
    return sum(v for k, v in by_type.items() if k in MAC_OPS) // 2

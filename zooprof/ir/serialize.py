"""Graph <-> plain JSON-compatible dicts (used by result files and the analysis cache)."""

from __future__ import annotations

from typing import Any

from zooprof.ir.graph import Graph, Layer, ParamSpec, QuantSpec, TensorSpec
from zooprof.ir.ops import OpKind


def tensor_to_dict(t: TensorSpec) -> dict[str, Any]:
    d: dict[str, Any] = {"name": t.name, "shape": list(t.shape), "dtype": t.dtype}
    if t.quant is not None:
        d["quant"] = {"scale": list(t.quant.scale), "zero_point": list(t.quant.zero_point), "axis": t.quant.axis}
    return d


def tensor_from_dict(d: dict[str, Any]) -> TensorSpec:
    q = d.get("quant")
    quant = QuantSpec(tuple(q["scale"]), tuple(q["zero_point"]), q.get("axis")) if q else None
    return TensorSpec(d["name"], tuple(d["shape"]), d.get("dtype", "float32"), quant)


def param_to_dict(p: ParamSpec) -> dict[str, Any]:
    return {"name": p.name, "shape": list(p.shape), "dtype": p.dtype, "kind": p.kind}


def param_from_dict(d: dict[str, Any]) -> ParamSpec:
    return ParamSpec(d["name"], tuple(d["shape"]), d["dtype"], d["kind"])


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    return {
        "name": layer.name,
        "op": layer.op.value,
        "source_op": layer.source_op,
        "inputs": [tensor_to_dict(t) for t in layer.inputs],
        "outputs": [tensor_to_dict(t) for t in layer.outputs],
        "attrs": layer.attrs,
        "params": [param_to_dict(p) for p in layer.params],
        "scope": layer.scope,
        "inplace": layer.inplace,
    }


def layer_from_dict(d: dict[str, Any]) -> Layer:
    return Layer(
        name=d["name"],
        op=OpKind(d["op"]),
        source_op=d["source_op"],
        inputs=tuple(tensor_from_dict(t) for t in d["inputs"]),
        outputs=tuple(tensor_from_dict(t) for t in d["outputs"]),
        attrs=_untuple(d.get("attrs", {})),
        params=tuple(param_from_dict(p) for p in d.get("params", [])),
        scope=d.get("scope", ""),
        inplace=d.get("inplace", False),
    )


def graph_to_dict(g: Graph) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": g.name,
        "framework": g.framework,
        "inputs": [tensor_to_dict(t) for t in g.inputs],
        "layers": [layer_to_dict(layer) for layer in g.layers],
        "outputs": list(g.outputs),
        "trace_method": g.trace_method,
        "notes": list(g.notes),
    }
    if g.params_not_in_trace:  # written only when there are some: graphs without them read as before
        d["params_not_in_trace"] = [param_to_dict(p) for p in g.params_not_in_trace]
    return d


def graph_from_dict(d: dict[str, Any]) -> Graph:
    return Graph(
        name=d["name"],
        framework=d["framework"],
        inputs=tuple(tensor_from_dict(t) for t in d["inputs"]),
        layers=tuple(layer_from_dict(x) for x in d["layers"]),
        outputs=tuple(d["outputs"]),
        trace_method=d.get("trace_method", ""),
        notes=tuple(d.get("notes", [])),
        params_not_in_trace=tuple(param_from_dict(p) for p in d.get("params_not_in_trace", [])),
    )


def _untuple(attrs: dict[str, Any]) -> dict[str, Any]:
    """JSON turns tuples into lists; attributes are kept as tuples in memory."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items()}

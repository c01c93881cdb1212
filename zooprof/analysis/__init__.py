"""Static analyses over a Graph. Each pass returns one record per layer; `analyze` joins them,
then the detection pass (`stages`) splits fixed from data-dependent cost where a graph has stages.

Analyses never print and never import a framework.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from zooprof.analysis.flops import analyze_flops
from zooprof.analysis.guard import Problems
from zooprof.analysis.memory import MemoryResult, analyze_memory
from zooprof.analysis.params import ParamCount, analyze_params, params_not_in_trace
from zooprof.analysis.receptive_field import analyze_receptive_field
from zooprof.analysis.shapes import analyze_shapes
from zooprof.analysis.stages import annotate as annotate_stages
from zooprof.ir.graph import Graph
from zooprof.rules import RF

#: Layer attributes copied into the per-layer record (the tensor-geometry columns).
GEOMETRY_ATTRS = ("kernel", "stride", "padding", "dilation", "groups")


def rf_to_dict(rf: RF) -> dict[str, Any] | None:
    """The JSON form of a receptive field (see docs/result-schema.md)."""
    if rf.constant:  # fed by buffers or constants only: sees no input pixel
        return {"size": "none", "stride": None, "padding": None, "aligned": rf.aligned, "exact": rf.exact}
    if not rf.known:
        return {"size": "unknown", "stride": None, "padding": None, "aligned": rf.aligned, "exact": rf.exact}
    if rf.is_global:
        return {"size": "global", "stride": None, "padding": None, "aligned": rf.aligned, "exact": rf.exact}
    if not rf.axes:
        return None

    def collapse(values: list[int]) -> int | list[int]:
        return values[0] if len(set(values)) == 1 else values

    return {
        "size": collapse([a.size for a in rf.axes]),
        "stride": collapse([a.stride for a in rf.axes]),
        "padding": collapse([a.padding for a in rf.axes]),
        "aligned": rf.aligned,
        "exact": rf.exact,
    }


@dataclass(frozen=True)
class Analysis:
    layers: list[dict[str, Any]]
    totals: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # figures a pass could not compute (analysis/guard.py)


def analyze(graph: Graph) -> Analysis:
    """Run every static pass and return per-layer rows plus model totals."""
    problems = Problems()  # an unexpected case costs one figure of one layer, never the result
    n = len(graph.layers)
    shapes = analyze_shapes(graph, problems)
    fields = analyze_receptive_field(graph, problems)
    params = problems.whole("params", lambda: analyze_params(graph), lambda: [ParamCount()] * n)
    costs = analyze_flops(graph, problems)
    memory = problems.whole(
        "activation memory", lambda: analyze_memory(graph), lambda: MemoryResult([0] * n, [0] * n, 0, None)
    )

    rows: list[dict[str, Any]] = []
    for i, layer in enumerate(graph.layers):
        p, c, s = params[i], costs[i], shapes[i]
        row: dict[str, Any] = {
            "name": layer.name,
            "op": layer.op.value,
            "source_op": layer.source_op,
            "scope": layer.scope,
            "output_shape": list(layer.output.shape),
            "dtype": layer.output.dtype,
        }
        for key in GEOMETRY_ATTRS:
            if key in layer.attrs:
                v = layer.attrs[key]
                row[key] = list(v) if isinstance(v, tuple) else v
        row.update(
            rf=rf_to_dict(fields[i]),
            params=p.params,
            trainable_params=p.trainable,
            non_trainable_params=p.non_trainable,
            buffers=p.buffers,
            weight_bytes=p.weight_bytes,
            macs=c.macs,
            flops=c.flops,
            counted=c.counted,
            activation_bytes=memory.activation_bytes[i],
            live_bytes=memory.live_bytes[i],
            formula=list(s.formula),
        )
        if s.mismatch:
            row["shape_mismatch"] = s.mismatch
        if p.shared:
            row["shared_params"] = list(p.shared)
        if layer.inplace:
            row["inplace"] = True
        rows.append(row)

    total_macs = sum(r["macs"] for r in rows)
    for r in rows:
        r["macs_pct"] = round(100.0 * r["macs"] / total_macs, 3) if total_macs else 0.0
    counted = [r for r in rows if r["counted"]]
    uncounted = Counter(r["source_op"] for r in rows if not r["counted"])
    flops_by_op: Counter[str] = Counter()
    macs_by_op: Counter[str] = Counter()
    for r in rows:
        flops_by_op[r["op"]] += r["flops"]
        macs_by_op[r["op"]] += r["macs"]
    # stored tensors no layer uses (a submodule eval never calls): in the totals, in no row
    outside = problems.whole("params not in trace", lambda: params_not_in_trace(graph), lambda: None, "left out")

    def stored(key: str) -> int:
        return sum(r[key] for r in rows) + (outside[key] if outside else 0)

    totals = {
        "params": stored("params"),
        "trainable_params": stored("trainable_params"),
        "non_trainable_params": stored("non_trainable_params"),
        "buffers": stored("buffers"),
        "macs": sum(r["macs"] for r in rows),
        "flops": sum(r["flops"] for r in rows),
        "weight_bytes": stored("weight_bytes"),
        "activation_bytes": sum(r["activation_bytes"] for r in rows),
        "input_bytes": sum(t.nbytes for t in graph.inputs),
        "peak_activation_bytes": memory.peak_bytes,
        "peak_activation_layer": memory.peak_layer,
        "macs_by_op": {k: v for k, v in macs_by_op.items() if v},
        "flops_by_op": {k: v for k, v in flops_by_op.items() if v},
        "coverage": {
            "counted_layers": len(counted),
            "layers": len(rows),
            "percent": round(100.0 * len(counted) / len(rows), 2) if rows else 100.0,
            "uncounted_ops": dict(uncounted),
        },
        "shape_mismatches": sum(1 for r in rows if "shape_mismatch" in r),
        "rf_not_aligned": [r["name"] for r in rows if r["rf"] and not r["rf"]["aligned"]][:1],
    }
    if outside:
        totals["params_not_in_trace"] = outside
    # detection: stages, fixed vs data-dependent cost (no-op otherwise)
    problems.whole("detection stages", lambda: annotate_stages(graph, rows, totals), lambda: None, "totals not split")
    return Analysis(rows, totals, problems.notes())

"""Stages and data-dependent cost of detection models, over a Graph and its analysis rows.

Contract: `annotate(graph, rows, totals)` changes nothing for a graph without stages or
post-processing ops. Otherwise it adds to each row `stage` (transform, backbone, neck, head,
postprocess) and, where the layer's cost depends on the data, `data_dependent` (the unit:
"proposal", "detection" or "box", zooprof.ir.stages.UNITS); `totals["macs"]` and
`totals["flops"]` become the **fixed** cost (the layers whose shapes depend on the input size
only), `totals["data_dependent"]` lists the other parts with their cost per unit and the
count of this run, and `totals["stages"]` gives params and MACs per stage. Pure Python: no framework import.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from zooprof.ir.graph import Graph, Layer
from zooprof.ir.ops import OpKind
from zooprof.ir.stages import STAGES

Row = dict[str, Any]

POSTPROCESS_OPS = frozenset({OpKind.NMS, OpKind.DETECTION_POSTPROCESS})

#: Layer attributes that are bookkeeping, not the op's configuration.
BOOKKEEPING = ("stage", "data_dependent", "count", "aten_ops", "part")


def op_config(layer: Layer) -> dict[str, Any]:
    """A post-processing op's configuration (thresholds, limits, counts), for reports."""
    return {k: v for k, v in layer.attrs.items() if k not in BOOKKEEPING}


def has_stages(graph: Graph) -> bool:
    return any("stage" in layer.attrs for layer in graph.layers)


def annotate(graph: Graph, rows: list[Row], totals: dict[str, Any]) -> None:
    """Add stages and the fixed / data-dependent split to an analysis (see the module docstring)."""
    staged = has_stages(graph)
    if not staged and not any(layer.op in POSTPROCESS_OPS for layer in graph.layers):
        return
    for layer, row in zip(graph.layers, rows, strict=True):
        post = layer.op in POSTPROCESS_OPS
        stage = layer.attrs.get("stage") or ("postprocess" if post else None)
        if stage:
            row["stage"] = stage
        # a frontend that reads stages says which layers depend on the data; in a file, every NMS does
        unit = layer.attrs.get("data_dependent") if staged else ("box" if post else None)
        if unit:
            row["data_dependent"] = unit
        if post:
            row["postprocess"] = op_config(layer)
    dependent = [(layer, row) for layer, row in zip(graph.layers, rows, strict=True) if row.get("data_dependent")]
    if dependent:
        fixed = [row for row in rows if not row.get("data_dependent")]
        macs_by_op: Counter[str] = Counter()
        flops_by_op: Counter[str] = Counter()
        for row in fixed:
            macs_by_op[row["op"]] += row["macs"]
            flops_by_op[row["op"]] += row["flops"]
        totals.update(
            macs=sum(r["macs"] for r in fixed),
            flops=sum(r["flops"] for r in fixed),
            macs_by_op={k: v for k, v in macs_by_op.items() if v},
            flops_by_op={k: v for k, v in flops_by_op.items() if v},
        )
        parts = data_dependent_parts(dependent)
        totals["data_dependent"] = {
            "macs": sum(r["macs"] for _, r in dependent),
            "flops": sum(r["flops"] for _, r in dependent),
            "parts": parts,
            "note": "not in macs/flops: these figures are this run's; the cost per unit is the model's",
        }
    if staged:
        totals["stages"] = stage_totals(rows)


def _part_name(layer: Layer, unit: str) -> str:
    """The part a frontend named (the RoI heads' box, mask and keypoint heads), else each
    post-processing op its own, else the top module."""
    if layer.attrs.get("part"):
        return str(layer.attrs["part"])
    if unit == "box":
        return layer.name
    return (layer.scope or layer.name).split(".")[0]


def data_dependent_parts(dependent: list[tuple[Layer, Row]]) -> list[dict[str, Any]]:
    """Group the data-dependent layers: each RoI head (the box head per proposal, a mask or
    keypoint head per detection) as one part, each post-processing op (per box) as its own."""
    groups: dict[str, list[tuple[Layer, Row]]] = {}
    for layer, row in dependent:
        groups.setdefault(_part_name(layer, row["data_dependent"]), []).append((layer, row))
    parts = []
    for name, members in groups.items():
        first_layer, first_row = members[0]
        unit = first_row["data_dependent"]
        count = first_layer.attrs.get("count")
        counted = all(r["counted"] for _, r in members)
        macs = sum(r["macs"] for _, r in members)
        flops = sum(r["flops"] for _, r in members) if counted else None
        part: dict[str, Any] = {
            "name": name,
            "stage": first_row.get("stage"),
            "unit": unit,
            "count": count,
            "layers": len(members),
            "counted": counted,
            "macs": macs,
            "flops": flops,
            "macs_per_unit": per_unit(macs, count),
            "flops_per_unit": per_unit(flops, count),
        }
        if not counted and unit != "box":  # a head with a layer no rule costs: say which, keep its MACs
            missing = [layer.name for layer, r in members if not r["counted"]]
            part["why_not_counted"] = f"{len(missing)} layer(s) with no cost rule: {', '.join(missing[:5])}"
        elif not counted:
            part["why_not_counted"] = (
                "its work depends on how many boxes pass each step (score threshold, "
                "top-k, NMS); it has no conv, dense or matmul, so 0 MACs"
            )
            part["macs_per_unit"] = 0
        if unit == "box":
            part["config"] = op_config(first_layer)
            if count is None:
                candidates = part["config"].get("anchors", part["config"].get("boxes"))
                part["count_note"] = (
                    f"{candidates:,} candidate boxes; how many pass the score threshold into NMS "
                    "depends on the data (read from a file: no run)"
                    if candidates
                    else "n/a (read from a file: no run, so no box count)"
                )
        parts.append(part)
    return parts


def per_unit(total: int | None, count: int | None) -> int | float | None:
    """Cost per proposal or box: exact when it divides (it does for layers that run once per
    unit); None when the run had no unit to divide by."""
    if total is None or not count:
        return None
    return total // count if total % count == 0 else round(total / count, 3)


def stage_totals(rows: list[Row]) -> list[dict[str, Any]]:
    """Per stage, in execution order: layers, params, fixed MACs/FLOPs, and this run's
    data-dependent MACs/FLOPs."""
    order = [s for s in STAGES if any(r.get("stage") == s for r in rows)]
    order += sorted({r["stage"] for r in rows if r.get("stage") and r["stage"] not in STAGES})
    out = []
    for stage in order:
        members = [r for r in rows if r.get("stage") == stage]
        fixed = [r for r in members if not r.get("data_dependent")]
        dependent = [r for r in members if r.get("data_dependent")]
        out.append(
            {
                "stage": stage,
                "layers": len(members),
                "params": sum(r["params"] for r in members),
                "macs": sum(r["macs"] for r in fixed),
                "flops": sum(r["flops"] for r in fixed),
                "data_dependent_macs": sum(r["macs"] for r in dependent),
                "data_dependent_flops": sum(r["flops"] for r in dependent),
                "data_dependent_layers": len(dependent),
                "uncounted_layers": sum(1 for r in members if not r["counted"]),
            }
        )
    return out

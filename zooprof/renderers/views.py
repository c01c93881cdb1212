"""View transforms over layer rows, applied before rendering.

Contract: each takes a list of layer rows (dicts as in ProfileResult.layers) and returns a
new list; none changes its input or computes a metric that the analyses did not give.
"""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]
SUMMED = (
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
    "macs_pct",
    "flops",
    "weight_bytes",
    "activation_bytes",
)


def layer_path(row: Row) -> list[str]:
    """A layer's place in the model: its dotted name (PyTorch, Keras), or for names that are
    not dotted paths (ONNX node names like /features/features.0/Conv) its scope, then the name."""
    name = row["name"]
    if "/" in name and row.get("scope"):
        return [*row["scope"].split("."), name]
    return name.split(".")


def collapse(rows: list[Row], depth: int | None) -> list[Row]:
    """Merge layers nested deeper than `depth` name components into their ancestor.

    `depth=1` shows one row per top-level module (features, avgpool, classifier). A merged
    row sums the additive columns, keeps the last layer's output shape and receptive field,
    and says how many layers it holds. Groups appear in order of their first layer.
    """
    if depth is None or depth <= 0:
        return rows
    groups: dict[str, list[Row]] = {}
    for row in rows:
        key = ".".join(layer_path(row)[:depth])
        groups.setdefault(key, []).append(row)
    out = []
    for key, members in groups.items():
        if len(members) == 1 and members[0]["name"] == key:
            out.append(members[0])
            continue
        last = members[-1]
        merged: Row = {
            "name": key,
            "op": f"{len(members)} layers",
            "source_op": "group",
            "output_shape": last["output_shape"],
            "rf": last.get("rf"),
            "formula": [],
            "counted": all(m.get("counted", True) for m in members),
        }
        for col in SUMMED:
            merged[col] = sum(m.get(col, 0) for m in members)
        for key in ("stage", "data_dependent"):  # detection models: kept when every member agrees
            values = {m.get(key) for m in members}
            if len(values) == 1 and None not in values:
                merged[key] = values.pop()
        merged["macs_pct"] = round(merged["macs_pct"], 3)
        out.append(merged)
    return out

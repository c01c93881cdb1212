"""Layer alignment: the layers with MACs (conv, dense...) of every format, side by side.

Converters keep the layers that do the work but not always their order: the TFLite
converter runs a ResNet block's shortcut conv before or after its branch convs, as it likes.
So layers are aligned by their place in the graph, not by execution order:

1. each layer with MACs gets its depth, the number of layers with MACs on the longest path
   from the model's input to it (itself included), from the graph's tensors; layers without
   MACs (BatchNorm, activations, pads, reshapes) do not count, since converters fold, fuse
   and insert those;
2. at each depth, the layers are matched across formats by what they compute: channels,
   positions (the other output dimensions) and MACs, whatever their order; the rest are
   paired in execution order, so a real difference shows as one row;
3. rows follow the depth, then the first format's execution order.

A row agrees when every format has the layer with the same output shape (N, C, H, W), or the
same channels and positions: a Keras Dense on an image (a 1x1 conv, N x C x H x W) is one
FULLY_CONNECTED on N*H*W rows in TFLite. The first row that does not agree is named.
"""

from __future__ import annotations

from typing import Any

from zooprof.compare.parity.model import FormatRecord, LayerAlignment, LayerRow
from zooprof.compare.parity.wording import counted, shape_text
from zooprof.result.document import ProfileResult

Row = dict[str, Any]


def has_macs(row: Row) -> bool:
    return bool(row["macs"] > 0 and row["counted"])


def mac_layers(result: ProfileResult) -> list[tuple[int, Row]]:
    """(depth, row) of each layer with MACs, in execution order; the depth is the number of
    layers with MACs on the longest path from an input (execution order when the result holds
    no graph)."""
    rows = result.layers
    glayers = (result.graph or {}).get("layers") or []
    if len(glayers) != len(rows):
        return [(i + 1, r) for i, r in enumerate(r for r in rows if has_macs(r))]
    depth_of: dict[str, int] = {}
    out = []
    for row, gl in zip(rows, glayers, strict=True):
        depth = max((depth_of.get(t["name"], 0) for t in gl.get("inputs", [])), default=0)
        if has_macs(row):
            depth += 1
            out.append((depth, row))
        for t in gl.get("outputs", []):
            depth_of[t["name"]] = depth
    return out


def work(row: Row) -> tuple[int, int, int]:
    """(channels, positions, MACs): what a layer computes, whatever its layout (a conv's
    channels are axis 1, a dense layer's the last axis)."""
    shape = [int(d) for d in row["output_shape"]]
    channels = (shape[-1] if row["op"] == "dense" else shape[1]) if len(shape) > 1 else (shape[0] if shape else 1)
    total = 1
    for d in shape:
        total *= d
    return channels, total // max(channels, 1), int(row["macs"])


def match(cols: list[str], groups: dict[str, list[Row]]) -> list[dict[str, Row | None]]:
    """The layers of one depth across formats: matched by `work`, the rest paired in order."""
    base, others = cols[0], cols[1:]
    used: dict[str, set[int]] = {c: set() for c in cols}
    found: dict[int, dict[str, Row | None]] = {}
    for i, row in enumerate(groups[base]):
        cells: dict[str, Row | None] = {base: row}
        picks = {}
        for c in others:
            j = next(
                (j for j, r in enumerate(groups[c]) if j not in used[c] and work(r) == work(row)),
                None,
            )
            if j is None:
                break
            picks[c] = j
        else:
            for c, j in picks.items():
                used[c].add(j)
                cells[c] = groups[c][j]
            used[base].add(i)
            found[i] = cells
    rest = {c: [r for j, r in enumerate(groups[c]) if j not in used[c]] for c in others}
    out = []
    for i, row in enumerate(groups[base]):
        if i in found:
            out.append(found[i])
        else:
            out.append({base: row, **{c: rest[c].pop(0) if rest[c] else None for c in others}})
    while any(rest.values()):
        out.append({base: None, **{c: rest[c].pop(0) if rest[c] else None for c in others}})
    return out


def align_layers(formats: list[FormatRecord], results: dict[str, ProfileResult]) -> LayerAlignment:
    """The layers with MACs (conv, dense...) of every format, side by side by their place in
    the graph (see the module docstring). `results` holds each format's ProfileResult by its column."""
    cols = [f.column for f in formats]
    per = {c: mac_layers(results[c]) for c in cols}
    count = {c: len(per[c]) for c in cols}
    depths = sorted({d for c in cols for d, _ in per[c]})
    cells_list = []
    for depth in depths:
        groups = {c: [r for d, r in per[c] if d == depth] for c in cols}
        cells_list.extend(match(cols, groups) if cols else [])
    rows = []
    first = None
    relaid = 0
    for i, cells in enumerate(cells_list):
        present = [r for r in cells.values() if r is not None]
        shapes = {c: (r["output_shape"] if r else None) for c, r in cells.items()}
        macs = {c: (r["macs"] if r else None) for c, r in cells.items()}
        same = len(present) == len(cols) and all(s == shapes[cols[0]] for s in shapes.values())
        agree = same or (len(present) == len(cols) and len({work(r) for r in present}) == 1)
        relaid += agree and not same
        row = LayerRow(
            index=i + 1,
            kind="/".join(sorted({r["op"] for r in present})),
            names={c: (r["name"] if r else None) for c, r in cells.items()},
            shapes=shapes,
            shape_text={c: shape_text(s) for c, s in shapes.items()},
            macs=macs,
            agree=agree,
            macs_agree=len(present) == len(cols) and len(set(macs.values())) == 1,
        )
        rows.append(row)
        if not agree and first is None:
            missing = [c for c in cols if cells[c] is None]
            where = f"#{i + 1} ({row.kind} {next(r['name'] for r in present)})"
            if missing:
                first = (
                    f"{where}: {', '.join(missing)} has no layer here ("
                    + ", ".join(f"{c}: {count[c]}" for c in cols)
                    + " conv/dense layers)"
                )
            else:
                first = f"{where}: " + ", ".join(f"{c} {row.shape_text[c]}" for c in cols)
    if not cols:
        text = "no formats to align"
    elif first is None:
        text = (
            f"per-layer shapes: all {count[cols[0]]} conv/dense layers agree in N, C, H, W order across "
            f"{len(cols)} formats"
        )
        if relaid:
            text += (
                f" ({counted(relaid, 'layer')} agree as channels x positions: a dense layer on an image, "
                "which one format lists as a 1x1 conv and another as rows x channels)"
            )
    else:
        text = f"per-layer shapes: first disagreement at {first}"
    return LayerAlignment(
        formats=cols, count=count, rows=rows, agree=first is None, first_disagreement=first, text=text
    )

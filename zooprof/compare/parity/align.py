"""Layer alignment: the layers with MACs (conv, dense...) of every format, side by side.

Converters keep the layers that do the work in the same execution order, so the i-th layer
with MACs of one format is compared with the i-th of the others: output shape (N, C, H, W)
and MACs. The first row where the shapes disagree (or a format has no layer) is named.
"""

from __future__ import annotations

from zooprof.compare.parity.model import FormatRecord, LayerAlignment, LayerRow
from zooprof.compare.parity.wording import shape_text
from zooprof.result.document import ProfileResult


def align_layers(formats: list[FormatRecord], results: dict[str, ProfileResult]) -> LayerAlignment:
    """The layers with MACs (conv, dense...) of every format, side by side in execution order.

    `results` holds each format's ProfileResult by its column."""
    cols = [f.column for f in formats]
    per = {c: [r for r in results[c].layers if r["macs"] > 0 and r["counted"]] for c in cols}
    count = {c: len(per[c]) for c in cols}
    rows = []
    first = None
    for i in range(max(count.values(), default=0)):
        cells = {c: per[c][i] if i < count[c] else None for c in cols}
        present = [r for r in cells.values() if r is not None]
        shapes = {c: (r["output_shape"] if r else None) for c, r in cells.items()}
        macs = {c: (r["macs"] if r else None) for c, r in cells.items()}
        agree = len(present) == len(cols) and all(s == shapes[cols[0]] for s in shapes.values())
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
    else:
        text = f"per-layer shapes: first disagreement at {first}"
    return LayerAlignment(
        formats=cols, count=count, rows=rows, agree=first is None, first_disagreement=first, text=text
    )

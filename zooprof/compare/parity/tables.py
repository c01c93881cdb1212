"""The text cells of the two parity tables: one row per format, and one row per conv/dense layer.

They are part of the report (and of its JSON) so that every renderer shows the same cells.
"""

from __future__ import annotations

from zooprof.compare.parity.model import FormatRecord, LayerAlignment, TextTable
from zooprof.compare.parity.wording import thousands

SUMMARY_HEADINGS = (
    "Format",
    "File",
    "Params",
    "Trainable",
    "Non-trainable/buffers",
    "MACs",
    "FLOPs",
    "Weight bytes",
    "Weight dtype(s)",
    "Layers",
    "Coverage",
)
LATENCY_HEADINGS = ("Latency (median, batch 1)", "Runtime")


def summary_table(formats: list[FormatRecord], latency: bool) -> TextTable:
    """One row per format: its figures ('–' where it could not be read), latency, status."""
    headings = [*SUMMARY_HEADINGS, *(LATENCY_HEADINGS if latency else ()), "Status"]
    rows = []
    for f in formats:
        figs = f.figures
        if figs is not None:
            cells = [
                f.column,
                f.file,
                thousands(figs.params),
                thousands(figs.trainable_params),
                thousands(figs.non_trainable_or_buffers),
                thousands(figs.macs),
                thousands(figs.flops),
                thousands(figs.weight_bytes),
                ", ".join(figs.weight_dtypes) or "–",
                str(figs.layers),
                f"{figs.coverage_percent:g} %",
            ]
        else:
            cells = [f.column, f.file, *["–"] * (len(SUMMARY_HEADINGS) - 2)]
        if latency:
            lat = f.latency
            cells += [lat.text, lat.runtime or "–"] if lat else ["–", "–"]
        cells.append("ok" if f.status == "ok" else f"{f.status}: {f.reason}")
        rows.append(cells)
    return TextTable(headings=headings, rows=rows)


def layer_table(layers: LayerAlignment) -> TextTable:
    """One row per layer with MACs: its kind, name, output shape per format, MACs, agreement."""
    cols = layers.formats
    headings = ["#", "Kind", f"Layer ({cols[0]})" if cols else "Layer", *cols, "MACs", "Agree"]
    rows = []
    for r in layers.rows:
        macs = [r.macs[c] for c in cols]
        first = macs[0]
        if r.macs_agree and first is not None:
            mac_text = thousands(first)
        else:
            mac_text = " / ".join("–" if m is None else thousands(m) for m in macs)
        rows.append(
            [
                str(r.index),
                r.kind,
                r.names[cols[0]] or "–",
                *(r.shape_text[c] for c in cols),
                mac_text,
                "yes" if r.agree else "NO",
            ]
        )
    return TextTable(headings=headings, rows=rows)

"""`zooprof compare-formats` as text: the terminal table and Markdown, from a `ParityReport`.

Layout only: every cell and every sentence comes from the report
(zooprof.compare.parity.model); nothing here computes a figure or writes an explanation.
"""

from __future__ import annotations

from zooprof.compare.parity.model import ParityReport, TextTable
from zooprof.renderers.escape import md_cell
from zooprof.renderers.fit import FitColumn

TITLE = "One model, several formats"
LAYERS_TITLE = "Conv/dense layers by their place in the graph: output shape (N, C, H, W) per format"
#: summary columns aligned left (the others are figures, aligned right)
LEFT_ALIGNED = ("Format", "File", "Weight dtype(s)", "Status", "Runtime")
#: summary columns: when the table is wider than the terminal, the highest is hidden first
SUMMARY_DROP = {
    "Format": 0,
    "Status": 1,
    "Params": 2,
    "MACs": 3,
    "Latency (median, batch 1)": 4,
    "File": 5,
    "Coverage": 6,
    "Weight bytes": 7,
    "Weight dtype(s)": 8,
    "Runtime": 9,
    "Layers": 10,
    "Trainable": 11,
    "FLOPs": 12,
    "Non-trainable/buffers": 13,
}
#: layer table: the shapes per format and the verdict are the point; these go first
LAYER_DROP = {"#": 4, "Kind": 3, "MACs": 2}


def summary_column(heading: str) -> FitColumn:
    text = heading in LEFT_ALIGNED
    return FitColumn(
        heading,
        figure=not text,
        drop=SUMMARY_DROP.get(heading, 14),
        right=not text,
        min_width=10,
        cut="end" if heading == "Status" else "middle",
    )


def layer_column(heading: str, index: int) -> FitColumn:
    if index == 2:  # "Layer (format)": a name
        return FitColumn(heading, drop=1, min_width=12)
    if heading in ("Kind", "Agree"):
        return FitColumn(heading, drop=LAYER_DROP.get(heading, 0), min_width=6)
    return FitColumn(heading, figure=True, drop=LAYER_DROP.get(heading, 0), right=heading in ("#", "MACs"))


def render_table(report: ParityReport, width: int | None = None, wide: bool = False) -> str:
    """The summary table, the explanations as a list, and the layer table (rich, no colour),
    fitted to `width` unless `wide`."""
    from rich.text import Text

    from zooprof.renderers.escape import printable
    from zooprof.renderers.fit import fit_table
    from zooprof.renderers.textconsole import exported, recording_console

    console = recording_console(width)
    summary = report.summary_table
    styles = ["" if row[-1] == "ok" else "red" for row in summary.rows]
    columns = [summary_column(h) for h in summary.headings]
    fit_table(TITLE, columns, summary.rows, width, wide, styles).print_to(console)
    console.print(Text(""))
    for line in report.explanations:
        console.print(Text(printable(f"- {line}")))
    layers = report.layer_table
    if layers.rows:
        console.print(Text(""))
        styles = ["" if row[-1] == "yes" else "red" for row in layers.rows]
        columns = [layer_column(h, i) for i, h in enumerate(layers.headings)]
        fit_table(LAYERS_TITLE, columns, layers.rows, width, wide, styles).print_to(console)
    return exported(console)


def md_table(table: TextTable) -> list[str]:
    lines = ["| " + " | ".join(md_cell(h) for h in table.headings) + " |", "|" + "---|" * len(table.headings)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in table.rows]
    return lines


def render_markdown(report: ParityReport) -> str:
    """The summary table, the differences as a list, and the layer table, in Markdown."""
    lines = [f"# {TITLE}", ""]
    lines += md_table(report.summary_table)
    lines += ["", "## Differences", ""]
    lines += [f"- {md_cell(x)}" for x in report.explanations]
    if report.layer_table.rows:
        lines += ["", "## Conv/dense layers: output shape (N, C, H, W) per format", ""]
        lines += md_table(report.layer_table)
    return "\n".join(lines) + "\n"

"""`zooprof compare-formats` as text: the terminal table and Markdown, from a `ParityReport`.

Layout only: every cell and every sentence comes from the report
(zooprof.compare.parity.model); nothing here computes a figure or writes an explanation.
"""

from __future__ import annotations

from zooprof.compare.parity.model import ParityReport, TextTable

TITLE = "One model, several formats"
LAYERS_TITLE = "Conv/dense layers by their place in the graph: output shape (N, C, H, W) per format"
#: summary columns aligned left (the others are figures, aligned right)
LEFT_ALIGNED = ("Format", "File", "Weight dtype(s)", "Status", "Runtime")


def render_table(report: ParityReport, width: int | None = None) -> str:
    """The summary table, the explanations as a list, and the layer table (rich, no colour)."""
    from rich.table import Table
    from rich.text import Text

    from zooprof.renderers.textconsole import exported, recording_console

    console = recording_console(width)
    summary = report.summary_table
    table = Table(title=Text(TITLE), title_justify="left", pad_edge=False)
    for h in summary.headings:
        table.add_column(Text(h), justify="left" if h in LEFT_ALIGNED else "right", overflow="fold")
    for row in summary.rows:
        table.add_row(*(Text(c) for c in row), style="" if row[-1] == "ok" else "red")
    console.print(table)
    console.print(Text(""))
    for line in report.explanations:
        console.print(Text(f"- {line}"))
    layers = report.layer_table
    if layers.rows:
        console.print(Text(""))
        lt = Table(title=Text(LAYERS_TITLE), title_justify="left", pad_edge=False)
        for h in layers.headings:
            lt.add_column(Text(h), justify="right" if h in ("#", "MACs") else "left", overflow="fold")
        for row in layers.rows:
            lt.add_row(*(Text(c) for c in row), style="" if row[-1] == "yes" else "red")
        console.print(lt)
    return exported(console)


def md_cell(text: str) -> str:
    """Text safe in a Markdown table cell: pipes escaped, on one line."""
    return text.replace("|", "\\|").replace("\n", " ")


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

"""`zooprof power-log` as text: the rail table with the board total and board state lines (the
console), the per-sample timeline as CSV, and the summary with the timeline as JSON. The HTML page
is renderers/powerlog_html.py. Computes nothing: every figure is in the summary
(zooprof.sensors.tegrastats.summarize) or the timeline."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from zooprof.renderers.documents import PowerLog
from zooprof.renderers.escape import csv_cells, csv_record

HEADINGS = ("Rail", "Samples", "Mean mW", "Min mW", "Max mW", "Energy J", "Duration s")
#: when the table is wider than the terminal, the highest is hidden first; 0: always shown
DROP_RANK = {"Rail": 0, "Mean mW": 0, "Energy J": 1, "Max mW": 2, "Min mW": 3, "Duration s": 4, "Samples": 5}


def figure(v: object, spec: str = ",.0f") -> str:
    """A figure of the summary: a number as `spec` says, '–' for none, else the text as is
    (an energy that could not be integrated is 'n/a (why)')."""
    return format(v, spec) if isinstance(v, (int, float)) else ("–" if v is None else str(v))


def rail_cells(r: dict[str, Any]) -> list[str]:
    """The cells after the rail's name, in HEADINGS order."""
    return [
        str(r["samples"]),
        figure(r["mean_mw"]),
        figure(r["min_mw"]),
        figure(r["max_mw"]),
        figure(r["energy_j"], ",.2f"),
        figure(r["duration_s"], ",.1f"),
    ]


def board_lines(board: dict[str, object]) -> list[str]:
    """RAM, CPU/GPU load and temperatures over the window, one line each."""

    def spread(d: object, digits: str = ",.1f") -> str:
        r: dict[str, object] = d  # type: ignore[assignment]
        if not r.get("samples"):
            return "n/a (not in the log)"
        return (
            f"mean {figure(r['mean'], digits)}, min {figure(r['min'], digits)}, max {figure(r['max'], digits)} "
            f"{r['unit']}"
        )

    lines = [
        f"RAM used: {spread(board['ram_used_mb'], ',.0f')} (of {figure(board['ram_total_mb'])} MB)",
        f"CPU load (mean of online cores): {spread(board['cpu_load_pct'])}",
        f"GPU load: {spread(board['gpu_load_pct'])}",
    ]
    temps: dict[str, object] = board["temperatures_c"]  # type: ignore[assignment]
    if temps:
        lines.append("temperatures: " + "; ".join(f"{n} {spread(t)}" for n, t in temps.items()))
    return lines


def power_log_table(doc: PowerLog) -> str:
    """The registry's entry (zooprof.renderers) for the console: rails, board total, board state."""
    from rich.text import Text

    from zooprof.renderers.fit import FitColumn, fit_table
    from zooprof.renderers.textconsole import exported, recording_console

    summary = doc.summary
    columns = [FitColumn(h, figure=h != "Rail", drop=DROP_RANK[h], right=h != "Rail", min_width=12) for h in HEADINGS]
    rails: dict[str, dict[str, Any]] = summary["rails"]
    total: dict[str, Any] = summary["total"]
    rows = [[name, *rail_cells(r)] for name, r in [*rails.items(), ("board total", total)]]
    title = f"{doc.name}: {summary['samples']} samples, time from {summary['time_source']}"
    fitted = fit_table(title, columns, rows, doc.width, doc.wide, pad_edge=True)
    console = recording_console(doc.width, doc.color)
    fitted.print_to(console)
    console.print(
        Text(
            f"board total: {figure(total['mean_mw'])} mW mean, {figure(total['energy_j'], ',.2f')} J "
            f"(total from {total['source']})"
        )
    )
    for line in board_lines(summary["board"]):
        console.print(Text(line))
    return exported(console, doc.color)


def power_log_csv(doc: PowerLog) -> str:
    """The registry's entry (zooprof.renderers) for .csv: the per-sample timeline."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=doc.columns, lineterminator="\n")
    csv.writer(buf, lineterminator="\n").writerow(csv_cells(doc.columns))  # rail names come from the log
    w.writerows(csv_record(r) for r in doc.rows)
    return buf.getvalue()


def power_log_json(doc: PowerLog) -> str:
    """The registry's entry (zooprof.renderers) for .json: the summary and the timeline."""
    return json.dumps({"file": doc.file, "summary": doc.summary, "timeline": doc.rows}, indent=2) + "\n"

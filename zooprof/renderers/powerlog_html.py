"""`zooprof power-log -o x.html`: one offline page (no script, no request) with the rail table,
the board state and an SVG chart of each rail's power over time. Every text is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from zooprof.renderers.documents import PowerLog
from zooprof.renderers.powerlog_text import HEADINGS, board_lines, rail_cells

WIDTH, HEIGHT, PAD = 900, 320, 48
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _chart(columns: list[str], rows: list[dict[str, Any]], rails: list[str]) -> str:
    series = [
        (name, [(float(r["seconds"]), float(r[name])) for r in rows if r.get(name) not in ("", None)])
        for name in [*rails, "total_mw"]
        if name in columns
    ]
    points = [p for _, pts in series for p in pts]
    if len(points) < 2:
        return "<p>Too few samples to draw a timeline.</p>"
    t0, t1 = min(p[0] for p in points), max(p[0] for p in points)
    top = max(p[1] for p in points) * 1.05 or 1.0
    sx = (WIDTH - 2 * PAD) / ((t1 - t0) or 1.0)
    sy = (HEIGHT - 2 * PAD) / top

    def xy(t: float, v: float) -> str:
        return f"{PAD + (t - t0) * sx:.1f},{HEIGHT - PAD - v * sy:.1f}"

    parts = [
        f'<svg role="img" aria-label="power over time" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#444"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#444"/>',
        f'<text x="{PAD}" y="{PAD - 8}" font-size="12">mW (max {top / 1.05:,.0f})</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 28}" font-size="12" text-anchor="end">'
        f"seconds ({t0:g} to {t1:g})</text>",
    ]
    for i, (name, pts) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        label = "board total" if name == "total_mw" else name
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
            f'points="{" ".join(xy(t, v) for t, v in pts)}"><title>{escape(label)}</title></polyline>'
        )
        parts.append(
            f'<text x="{WIDTH - PAD + 4}" y="{PAD + 14 * i}" font-size="11" fill="{colour}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_power_log_html(name: str, summary: dict[str, Any], columns: list[str], rows: list[dict[str, Any]]) -> str:
    rails: dict[str, dict[str, Any]] = summary["rails"]
    total = summary["total"]
    body = [
        f"<h1>Power log: {escape(name)}</h1>",
        f"<p>{summary['samples']} samples; time from {escape(str(summary['time_source']))}; board total from "
        f"{escape(str(total['source']))}.</p>",
    ]
    unreadable = summary.get("unreadable_lines") or {}
    if unreadable.get("count"):
        body.append(
            f"<p class=warn>{unreadable['count']} line(s) could not be read and were left out, e.g. "
            + "; ".join(f"line {n}: <code>{escape(t[:80])}</code>" for n, t in unreadable["first"][:3])
            + ".</p>"
        )
    body.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in HEADINGS) + "</tr></thead><tbody>")
    for rail, r in [*rails.items(), ("board total", total)]:
        body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in [rail, *rail_cells(r)]) + "</tr>")
    body.append("</tbody></table>")
    body.append(_chart(columns, rows, list(rails)))
    board = summary.get("board") or {}
    if board:
        body.append(
            "<h2>Board state</h2><ul>" + "".join(f"<li>{escape(line)}</li>" for line in board_lines(board)) + "</ul>"
        )
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}"
        ".warn{color:#a40}"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>Power log: {escape(name)}</title><style>{style}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def power_log_html(doc: PowerLog) -> str:
    """The registry's entry (zooprof.renderers) for .html."""
    return render_power_log_html(doc.name, doc.summary, doc.columns, doc.rows)

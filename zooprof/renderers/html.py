"""The self-contained HTML report: one file that opens offline (CSS, JS and data inlined; no
network request of any kind), made from Jinja2 templates with the data embedded as JSON.

Names from model files reach the page in two ways only: Jinja2 with autoescape, and the JSON
block (with `<`, `>`, `&` escaped) that the script reads and writes into the DOM with
`textContent`. The render time is the only thing that differs between two renders of the same
result.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from zooprof.renderers.documents import Comparison, LayerReport
from zooprof.result.columns import COLUMNS, DEFAULT_COLUMNS, Column
from zooprof.result.document import ProfileResult


@cache
def _asset(name: str) -> str:
    return resources.files("zooprof.renderers").joinpath("assets", name).read_text(encoding="utf-8")


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("zooprof.renderers", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _page(template: str, payload: dict[str, Any], rendered_at: str | None, **context: Any) -> str:
    from markupsafe import Markup

    from zooprof.renderers.html_data import embed_json
    from zooprof.version import __version__

    js = _asset("report.js")
    if "</script" in js.lower():  # would end the inline script early
        raise RuntimeError("report.js must not contain '</script'")
    # The CSP allows this one script (by hash) and nothing from the network: inline event
    # handlers, such as an `onerror` smuggled in through a name, would not run either.
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return (
        _environment()
        .get_template(template)
        .render(
            css=Markup(_asset("report.css")),
            js=Markup(js),
            script_hash=f"sha256-{digest}",
            data_json=Markup(embed_json(payload)),
            zooprof_version=__version__,
            rendered_at=rendered_at or time.strftime("%Y-%m-%d %H:%M:%S %z"),
            **context,
        )
    )


def render_html(
    result: ProfileResult,
    rows: list[dict[str, Any]] | None = None,
    columns: list[Column] | None = None,
    rendered_at: str | None = None,
) -> str:
    """The report of one result. `rows` (default: all layers) picks the table's first view;
    `columns` the table's columns (default: the table's default columns)."""
    from zooprof.renderers.html_data import (
        environment_groups,
        layer_table,
        layer_timings,
        measurement_cards,
        measurement_labels,
        plain,
        power_panels,
        static_cards,
    )
    from zooprof.renderers.measurements import HEADINGS, measurement_rows, per_layer_lines, per_stage_lines
    from zooprof.result.lines import summary_lines, title

    given = rows
    d = plain(result.to_dict(include_graph=False))
    result = ProfileResult(
        d["model"], d["totals"], d["layers"], d["environment"], None, d["measurements"], d["schema_version"]
    )
    rows = result.layers if given is None else plain(given)
    cols = columns or [COLUMNS[k] for k in DEFAULT_COLUMNS]
    table = layer_table(result, rows, cols)
    timings = layer_timings(result, table)
    payload = {
        "kind": "report",
        "result": result.to_dict(include_graph=False),
        "table": table,
        "timings": timings,
        "labels": measurement_labels(result.measurements),
    }
    ok = [m for m in result.measurements if m.get("status") == "ok"]
    summary = _lines(lambda: summary_lines(result), "totals")
    measure_rows = _lines(lambda: measurement_rows(result), "measurement rows") if result.measurements else []
    return _page(
        "report.html.j2",
        payload,
        rendered_at,
        page_title=f"{result.model.get('name', 'model')} – zooprof report",
        name=result.model.get("name", "model"),
        heading=title(result),
        summary=summary,
        cards=static_cards(result),
        measure_groups=measurement_cards(result),
        measure_headings=HEADINGS,
        measure_rows=[r for r in measure_rows if isinstance(r, list)],
        measure_note=" ".join(r for r in measure_rows if isinstance(r, str)),
        per_layer=_lines(lambda: per_layer_lines(result) + per_stage_lines(result), "per-layer lines"),
        timings=timings,
        power=power_panels(result),
        has_samples=any((m.get("timing") or {}).get("samples_ms") for m in ok),
        has_rf=any(r.get("rf") for r in result.layers),
        environment=environment_groups(result.environment),
        schema=result.schema_version,
    )


def _lines(make: Callable[[], list[Any]], what: str) -> list[Any]:
    """The shared text helpers read keys a complete result has; a result without them gets one
    line saying what is missing instead of an error."""
    try:
        return make()
    except (KeyError, TypeError, IndexError) as exc:
        return [f"{what}: n/a (incomplete result: {type(exc).__name__} {exc})"]


def render_compare_html(
    results: list[ProfileResult], rows: list[dict[str, Any]], rendered_at: str | None = None
) -> str:
    """A comparison: the rows of zooprof.result.summary side by side, a latency-vs-MACs scatter with
    the Pareto front (rows marked `pareto`), and where each result came from."""
    from zooprof.compare.rows import coverage_notes
    from zooprof.renderers.html_data import compare_table, environment_groups, plain
    from zooprof.result.lines import title

    rows = plain(rows)
    sources = []
    for r in results:
        env = plain(r.environment)
        board = env.get("board") if isinstance(env.get("board"), dict) else {}
        sources.append(
            {
                "title": title(r),
                "command": env.get("command") or "n/a",
                "created": env.get("profiled") or env.get("created") or "n/a",
                "machine": " / ".join(str(x) for x in (board.get("model"), env.get("cpu_model"), env.get("os")) if x)
                or "n/a",
                "environment": environment_groups(env),
            }
        )
    payload = {"kind": "compare", "rows": rows, "table": compare_table(rows)}
    names = sorted({str(r.get("model", "")) for r in rows})
    heading = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return _page(
        "compare.html.j2",
        payload,
        rendered_at,
        page_title=f"Comparison: {heading} – zooprof",
        heading=heading,
        count=len(rows),
        sources=sources,
        notes=coverage_notes(results),
        plotted=any(r.get("macs") is not None and r.get("latency_median_ms") is not None for r in rows),
    )


def report_html(doc: LayerReport) -> str:
    """The registry's entry (zooprof.renderers) for one result: the columns of --columns, else the
    table's default columns."""
    return render_html(doc.result, doc.rows, doc.columns if (doc.columns and doc.columns_given) else None)


def comparison_html(doc: Comparison) -> str:
    """The registry's entry (zooprof.renderers) for a comparison."""
    return render_compare_html(doc.results, doc.rows)

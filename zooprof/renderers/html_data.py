"""What the HTML report shows, as plain data: summary cards, the layer table (text cells from the
column vocabulary, one row list per collapse depth), per-layer times joined to layers by name,
power and environment panels, and the comparison table.

Computes no metric. Every figure is read from the ProfileResult or the comparison rows; the
only arithmetic is unit conversion (s -> ms, fraction -> %) and, for a collapsed group, the sum
of its layers' measured times, as `zooprof.renderers.views.collapse` sums the static columns.
"""

from __future__ import annotations

import json
import math
from typing import Any

from zooprof.renderers.views import collapse, layer_path
from zooprof.result.columns import Column, human
from zooprof.result.document import ProfileResult
from zooprof.result.summary import STATIC_STATUS, SUMMARY_TABLE_COLUMNS, SummaryColumn

Row = dict[str, Any]


def plain(obj: Any) -> Any:
    """A JSON-native copy (lists, not tuples); NaN and infinities become None ("n/a").

    Rendering from this copy makes a report of a result in memory byte-identical to one of the
    same result after save and load.
    """
    return json.loads(json.dumps(obj, default=str), parse_constant=lambda _: None)


def embed_json(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no `<`, `>` or `&` survive, so
    a name holding `</script>` or `<!--` cannot end the block early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def na(reason: str) -> str:
    return f"n/a ({reason})"


def _num(x: Any, digits: int, unit: str = "") -> str | None:
    if x is None or not isinstance(x, (int, float)) or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return f"{x:,.{digits}f}" + (f" {unit}" if unit else "")


def measurement_labels(measurements: list[Row]) -> list[str]:
    """'torch b1', 'onnxruntime b8 t4'; a repeated label gets '#2', '#3'."""
    labels: list[str] = []
    for m in measurements:
        label = f"{m.get('runtime', '?')} b{m.get('batch', '?')}"
        if m.get("threads"):
            label += f" t{m['threads']}"
        n = sum(1 for x in labels if x == label or x.startswith(label + " #"))
        labels.append(label if n == 0 else f"{label} #{n + 1}")
    return labels


# --- summary cards -------------------------------------------------------------------------------


def card(key: str, value: str, detail: str = "", title: str = "") -> dict[str, str]:
    return {"k": key, "v": value, "d": detail, "title": title}


def static_cards(result: ProfileResult) -> list[dict[str, str]]:
    t = result.totals
    missing = na("not in this result")
    cards = []
    params = t.get("params")
    cards.append(
        card(
            "Params",
            human(params) if params is not None else missing,
            f"trainable {t['trainable_params']:,}" if t.get("trainable_params") is not None else "",
            f"{params:,}" if params is not None else "",
        )
    )
    macs = t.get("macs")
    cov = t.get("coverage") or {}
    cov_text = f"{cov['percent']:.1f} % of layers counted" if cov.get("percent") is not None else ""
    cards.append(
        card("MACs", human(macs) if macs is not None else missing, cov_text, f"{macs:,}" if macs is not None else "")
    )
    wb = t.get("weight_bytes")
    cards.append(
        card(
            "Weights",
            human(wb, "B") if wb is not None else missing,
            "parameters + buffers as stored",
            f"{wb:,} bytes" if wb is not None else "",
        )
    )
    peak = t.get("peak_activation_bytes")
    where = t.get("peak_activation_layer")
    cards.append(
        card(
            "Peak activation memory",
            human(peak, "B") if peak is not None else missing,
            f"at {where}" if where else "",
            f"{peak:,} bytes" if peak is not None else "",
        )
    )
    return cards


def energy_text(m: Row) -> tuple[str, str]:
    """Energy per inference and how it was obtained; 'n/a (why)' when not measured."""
    power = m.get("power")
    if not power:
        return na("power not measured"), ""
    if power.get("status") != "ok":
        return na(power.get("reason") or "power not measured"), ""
    e = _num(power.get("energy_per_inference_mj"), 3, "mJ")
    raw = _num(power.get("energy_per_inference_raw_mj"), 3, "mJ")
    if e is None:
        note = power.get("energy_note") or na("no idle baseline")
        return note, f"raw (not idle-corrected) {raw}" if raw else ""
    return e, "idle-corrected" + (f"; raw {raw}" if raw else "")


def measurement_cards(result: ProfileResult) -> list[dict[str, Any]]:
    """One group of cards per runtime x batch: latency, throughput, energy; or why it failed."""
    groups = []
    for label, m in zip(measurement_labels(result.measurements), result.measurements, strict=True):
        if m.get("status") != "ok":
            reason = f"failed ({m.get('failure', 'unknown')}): {m.get('reason', 'no reason recorded')}"
            groups.append({"label": label, "failed": reason, "cards": []})
            continue
        lat = (m.get("timing") or {}).get("latency_ms") or {}
        med, p99 = _num(lat.get("median"), 3, "ms"), _num(lat.get("p99"), 3, "ms")
        ci = ""
        if lat.get("ci_low") is not None and lat.get("ci_high") is not None:
            ci = f"95 % CI {lat['ci_low']:.3f}–{lat['ci_high']:.3f} ms"
        thr = _num(m.get("throughput_per_s"), 1, "/s")
        gf = _num(m.get("achieved_gflops"), 2, "GFLOP/s")
        energy, how = energy_text(m)
        groups.append(
            {
                "label": label,
                "failed": "",
                "cards": [
                    card("Median latency", med or na("not in this result"), ci),
                    card("p99 latency", p99 or na("not in this result"), f"n = {lat['n']}" if lat.get("n") else ""),
                    card("Throughput", thr or na("not in this result"), f"batch {m.get('batch', '?')}"),
                    card("Achieved", gf or na("not in this result"), "2 x MACs x batch / median"),
                    card("Energy / inference", energy, how),
                ],
            }
        )
    return groups


# --- the layer table -----------------------------------------------------------------------------


def _rf_sort(row: Row) -> Any:
    rf = row.get("rf")
    if not rf:
        return None
    size = rf.get("size")
    if isinstance(size, list):
        nums = [x for x in size if isinstance(x, (int, float))]
        return max(nums) if nums else None
    if size == "global":
        return math.inf
    return size if isinstance(size, (int, float)) else None


def _sort_value(col: Column, row: Row) -> Any:
    if col.key in ("rf", "rf_size"):
        value = _rf_sort(row)
        return "global" if value == math.inf else value
    try:
        v = col.value(row)
    except (KeyError, TypeError, IndexError):
        return None
    return v if isinstance(v, (int, float, str)) or v is None else str(v)


def _cell_text(col: Column, row: Row) -> str:
    try:
        return col.text(row)
    except (KeyError, TypeError, IndexError):
        return ""


def layer_table(result: ProfileResult, rows: list[Row], columns: list[Column]) -> dict[str, Any]:
    """Rows once (a pool) and views over them: all layers, then each collapse depth that differs."""
    layers = result.layers
    pool: list[Row] = []
    members: list[list[str]] = []
    index: dict[int, int] = {}

    def add(row: Row, names: list[str]) -> int:
        if id(row) not in index:
            index[id(row)] = len(pool)
            pool.append(row)
            members.append(names)
        return index[id(row)]

    views = [{"label": f"all layers ({len(layers)})", "rows": [add(r, [r["name"]]) for r in layers]}]
    seen = [[r["name"] for r in layers]]
    depth_max = max((len(layer_path(r)) for r in layers), default=1)
    for depth in range(1, depth_max):
        groups: dict[str, list[str]] = {}
        for r in layers:
            groups.setdefault(".".join(layer_path(r)[:depth]), []).append(r["name"])
        view = collapse(layers, depth)
        names = [r["name"] for r in view]
        if names in seen:
            continue
        seen.append(names)
        views.append(
            {
                "label": f"depth {depth} ({len(view)} rows)",
                "rows": [add(r, groups.get(r["name"], [r["name"]])) for r in view],
            }
        )
    given = [r["name"] for r in rows]
    if given in seen:
        initial = seen.index(given)
    else:  # rows from another view transform: show them as given
        views.append({"label": f"as given ({len(rows)} rows)", "rows": [add(r, [r["name"]]) for r in rows]})
        initial = len(views) - 1
    return {
        "columns": [{"key": c.key, "heading": c.heading, "numeric": c.numeric} for c in columns],
        "rows": [
            {
                "c": [_cell_text(c, r) for c in columns],
                "v": [_sort_value(c, r) for c in columns],
                "name": r["name"],
                "macs": r.get("macs"),
                "macs_pct": r.get("macs_pct"),
                "group": r.get("source_op") == "group",
                "counted": r.get("counted", True) is not False,
            }
            for r in pool
        ],
        "views": views,
        "initial_view": initial,
        "_members": members,
    }


def layer_timings(result: ProfileResult, table: dict[str, Any]) -> list[dict[str, Any]]:
    """Measured time per table row, one entry per measurement with per-layer data, joined by layer
    name; a group row gets the sum of its timed layers and says how many of them were timed."""
    members: list[list[str]] = table.pop("_members")
    static = {r["name"] for r in result.layers}
    out = []
    labels = measurement_labels(result.measurements)
    for i, m in enumerate(result.measurements):
        pl = m.get("per_layer") or {}
        if m.get("status") != "ok" or not pl.get("layers"):
            continue
        by_name = {x["name"]: x for x in pl["layers"]}
        ms: list[float | None] = []
        share: list[float | None] = []
        partial: list[str | None] = []
        for names in members:
            hits = [by_name[n] for n in names if n in by_name and by_name[n].get("seconds") is not None]
            if not hits:
                ms.append(None)
                share.append(None)
                partial.append(None)
                continue
            ms.append(sum(h["seconds"] for h in hits) * 1000.0)
            shares = [h.get("share") for h in hits]
            share.append(sum(shares) * 100.0 if all(s is not None for s in shares) else None)  # type: ignore[misc]
            partial.append(f"{len(hits)} of {len(names)} layers timed" if len(hits) < len(names) else None)
        matched = sum(1 for x in pl["layers"] if x["name"] in static)
        out.append(
            {
                "label": labels[i],
                "measurement": i,
                "method": pl.get("method") or "",
                "ms": ms,
                "share": share,
                "partial": partial,
                "matched": matched,
                "timed": len(pl["layers"]),
            }
        )
    return out


# --- power and environment -----------------------------------------------------------------------

POWER_FACTS = (
    ("sensor", "Sensor", None),
    ("total_source", "Total from", None),
    ("avg_power_mw", "Average power", (1, "mW")),
    ("idle_power_mw", "Idle power", (1, "mW")),
    ("idle_seconds", "Idle baseline", (1, "s")),
    ("energy_per_inference_mj", "Energy / inference (idle-corrected)", (3, "mJ")),
    ("energy_per_inference_raw_mj", "Energy / inference (raw)", (3, "mJ")),
    ("energy_note", "Energy note", None),
    ("sample_hz_requested", "Sample rate asked", (1, "Hz")),
    ("sample_hz_achieved", "Sample rate achieved", (1, "Hz")),
    ("samples", "Samples", (0, "")),
    ("window_s", "Window", (2, "s")),
    ("iterations", "Inferences in window", (0, "")),
)


def _fact(value: Any, spec: tuple[int, str] | None) -> str:
    if value is None:
        return "n/a"
    if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _num(value, spec[0], spec[1]) or "n/a"
    return str(value)


def power_panels(result: ProfileResult) -> list[dict[str, Any]]:
    panels = []
    for i, (label, m) in enumerate(zip(measurement_labels(result.measurements), result.measurements, strict=True)):
        power = m.get("power")
        if not isinstance(power, dict):
            continue
        if power.get("status") != "ok":
            panels.append({"label": label, "index": i, "na": na(power.get("reason") or "no reason recorded")})
            continue
        facts = [(heading, _fact(power.get(key), spec)) for key, heading, spec in POWER_FACTS if key in power]
        rails = [
            (name, r.get("unit") or "mW", _fact(r.get("avg"), (1, "")), _fact(r.get("energy_mj"), (3, "")))
            for name, r in (power.get("rails") or {}).items()
            if isinstance(r, dict)
        ]
        temps = [
            (name, _fact(t.get("start"), (1, "")), _fact(t.get("end"), (1, "")), _fact(t.get("max"), (1, "")))
            for name, t in (power.get("temperatures_c") or {}).items()
            if isinstance(t, dict)
        ]
        timeline = power.get("timeline") or {}
        panels.append(
            {
                "label": label,
                "index": i,
                "na": "",
                "facts": facts,
                "rails": rails,
                "temps": temps,
                "timeline": bool(timeline.get("t_s")),
            }
        )
    return panels


ENV_GROUPS = (
    ("Board", ("board",)),
    ("Accelerator", ("accelerator",)),
    ("Run", ("command", "created", "profiled", "cache", "analysis_seconds", "threads", "profile_options")),
    ("Machine", ("cpu_model", "cpu_count", "cpu_affinity", "governors", "memory_bytes", "machine", "os")),
    ("Versions", ("zooprof_version", "python", "libraries")),
    ("Sensors", ("sensors",)),
)


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append((prefix, "none recorded"))
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):  # e.g. one record per GPU: accelerator.gpus.0.name
            _flatten(f"{prefix}.{i}", v, out)
    elif isinstance(value, list):
        out.append((prefix, ", ".join(str(v) for v in value) if value else "none"))
    elif value is None:
        out.append((prefix, "n/a"))
    elif prefix.endswith("memory_bytes") and isinstance(value, (int, float)):
        out.append((prefix, f"{human(value, 'B')} ({value:,} bytes)"))
    else:
        out.append((prefix, str(value)))


def environment_groups(env: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(key, text)]) in a fixed order; keys no group names go under 'Other'."""
    groups = []
    used: set[str] = set()
    for heading, keys in ENV_GROUPS:
        items: list[tuple[str, str]] = []
        for key in keys:
            if key in env:
                used.add(key)
                _flatten(key, env[key], items)
        if heading == "Board" and "board" not in env:
            items.append(("board", "n/a (not recorded)"))
        if items:
            groups.append((heading, items))
    rest: list[tuple[str, str]] = []
    for key, value in env.items():
        if key not in used:
            _flatten(key, value, rest)
    if rest:
        groups.append(("Other", rest))
    return groups


# --- comparisons ---------------------------------------------------------------------------------


def compare_cell(column: SummaryColumn, row: Row) -> str:
    """A comparison cell: the summary column's text, but a status that is not ok says why, as the
    page has no notes under the table."""
    if column.key == "status":
        status = str(row.get("status") or "unknown")
        return status if status == "ok" else f"{status}: {row.get('reason') or 'no reason recorded'}"
    return column.text(row)


def compare_table(rows: list[Row]) -> dict[str, Any]:
    columns = SUMMARY_TABLE_COLUMNS
    return {
        "columns": [{"key": c.key, "heading": c.heading, "numeric": c.numeric} for c in columns],
        "rows": [
            {
                "c": [compare_cell(c, r) for c in columns],
                "v": [r.get(c.key) if isinstance(r.get(c.key), (int, float, str)) else None for c in columns],
                "name": str(r.get("model", "")),
                "failed": r.get("status", "ok") not in ("ok", STATIC_STATUS),
            }
            for r in rows
        ],
        "views": [{"label": f"all rows ({len(rows)})", "rows": list(range(len(rows)))}],
        "initial_view": 0,
    }

"""`--fail-if` regression rules: their grammar, and checks of candidates against a baseline.

    RULE   := METRIC OP CHANGE            latency.p50>+5%   latency.p99>+2ms   params>0
    OP     := ">" | "<"                   ">": fails when the change is above; "<": below
    CHANGE := [+|-] NUMBER [% | UNIT]     "%": relative to the baseline; else absolute, in
                                          a unit the metric accepts (needed unless the
                                          metric is a count or the number is 0)

The change is candidate - baseline (x 100 / |baseline| for %). The baseline is the first
result; each candidate row is checked against the baseline row of the same runtime and
batch (docs/compare.md has the details and the metric table).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zooprof.compare.rows import Entry
from zooprof.errors import UsageError

Reading = tuple[float | None, str]  # a value, or None and why it is not there

TIME = {"ms": 1.0, "us": 1e-3, "µs": 1e-3, "s": 1e3}
ENERGY = {"mJ": 1.0, "uJ": 1e-3, "J": 1e3}
POWER = {"mW": 1.0, "W": 1e3}
MEGABYTES = {"MB": 1.0, "B": 1e-6, "kB": 1e-3, "KB": 1e-3, "GB": 1e3}
COUNT = {"k": 1e3, "M": 1e6, "G": 1e9}


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # the unit values are read in ("" for counts)
    units: dict[str, float]  # other units a rule may use -> factor to `unit`
    scope: str  # "model" (any row), "batch" (per call) or "measurement"
    meaning: str
    read: Callable[[Entry], Reading]


def _measured(e: Entry) -> tuple[dict[str, Any] | None, str]:
    m = e.measurement
    if m is None:
        return None, "not measured (static result)"
    if m.get("status") != "ok":
        return None, f"measurement {m.get('status')}: {e.row.get('reason')}"
    return m, ""


def _latency(key: str) -> Callable[[Entry], Reading]:
    def read(e: Entry) -> Reading:
        m, why = _measured(e)
        if m is None:
            return None, why
        v = ((m.get("timing") or {}).get("latency_ms") or {}).get(key)
        return (v, "") if v is not None else (None, f"no latency {key} in the timing record")

    return read


def _measured_key(key: str, scale: float = 1.0, why: str = "not recorded") -> Callable[[Entry], Reading]:
    def read(e: Entry) -> Reading:
        m, reason = _measured(e)
        if m is None:
            return None, reason
        v: Any = m
        for part in key.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        return (v * scale, "") if isinstance(v, (int, float)) else (None, why)

    return read


def _power(key: str) -> Callable[[Entry], Reading]:
    def read(e: Entry) -> Reading:
        m, why = _measured(e)
        if m is None:
            return None, why
        p = m.get("power")
        if not p:
            return None, "no power record (measured without --power)"
        if p.get("status") != "ok":
            return None, f"power n/a ({p.get('reason') or 'no reason recorded'})"
        v = p.get(key)
        if v is None:
            return None, p.get("energy_note") or f"{key} not available"
        return v, ""

    return read


def _row_key(key: str, why: str) -> Callable[[Entry], Reading]:
    def read(e: Entry) -> Reading:
        v = e.row.get(key)
        return (v, "") if v is not None else (None, why)

    return read


_LATENCY = [
    Metric(f"latency.{name}", "ms", TIME, "measurement", f"{what} latency of one call, ms", _latency(key))
    for name, key, what in (
        ("p50", "median", "median"),
        ("p90", "p90", "90th percentile"),
        ("p95", "p95", "95th percentile"),
        ("p99", "p99", "99th percentile"),
        ("mean", "mean", "mean"),
        ("min", "min", "minimum"),
        ("max", "max", "maximum"),
    )
]
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        *_LATENCY,
        Metric("throughput", "/s", {}, "measurement", "samples per second", _measured_key("throughput_per_s")),
        Metric(
            "energy",
            "mJ",
            ENERGY,
            "measurement",
            "energy per inference (one call), idle-corrected, mJ",
            _power("energy_per_inference_mj"),
        ),
        Metric("power", "mW", POWER, "measurement", "average power while measuring, mW", _power("avg_power_mw")),
        Metric("gflops", "GFLOP/s", {}, "measurement", "achieved GFLOP/s", _measured_key("achieved_gflops")),
        Metric(
            "rss",
            "MB",
            MEGABYTES,
            "measurement",
            "peak resident memory of the worker, MB",
            _measured_key("memory.peak_rss_bytes", 1e-6),
        ),
        Metric("params", "", COUNT, "model", "parameters", _row_key("params", "params not in the result")),
        Metric(
            "macs",
            "",
            COUNT,
            "batch",
            "MACs per call at the row's batch",
            _row_key("macs", "MACs not in the result, or its analysed batch unknown"),
        ),
        Metric(
            "weights",
            "MB",
            MEGABYTES,
            "model",
            "weights as stored, MB",
            _row_key("weights_mb", "weight bytes not in the result"),
        ),
        Metric(
            "activation",
            "MB",
            MEGABYTES,
            "batch",
            "peak activation memory per call, MB",
            _row_key("peak_activation_mb", "peak activation memory not in the result"),
        ),
    ]
}
ALIASES = {"latency": "latency.p50", "latency.median": "latency.p50"}

_RULE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>[<>])\s*(?P<sign>[+-]?)\s*"
    r"(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)\s*(?P<unit>%|[A-Za-zµ/]+)?\s*$"
)


def metric_names() -> str:
    return ", ".join([*METRICS, *ALIASES])


@dataclass(frozen=True)
class Rule:
    text: str
    metric: Metric
    op: str  # ">" or "<"
    amount: float  # in % when relative, else in the metric's unit
    relative: bool

    def broken(self, change: float) -> bool:
        return change > self.amount if self.op == ">" else change < self.amount

    def limit_text(self) -> str:
        return f"{self.op}{self.amount:+g} %" if self.relative else f"{self.op}{self.amount:+g}{_unit(self.metric)}"


def parse_rule(text: str) -> Rule:
    """'latency.p50>+5%' -> Rule. A malformed rule is a UsageError naming it and the metrics."""
    hint = (
        f"write METRIC>CHANGE or METRIC<CHANGE, e.g. latency.p50>+5%, latency.p99>+2ms, params>0; "
        f"metrics: {metric_names()} (docs/compare.md)"
    )
    match = _RULE.match(text)
    if not match:
        raise UsageError(f"malformed --fail-if rule '{text}'", hint)
    name = ALIASES.get(match["metric"].lower(), match["metric"].lower())
    if name not in METRICS:
        raise UsageError(f"--fail-if rule '{text}': unknown metric '{match['metric']}'", hint)
    metric = METRICS[name]
    amount = float(match["number"]) * (-1 if match["sign"] == "-" else 1)
    unit = match["unit"]
    if unit == "%":
        return Rule(text, metric, match["op"], amount, True)
    if unit is None and metric.unit and amount != 0:
        # "latency.p50>+5" could mean 5 % or 5 ms: say which (0 needs no unit: any change)
        raise UsageError(
            f"--fail-if rule '{text}': give a unit for {name}",
            f"e.g. {match['metric']}{match['op']}{match['sign']}{match['number']}% (relative) or "
            f"{match['metric']}{match['op']}{match['sign']}{match['number']}{metric.unit} (absolute)",
        )
    if unit is not None and unit != metric.unit:
        if unit not in metric.units:
            accepted = ", ".join(["%", *([metric.unit] if metric.unit else []), *metric.units])
            raise UsageError(
                f"--fail-if rule '{text}': unit '{unit}' does not fit {name}",
                f"{name} is in {metric.unit or 'a plain count'}; use one of: {accepted}",
            )
        amount *= metric.units[unit]
    return Rule(text, metric, match["op"], amount, False)


def parse_rules(texts: list[str] | None) -> list[Rule]:
    return [parse_rule(t) for t in texts or []]


@dataclass(frozen=True)
class Check:
    """One rule on one candidate row."""

    rule: Rule
    status: str  # "failed", "passed" or "not checked"
    label: str  # the candidate row
    baseline_label: str
    baseline: float | None = None
    candidate: float | None = None
    change: float | None = None  # in % when the rule is relative, else in the metric's unit
    note: str = ""

    def line(self) -> str:
        head = {"failed": "FAILED", "passed": "passed", "not checked": "not checked"}[self.status]
        text = f"{head} {self.rule.text}: {self.label}"
        if self.baseline is not None and self.candidate is not None and self.change is not None:
            unit = _unit(self.rule.metric)
            change = f"{self.change:+.2f} %" if self.rule.relative else f"{self.change:+.6g}{unit}"
            text += (
                f": {_value(self.baseline)}{unit} -> {_value(self.candidate)}{unit} ({change}; fails if "
                f"{self.rule.limit_text()}) vs {self.baseline_label}"
            )
        if self.note:
            text += f" ({self.note})" if self.baseline is not None and self.candidate is not None else f": {self.note}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.text,
            "metric": self.rule.metric.name,
            "status": self.status,
            "candidate_row": self.label,
            "baseline_row": self.baseline_label,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "change": self.change,
            "change_unit": "%" if self.rule.relative else self.rule.metric.unit,
            "note": self.note,
        }


def _unit(metric: Metric) -> str:
    return f" {metric.unit}" if metric.unit else ""


def _value(v: float) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:,.6g}"


def _label(e: Entry, scope: str) -> str:
    r = e.row
    parts = [str(r["model"])]
    if scope == "measurement":
        parts.append(str(r["runtime"] or "static"))
    if scope != "model":
        parts.append(f"b{r['batch']}")
    return " ".join(parts) + f" ({e.source})"


def _baseline_for(scope: str, c: Entry, baseline: list[Entry]) -> Entry | None:
    """The baseline row a candidate row is held against (the baseline result holds one model)."""
    if scope == "model":
        return baseline[0] if baseline else None
    if scope == "batch":
        return next((b for b in baseline if b.row["batch"] == c.row["batch"]), None)
    return next((b for b in baseline if (b.row["runtime"], b.row["batch"]) == (c.row["runtime"], c.row["batch"])), None)


def check_rules(entries: list[Entry], rules: list[Rule]) -> list[Check]:
    """Check every candidate row (results after the first) against the baseline (the first)."""
    baseline = [e for e in entries if e.index == 0]
    candidates = [e for e in entries if e.index > 0]
    checks: list[Check] = []
    for rule in rules:
        scope = rule.metric.scope
        seen: set[tuple[Any, ...]] = set()
        for c in candidates:
            key = (
                (c.index,)
                if scope == "model"
                else (c.index, c.row["batch"])
                if scope == "batch"
                else (c.index, c.row["runtime"], c.row["batch"], id(c.measurement))
            )
            if key in seen:
                continue
            seen.add(key)
            checks.append(_check(rule, c, _baseline_for(scope, c, baseline)))
    return checks


def _check(rule: Rule, c: Entry, b: Entry | None) -> Check:
    scope = rule.metric.scope
    label = _label(c, scope)
    if b is None:
        what = (
            f"runtime {c.row['runtime'] or 'static'} batch {c.row['batch']}"
            if scope == "measurement"
            else f"batch {c.row['batch']}"
        )
        return Check(rule, "not checked", label, "", note=f"the baseline has no row for {what}")
    base_label = _label(b, scope)
    bv, bwhy = rule.metric.read(b)
    cv, cwhy = rule.metric.read(c)
    if bv is None:
        return Check(rule, "not checked", label, base_label, note=f"baseline {base_label}: {bwhy}")
    if cv is None:
        m = c.measurement
        if scope == "measurement" and m is not None and m.get("status") != "ok":
            return Check(
                rule,
                "failed",
                label,
                base_label,
                baseline=bv,
                note=f"the candidate's measurement failed: {c.row.get('reason')}",
            )
        return Check(rule, "not checked", label, base_label, baseline=bv, note=f"candidate: {cwhy}")
    if rule.relative:
        if bv == 0:
            return Check(
                rule,
                "not checked",
                label,
                base_label,
                bv,
                cv,
                note="the baseline is 0, so a relative change is undefined; give an absolute change",
            )
        change = 100.0 * (cv - bv) / abs(bv)
    else:
        change = cv - bv
    note = f"baseline model {b.row['model']}" if b.row["model"] != c.row["model"] else ""
    return Check(rule, "failed" if rule.broken(change) else "passed", label, base_label, bv, cv, change, note)

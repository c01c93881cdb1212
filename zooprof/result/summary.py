"""The summary rows of a result (one per measurement) and their column vocabulary: the rows of
`zooprof compare`, of `ProfileResult.summary_df()` and of the `--fail-if` checks (docs/compare.md).

A summary row is one (result, measurement): per-model figures from `result.totals`, measured
ones from the measurement, all *per call at the row's batch* so that latency, MACs, energy and
GFLOP/s describe the same unit of work:

- `macs`, `peak_activation_mb`: the analysed figure x batch / analysed batch (the analysis
  ran on the result's input shape, usually batch 1; activations and MACs are linear in the
  batch). `params` and `weights_mb` do not depend on the batch.
- `latency_*_ms`, `energy_per_inference_mj`: one call of `batch` samples.
- `throughput_per_s`: samples per second; `achieved_gflops`: 2 x macs / median latency.
- `device` (cpu, cuda:N, dla:N) and `precision` (fp32, fp16, bf16, int8; n/a: the model's own)
  say where and how the row was measured.

A figure that is not there is None, shown as "n/a" (`NA`) in tables and CSV, never 0. A result
without measurements gives one row with status "static" (a reason says it was not measured).

`SUMMARY_COLUMNS` says once, for every key of a row, its heading, unit, digits, how a missing
value is shown and its DataFrame dtype; the console, Markdown, CSV, HTML and DataFrame forms all
read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zooprof.result.columns import human

if TYPE_CHECKING:
    from zooprof.result.document import ProfileResult

Row = dict[str, Any]

#: The keys of every summary row, in CSV order (a row whose status is not "ok" adds `reason`).
ROW_KEYS = (
    "model",
    "runtime",
    "batch",
    "device",
    "precision",
    "status",
    "params",
    "macs",
    "weights_mb",
    "peak_activation_mb",
    "latency_median_ms",
    "latency_p99_ms",
    "throughput_per_s",
    "energy_per_inference_mj",
    "achieved_gflops",
    "source",
    "pareto",
)
CSV_KEYS = (*ROW_KEYS, "reason")
#: The columns of the tables (console, Markdown, HTML), in order: the CSV keys but `reason`
#: (the notes under a table say why a row was not measured), with `pareto` before `source`.
TABLE_KEYS = (*(k for k in ROW_KEYS if k not in ("source", "pareto")), "pareto", "source")
STATIC_STATUS = "static"
STATIC_REASON = "not measured (static analysis only)"
#: How a missing figure is shown, everywhere (JSON keeps null).
NA = "n/a"


@dataclass(frozen=True)
class SummaryColumn:
    """One key of a summary row and how every renderer shows it.

    `style` says how `text` writes a number: "count" (1,234), "si" (1.23 k), "fixed" (`digits`
    decimals; a small figure keeps 3 significant digits instead of rounding to 0.00), "flag"
    ("yes" or blank) or "text" (as is)."""

    key: str
    heading: str
    unit: str = ""  # of the value: "ms", "MB", "mJ", "/s", "GFLOP/s"; "" for counts and text
    digits: int | None = None  # decimals of `text` when style is "fixed"
    style: str = "text"
    dtype: str | None = None  # pandas dtype in summary_df: "Int64", "Float64", "bool" (None: text)
    missing: str = NA  # how a missing value (None, NaN) is shown in tables and CSV

    @property
    def numeric(self) -> bool:
        """Right-aligned in tables."""
        return self.dtype in ("Int64", "Float64")

    def is_missing(self, v: Any) -> bool:
        return v is None or (isinstance(v, float) and not math.isfinite(v))

    def text(self, row: Row) -> str:
        """The cell of a console, Markdown or HTML table."""
        v = row.get(self.key)
        if self.style == "flag":
            return "yes" if v else ""
        if self.is_missing(v):
            return self.missing
        if isinstance(v, (int, float)):
            if self.style == "count":
                return f"{v:,}"
            if self.style == "si":
                return human(v)
            if self.style == "fixed" and self.digits is not None:
                small = 0 < abs(v) < 10 ** -(self.digits - 1)
                return f"{v:.3g}" if small else f"{v:,.{self.digits}f}"
        return str(v)

    def value(self, row: Row) -> Any:
        """The CSV cell: the raw number, `missing` for a missing value, true/false for a flag."""
        v = row.get(self.key)
        if self.is_missing(v):
            return self.missing
        if isinstance(v, bool):
            return "true" if v else "false"
        return v


SUMMARY_COLUMNS: dict[str, SummaryColumn] = {
    c.key: c
    for c in [
        SummaryColumn("model", "Model"),
        SummaryColumn("runtime", "Runtime"),
        SummaryColumn("batch", "Batch", dtype="Int64"),
        SummaryColumn("device", "Device"),
        SummaryColumn("precision", "Precision"),
        SummaryColumn("status", "Status"),
        SummaryColumn("params", "Params", style="count", dtype="Int64"),
        SummaryColumn("macs", "MACs", style="si", dtype="Int64"),
        SummaryColumn("weights_mb", "Weights MB", "MB", 2, "fixed", "Float64"),
        SummaryColumn("peak_activation_mb", "Peak act. MB", "MB", 2, "fixed", "Float64"),
        SummaryColumn("latency_median_ms", "Median ms", "ms", 3, "fixed", "Float64"),
        SummaryColumn("latency_p99_ms", "p99 ms", "ms", 3, "fixed", "Float64"),
        SummaryColumn("throughput_per_s", "Throughput/s", "/s", 1, "fixed", "Float64"),
        SummaryColumn("energy_per_inference_mj", "Energy mJ", "mJ", 3, "fixed", "Float64"),
        SummaryColumn("achieved_gflops", "GFLOP/s", "GFLOP/s", 2, "fixed", "Float64"),
        SummaryColumn("source", "Source"),
        SummaryColumn("pareto", "Pareto", style="flag", dtype="bool"),
        SummaryColumn("reason", "Reason", missing=""),
    ]
}
SUMMARY_TABLE_COLUMNS = tuple(SUMMARY_COLUMNS[k] for k in TABLE_KEYS)


def analysed_batch(result: ProfileResult) -> int | None:
    """The batch of the input shape the static analysis ran on (None if the result does not say)."""
    inputs = result.model.get("inputs") or []
    shape = inputs[0].get("shape") if inputs and isinstance(inputs[0], dict) else result.model.get("input_shape")
    if shape and isinstance(shape[0], int) and shape[0] > 0:
        return shape[0]
    return None


def per_call(value: float | None, batch: int | None, base: int | None) -> float | None:
    """A figure of the analysed input scaled to a call of `batch` samples (exact for integers
    that divide evenly)."""
    if value is None or batch is None or base is None:
        return None
    if batch == base:
        return value
    if isinstance(value, int) and (value * batch) % base == 0:
        return value * batch // base
    return value * batch / base


def _mb(n: Any) -> float | None:
    return None if n is None else n / 1e6


def summary_row(result: ProfileResult, m: dict[str, Any] | None, source: str) -> Row:
    """The row of one measurement `m` of `result` (None: the static row of a result without
    measurements); `pareto` is False until `mark_pareto` runs over the rows."""
    t = result.totals
    base = analysed_batch(result)
    batch = base if m is None else m.get("batch")
    ok = m is not None and m.get("status") == "ok"
    timing = (m or {}).get("timing") or {}
    latency = timing.get("latency_ms") or {}
    power = (m or {}).get("power") or {}
    row: Row = {
        "model": result.model.get("name"),
        "runtime": None if m is None else m.get("runtime"),
        "batch": batch,
        "device": None if m is None else m.get("device"),
        "precision": None if m is None else m.get("precision"),
        "status": STATIC_STATUS if m is None else str(m.get("status") or "unknown"),
        "params": t.get("params"),
        "macs": per_call(t.get("macs"), batch, base),
        "weights_mb": _mb(t.get("weight_bytes")),
        "peak_activation_mb": _mb(per_call(t.get("peak_activation_bytes"), batch, base)),
        "latency_median_ms": latency.get("median") if ok else None,
        "latency_p99_ms": latency.get("p99") if ok else None,
        "throughput_per_s": m.get("throughput_per_s") if ok and m else None,
        "energy_per_inference_mj": power.get("energy_per_inference_mj") if ok else None,
        "achieved_gflops": m.get("achieved_gflops") if ok and m else None,
        "source": source,
        "pareto": False,
    }
    if m is None:
        row["reason"] = STATIC_REASON
    elif row["status"] != "ok":
        failure = m.get("failure")
        reason = m.get("reason") or "no reason recorded"
        row["reason"] = f"{failure}: {reason}" if failure else reason
    return row


def compare_rows(results: list[ProfileResult], sources: list[str]) -> list[Row]:
    """The rows of `zooprof compare`: one per (result, measurement), or per result when it has no
    measurements (keys: ROW_KEYS, + `reason` when status is not ok); Pareto marked over all."""
    if len(results) != len(sources):
        raise ValueError("one source per result")
    rows = [
        summary_row(result, m, source)
        for result, source in zip(results, sources, strict=True)
        for m in result.measurements or [None]
    ]
    mark_pareto(rows)
    return rows


def mark_pareto(rows: list[Row]) -> None:
    """Set `pareto` True on the rows no other row dominates in (macs, latency_median_ms), lower
    being better for both: among rows with status ok and both figures, a row is dominated when
    another is no worse in both and better in one. Equal points are all on the front. Rows
    without both figures (static, failed, unknown MACs) are never on it."""
    points = [
        (i, r["macs"], r["latency_median_ms"])
        for i, r in enumerate(rows)
        if r.get("status") == "ok" and r.get("macs") is not None and r.get("latency_median_ms") is not None
    ]
    for r in rows:
        r["pareto"] = False
    for i, macs, lat in points:
        dominated = any(m2 <= macs and l2 <= lat and (m2 < macs or l2 < lat) for j, m2, l2 in points if j != i)
        rows[i]["pareto"] = not dominated

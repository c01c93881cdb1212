"""`zooprof compare`: results side by side, the latency-vs-MACs Pareto front, and the rows
`--fail-if` regression rules read (rules: zooprof/regression.py; docs: docs/compare.md).

A compare row is one (result, measurement): per-model figures from `result.totals`,
measured ones from the measurement, all *per call at the row's batch* so that latency,
MACs, energy and GFLOP/s describe the same unit of work:

- `macs`, `peak_activation_mb`: the analysed figure x batch / analysed batch (the analysis
  ran on the result's input shape, usually batch 1; activations and MACs are linear in the
  batch). `params` and `weights_mb` do not depend on the batch.
- `latency_*_ms`, `energy_per_inference_mj`: one call of `batch` samples.
- `throughput_per_s`: samples per second; `achieved_gflops`: 2 x macs / median latency.

A figure that is not there is None ("n/a"), never 0. A result without measurements gives
one row with status "static" (a reason says it was not measured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zooprof.result.document import ProfileResult

Row = dict[str, Any]

#: The keys of every compare row, in CSV order (a row whose status is not "ok" adds `reason`).
ROW_KEYS = (
    "model",
    "runtime",
    "batch",
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
STATIC_STATUS = "static"
STATIC_REASON = "not measured (static analysis only)"


@dataclass(frozen=True)
class Entry:
    """A compare row with what it was made from (the rules need more than the row holds)."""

    index: int  # which result (0 = the baseline of --fail-if)
    result: ProfileResult
    measurement: dict[str, Any] | None
    source: str
    row: Row


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


def _row(result: ProfileResult, m: dict[str, Any] | None, source: str) -> Row:
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


def compare_entries(results: list[ProfileResult], sources: list[str]) -> list[Entry]:
    """One entry per (result, measurement), or per result when it has no measurements; Pareto marked."""
    if len(results) != len(sources):
        raise ValueError("one source per result")
    entries = []
    for i, (result, source) in enumerate(zip(results, sources, strict=True)):
        for m in result.measurements or [None]:
            entries.append(Entry(i, result, m, source, _row(result, m, source)))
    mark_pareto([e.row for e in entries])
    return entries


def compare_rows(results: list[ProfileResult], sources: list[str]) -> list[Row]:
    """The rows of `zooprof compare` (keys: ROW_KEYS, + `reason` when status is not ok)."""
    return [e.row for e in compare_entries(results, sources)]


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


def coverage_notes(results: list[ProfileResult]) -> list[str]:
    """One line per result whose MACs leave layers out (uncounted ops): the figure is a lower bound."""
    notes = []
    for r in results:
        cov = r.totals.get("coverage") or {}
        if cov and cov.get("percent", 100.0) < 100.0:
            ops = ", ".join(f"{k} x{v}" for k, v in (cov.get("uncounted_ops") or {}).items())
            notes.append(
                f"{r.model.get('name')}: MACs cover {cov['percent']:.1f} % of layers"
                + (f" (uncounted: {ops})" if ops else "")
                + "; the figure is a lower bound"
            )
        elif not cov:
            notes.append(f"{r.model.get('name')}: coverage not recorded in this result")
    return list(dict.fromkeys(notes))


def source_record(result: ProfileResult, source: str) -> dict[str, Any]:
    """Where a result came from, for the JSON output."""
    env = result.environment
    board = env.get("board") if isinstance(env.get("board"), dict) else {}
    return {
        "source": source,
        "model": result.model.get("name"),
        "schema_version": result.schema_version,
        "zooprof_version": env.get("zooprof_version"),
        "created": env.get("profiled") or env.get("created"),
        "command": env.get("command"),
        "machine": {"board": board.get("model"), "cpu_model": env.get("cpu_model"), "os": env.get("os")},
    }

"""Latency of one format for `compare-formats --latency`: the median (batch 1) on its default runtime.

The runtime is `zooprof.runtimes.default_runtime(framework)`; the measurement is the one every
command uses (`zooprof.measure.profiling.measure_model`, a worker process per run). A format
that cannot be timed gets the reason instead ("n/a" or "failed"), never an exception.
"""

from __future__ import annotations

from zooprof.compare.parity.formats import FRAMEWORKS
from zooprof.compare.parity.model import FormatRecord, Latency
from zooprof.errors import MissingDependencyError, UsageError, ZooprofError
from zooprof.result.document import ProfileResult


def latency_text(status: str, median_ms: float | None, reason: str | None) -> str:
    """The table cell: '1.234 ms', or 'n/a (why)' / 'failed (why)'."""
    return f"{median_ms:.3f} ms" if status == "ok" else f"{status} ({reason})"


def measure_latency(
    fmt: FormatRecord, result: ProfileResult, max_time: float, memory_limit: int | str | None = None
) -> Latency:
    """Median latency (batch 1) on the format's default runtime; a reason instead when it cannot run."""
    from zooprof import runtimes as rt

    framework = fmt.framework or ""
    name = rt.default_runtime(framework)
    if name is None:
        reason = f"no runtime runs {FRAMEWORKS.get(framework, fmt.framework)} models"
        return Latency(name, "n/a", None, reason, latency_text("n/a", None, reason))
    if name not in rt.RUNTIMES:
        reason = f"this zooprof has no '{name}' runtime"
        return Latency(name, "n/a", None, reason, latency_text("n/a", None, reason))
    try:
        from zooprof.reference.resolve import resolve

        rt.check_available(name)
        why = rt.incompatible(name, resolve(fmt.reference))
    except (MissingDependencyError, UsageError) as exc:
        why = str(exc)
    if why:
        return Latency(name, "n/a", None, why, latency_text("n/a", None, why))
    from zooprof.measure.options import ProfileOptions
    from zooprof.measure.profiling import measure_model

    try:
        options = ProfileOptions(
            runtimes=(name,), max_time=max_time, timeout=max(120.0, 20 * max_time), memory_limit=memory_limit
        )
        measure_model(result, fmt.reference, options)
        m = result.measurements[0]
    except ZooprofError as exc:
        m = {"status": "failed", "reason": str(exc)}
    if m["status"] != "ok":
        reason = m.get("reason") or m.get("failure") or "failed"
        return Latency(name, "failed", None, reason, latency_text("failed", None, reason))
    lat = m["timing"]["latency_ms"]
    return Latency(
        runtime=name,
        status="ok",
        median_ms=lat["median"],
        reason=None,
        text=latency_text("ok", lat["median"], None),
        ci_rel_halfwidth=lat.get("ci_rel_halfwidth"),
        iterations=lat.get("n"),
        threads=m.get("session", {}).get("threads"),
    )

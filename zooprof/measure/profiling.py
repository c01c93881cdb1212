"""`zooprof profile`: static analysis plus measured latency and memory per runtime x batch.

Each (model, runtime, batch) runs in its own worker process (zooprof.runtimes.worker) with
a time limit; a failure is recorded in that row with its reason and the others are kept.
Derived figures (throughput, achieved GFLOP/s) are computed here, once, for every renderer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from zooprof.errors import UsageError
from zooprof.result.document import ProfileResult
from zooprof.sensors.sampling import PowerOptions, PowerSession

Progress = Callable[[str, dict[str, Any]], None]


def parse_batches(text: str | list[int] | tuple[int, ...] | int) -> list[int]:
    if isinstance(text, int):
        return [text]
    if isinstance(text, (list, tuple)):
        return [int(b) for b in text]
    try:
        out = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        out = []
    if not out or any(b < 1 for b in out):
        raise UsageError(f"malformed --batch '{text}'", "give positive integers, e.g. --batch 1,8")
    return out


def parse_percent(text: str | float) -> float:
    """'1%' or '0.01' -> 0.01."""
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise UsageError(f"malformed percentage '{text}'", "e.g. --target-ci 1%") from None
    if not 0 < value < 1:
        raise UsageError(f"--target-ci {text} is out of range", "give a value between 0 and 100 %")
    return value


def with_batch(shapes: list[tuple[int, ...]], batch: int) -> list[list[int]]:
    return [[batch, *s[1:]] for s in shapes]


def measure_model(
    result: ProfileResult,
    model: str,
    runtimes: list[str],
    batches: list[int],
    *,
    threads: int | None = None,
    max_time: float = 20.0,
    target_ci: float = 0.01,
    timeout: float = 300.0,
    per_layer: bool = False,
    per_stage: bool = False,
    trust: bool = False,
    weights: str | None = None,
    ort_opt_level: str | None = None,
    progress: Progress | None = None,
    power: PowerOptions | None = None,
    power_session: PowerSession | None = None,
) -> ProfileResult:
    """Add one measurement per runtime x batch to a static ProfileResult. With `power` (or a
    ready `power_session`), a sensor samples while each worker measures (zooprof.sensors)."""
    from zooprof.reference.resolve import resolve

    ref = resolve(model)
    result.environment["threads"] = threads
    result.environment["profiled"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    result.environment["profile_options"] = {
        "max_time": max_time,
        "target_ci": target_ci,
        "timeout": timeout,
        "per_layer": per_layer,
        "per_stage": per_stage,
        "ort_opt_level": ort_opt_level,
    }
    shapes = [tuple(i["shape"]) for i in result.model["inputs"]]
    if result.totals.get("stages") and result.model.get("input_shapes"):
        # a detector's inputs are its images; what it was given (and a worker rebuilds them from) is NxCxHxW
        shapes = [tuple(s) for s in result.model["input_shapes"]]
    base_batch = shapes[0][0] if shapes and shapes[0] else 1
    macs_per_sample = result.totals["macs"] / base_batch if base_batch else None
    session = power_session or (PowerSession(power) if power else None)
    try:
        _measure_each(
            result,
            ref,
            shapes,
            runtimes,
            batches,
            session,
            progress,
            macs_per_sample,
            threads=threads,
            max_time=max_time,
            target_ci=target_ci,
            timeout=timeout,
            per_layer=per_layer,
            per_stage=per_stage,
            trust=trust,
            weights=weights,
            ort_opt_level=ort_opt_level,
        )
    finally:
        if session is not None and power_session is None:
            session.close()  # a session made here is ours to close; the caller closes its own
    return result


def _measure_each(
    result: ProfileResult,
    ref: Any,
    shapes: list[tuple[int, ...]],
    runtimes: list[str],
    batches: list[int],
    session: PowerSession | None,
    progress: Progress | None,
    macs_per_sample: float | None,
    *,
    threads: int | None,
    max_time: float,
    target_ci: float,
    timeout: float,
    per_layer: bool,
    per_stage: bool,
    trust: bool,
    weights: str | None,
    ort_opt_level: str | None,
) -> None:
    """One worker per runtime x batch, each row appended to `result.measurements` as it ends."""
    from zooprof.runtimes import incompatible
    from zooprof.runtimes.job import profile_job
    from zooprof.runtimes.worker import run_isolated

    if session is not None:
        result.environment["power"] = session.environment()
        if progress and session.sensor is not None and session.options.idle_s > 0:
            progress(result.model["name"], {"phase": f"idle baseline, {session.options.idle_s:g} s"})
        session.measure_idle()
        result.environment["power"]["idle_power_mw"] = session.idle_mw
    for runtime in runtimes:
        for batch in batches:
            spec = {
                "model": result.model["reference"],
                "runtime": runtime,
                "input_shapes": with_batch(shapes, batch),
                "threads": threads,
                "max_time": max_time,
                "target_ci": target_ci,
                "per_layer": per_layer,
                "per_stage": per_stage,
                "detector": bool(result.totals.get("stages")),
                "trust": trust,
                "weights": weights,
                "ort_opt_level": ort_opt_level,
                "seed": 0,
                "min_time": session.min_window() if session is not None else 0.0,
            }
            label = f"{result.model['name']} {runtime} b{batch}"

            def forward(info: dict[str, Any], label: str = label) -> None:
                if progress:
                    progress(label, info)

            row: dict[str, Any] = {
                "runtime": runtime,
                "batch": batch,
                "threads": threads,
                "input_shapes": spec["input_shapes"],
            }
            why_not = incompatible(runtime, ref)
            if why_not:
                row.update(status="failed", failure="unsupported", reason=why_not)
                result.measurements.append(row)
                continue
            if progress:
                progress(label, {"phase": "starting"})
            with session.sampling() if session is not None else nullcontext():
                outcome = run_isolated(profile_job, (spec,), timeout, forward)
            row.update(status="ok" if outcome.ok else "failed", worker_seconds=round(outcome.seconds, 3))
            if not outcome.ok:
                row.update(failure=outcome.failure, reason=outcome.reason)
                if outcome.detail:
                    row["detail"] = outcome.detail
            else:
                row.update(outcome.result)
                row.update(derived(row, batch, macs_per_sample))
            if session is not None:
                row["power"] = session.record(row.get("timing"))
            result.measurements.append(row)
            if progress:
                progress(label, {"phase": "done", "status": row["status"]})


def derived(row: dict[str, Any], batch: int, macs_per_sample: float | None) -> dict[str, Any]:
    """Throughput (samples/s) and achieved GFLOP/s (2 x MACs x batch / median latency)."""
    median_ms = row["timing"]["latency_ms"]["median"]
    out: dict[str, Any] = {}
    if median_ms and median_ms > 0:
        out["throughput_per_s"] = round(batch * 1000.0 / median_ms, 3)
        if macs_per_sample:
            out["achieved_gflops"] = round(2 * macs_per_sample * batch / (median_ms / 1000.0) / 1e9, 3)
    _shares(row.get("per_layer"), "layers", median_ms)
    _shares(row.get("per_stage"), "stages", median_ms)
    return out


def _shares(record: dict[str, Any] | None, key: str, median_ms: float | None) -> None:
    """Per-layer or per-stage times: each part's share of their sum, and the sum vs the median."""
    if not record or not record.get(key):
        return
    total = record["sum_seconds"]
    for part in record[key]:
        part["share"] = round(part["seconds"] / total, 5) if total else 0.0
    record["sum_vs_median"] = round(total * 1000.0 / median_ms, 4) if median_ms else None


def profile(
    model: str, runtime: str | list[str] | None = None, batch: Any = 1, input_shape: Any = None, **options: Any
) -> ProfileResult:
    """Python API: static analysis + measurements for one model (runtime default: the
    model's own framework). See `zooprof profile --help`."""
    from zooprof import runtimes as rt
    from zooprof.measure.static import inspect

    names = rt.parse_runtimes(runtime if isinstance(runtime, str) else ",".join(runtime)) if runtime else []
    for name in names:
        rt.check_available(name)
    result = inspect(
        model,
        input_shape=input_shape,
        trust=options.get("trust", False),
        use_cache=options.pop("use_cache", True),
        command=options.pop("command", None),
    )
    if not names:
        names = [rt.DEFAULT_RUNTIME.get(result.model["framework"], "torch")]
        rt.check_available(names[0])
    result.measurements = []
    if options.get("power") is True:
        options["power"] = PowerOptions()
    elif not options.get("power"):
        options.pop("power", None)
    return measure_model(result, model, names, parse_batches(batch), **options)

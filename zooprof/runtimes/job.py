"""The measurement that runs inside a worker process: load, time, measure memory, per-layer.

`profile_job(spec, report)` is what `zooprof.runtimes.worker.run_isolated` calls; `spec`
is a plain dict (picklable) built by zooprof.measure.profiling.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from zooprof.sensors.proc_status import status_bytes


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM, so the peak covers the run only."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def profile_job(spec: dict[str, Any], report: Any) -> dict[str, Any]:
    from zooprof import runtimes
    from zooprof.measure.timing import measure

    rss_before = status_bytes("VmRSS")
    started = time.perf_counter()
    session = runtimes.load(spec["runtime"])(spec)
    load_seconds = time.perf_counter() - started
    rss_loaded = status_bytes("VmRSS")
    peak_reset = _reset_peak_rss()

    def progress(done: int, elapsed: float, ci_rel: float | None) -> None:
        report({"iterations": done, "elapsed": elapsed, "ci_rel": ci_rel})

    budget = {
        "max_time": float(spec.get("max_time", 20.0)),
        "target_ci": float(spec.get("target_ci", 0.01)),
        "min_time": float(spec.get("min_time", 0.0)),
    }
    # a session that times itself (CUDA events, trtexec) returns the same record; None: time `run` here
    own = getattr(session, "measure", None)
    timing = own(progress=progress, **budget) if own is not None else None
    if timing is None:
        timing = measure(session.run, progress=progress, **budget).to_dict()
        timing["timer"] = "host clock (time.perf_counter)"
    out: dict[str, Any] = {
        "timing": timing,
        "session": session.info,
        "load_seconds": round(load_seconds, 4),
        "memory": {
            "rss_before_load_bytes": rss_before,
            "rss_after_load_bytes": rss_loaded,
            "peak_rss_bytes": status_bytes("VmHWM"),
            "peak_covers": "the timed run" if peak_reset else "loading and the timed run",
        },
    }
    device_memory = getattr(session, "device_memory", None)
    if device_memory:
        out["memory"]["device"] = device_memory
    if spec.get("per_layer"):
        report({"phase": "per-layer"})
        out["per_layer"] = session.per_layer(int(spec.get("per_layer_iterations", 20)))
    if spec.get("per_stage"):
        report({"phase": "per-stage"})
        per_stage = getattr(session, "per_stage", None)
        out["per_stage"] = (
            per_stage(int(spec.get("per_stage_iterations", 20)))
            if per_stage
            else {"method": None, "reason": f"the {spec['runtime']} runtime cannot time stages"}
        )
    return out

"""One measurement row on a board: the model file made here (ONNX or TFLite, converted on the host
when the board cannot), copied if the board lacks it, measured by the agent, turned into the row a
local worker would have given (same keys, same statistics, energy from the board's own rails).

`run_on_board` returns a `WorkerOutcome`, so zooprof.measure.profiling treats a board row like a
local one: a failure (connection lost, the agent killed, a missing runtime, a full disk) is that
row's, with the reason, and the rows before it stay.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from zooprof.errors import ZooprofError
from zooprof.remote.board import Board, Progress
from zooprof.runtimes.worker import WorkerOutcome
from zooprof.sensors.base import Trace
from zooprof.sensors.coverage import attribute
from zooprof.sensors.energy import energy_record, idle_power, not_available

#: the board runs files: which file each runtime needs
FILE_KIND = {"onnxruntime": "onnx", "tensorrt": "onnx", "tflite": "tflite"}


def model_file(spec: dict[str, Any]) -> tuple[Path, dict[str, Any] | None]:
    """The file the board runs, converted here when needed (as the local runtimes convert)."""
    kind = FILE_KIND.get(spec["runtime"])
    if kind == "onnx":
        from zooprof.runtimes.onnxruntime_rt import onnx_file

        return onnx_file(spec)
    if kind == "tflite":
        from zooprof.runtimes.litert_rt import tflite_file

        return tflite_file(spec)
    raise ZooprofError(
        f"the {spec['runtime']} runtime does not run on a board: use onnxruntime, tensorrt or tflite "
        "(zooprof converts the model on this machine)"
    )


def job_for(spec: dict[str, Any], path: str, digest: str, local: Path, power: Any) -> dict[str, Any]:
    """What the agent is told: the board's model file, the runtime and the timing options."""
    job = {
        key: spec.get(key)
        for key in (
            "runtime",
            "device",
            "precision",
            "input_shapes",
            "threads",
            "max_time",
            "target_ci",
            "min_time",
            "per_layer",
            "ort_provider",
            "cuda_graphs",
            "dla_core",
            "trtexec",
        )
    }
    job.update(model=path, model_hash=digest, batch=spec["input_shapes"][0][0] if spec["input_shapes"] else 1)
    if spec["runtime"] == "tensorrt":
        from zooprof.runtimes import tensorrt_rt

        shapes = tensorrt_rt.shapes_flag(tensorrt_rt.onnx_inputs(local), spec["input_shapes"])
        job.update(
            build_flags=tensorrt_rt.build_flags(spec, shapes),
            run_flags=tensorrt_rt.run_flags(spec, shapes),
            duration=tensorrt_rt.duration_s(float(spec["max_time"]), float(spec.get("min_time") or 0.0)),
        )
    if power is not None:
        job["power"] = {"sample_hz": power.sample_hz, "idle_s": power.idle_s, "sensor": power.sensor}
    root = board_root()
    if root:
        job["sysfs_root"] = root
    return job


def board_root() -> str | None:
    """Tests point the agent at a fake board tree (ZOOPROF_REMOTE_SYSFS_ROOT); never set in use."""
    import os

    return os.environ.get("ZOOPROF_REMOTE_SYSFS_ROOT")


def board_trace(raw: dict[str, Any]) -> Trace:
    """A board's trace: the INA3221 rails as sampled, or tegrastats' lines parsed here."""
    if "tegrastats_lines" in raw:
        from zooprof.sensors.tegrastats_live import trace_from_lines

        return trace_from_lines(
            "tegrastats", [(t, line) for t, line in raw["tegrastats_lines"]], raw.get("requested_hz")
        )
    return Trace.from_dict(raw)


def power_record(out: dict[str, Any], timing: dict[str, Any] | None, device: str, power: Any) -> dict[str, Any]:
    """The row's `power` from the board's raw rail traces: the same integration as a local row."""
    if out.get("trace") is None:
        return not_available(out.get("power_reason") or "the board sampled no power")
    trace = board_trace(out["trace"])
    stamps = (timing or {}).get("timestamps_s") or []
    if not stamps:
        return not_available("the measurement has no timed window")
    idle_mw, idle_why = (None, "no idle baseline (--idle 0)")
    if out.get("idle_trace"):
        idle_mw, why = idle_power(board_trace(out["idle_trace"]))
        idle_why = None if idle_mw is not None else f"idle baseline failed: {why}"
    iterations = len(stamps) * int(timing.get("calls_per_sample", 1)) if timing else 0
    rec = energy_record(
        trace,
        (stamps[0][0], stamps[-1][1]),
        iterations,
        idle_mw,
        power.idle_s if idle_mw is not None else None,
        idle_why,
    )
    return attribute(rec, trace.sensor, device)


def tensorrt_timing(out: dict[str, Any], spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(timing, session) of a board's trtexec run: parsed here, by the same code as a local run."""
    from zooprof.runtimes import tensorrt_rt
    from zooprof.runtimes.trtexec_output import parse_log

    raw = out["tensorrt"]
    exports = raw.get("exports") or {}
    if exports.get("times") is None:
        raise ZooprofError("trtexec on the board wrote no per-inference times (--exportTimes)")
    duration = tensorrt_rt.duration_s(float(spec["max_time"]), float(spec.get("min_time") or 0.0))
    timing = tensorrt_rt.timing_record(raw["trtexec_log"], exports["times"], tuple(raw["wall"]), duration)
    build = parse_log(raw["build_log"]) if raw.get("build_log") else {}
    session = {
        **out.get("session", {}),
        "trtexec": raw.get("trtexec"),
        "tensorrt_version": timing["trtexec"].get("tensorrt_version"),
        "engine_bytes": raw.get("engine_bytes"),
        "build": {"cached": raw.get("engine_cached"), "build_seconds": build.get("build_seconds")},
        "cuda_graph": bool(spec.get("cuda_graphs")),
    }
    if spec.get("per_layer"):
        out["per_layer"] = tensorrt_rt.per_layer_record(exports.get("profile"), exports.get("layers"))
    return timing, session


def run_on_board(board: Board, spec: dict[str, Any], power: Any, timeout: float, progress: Progress) -> WorkerOutcome:
    """One row on the board, as a WorkerOutcome (ok with the row's fields, or the reason)."""
    started = time.monotonic()
    try:
        local, conversion = model_file(spec)
        path, digest = board.ensure_file(Path(local), progress)
        out = board.agent("run", job_for(spec, path, digest, Path(local), power), timeout, progress)
        if out.get("status") != "ok":
            return WorkerOutcome(
                False,
                failure=out.get("failure") or "exception",
                reason=out.get("reason") or "the agent gave no reason",
                detail=out.get("detail"),
                seconds=time.monotonic() - started,
            )
        if spec["runtime"] == "tensorrt":
            timing, session = tensorrt_timing(out, spec)
        else:
            timing, session = out["timing"], out.get("session", {})
        if conversion:
            session["conversion"] = conversion
        session["model_file"] = str(local)
        session["board_model_file"] = path
        row: dict[str, Any] = {
            "timing": timing,
            "session": session,
            "memory": out.get("memory") or {},
            "load_seconds": out.get("load_seconds"),
            "board": out.get("board"),
            "board_python": out.get("python"),
            # this row's copies: the agent, and its model file (a sweep's board has seen other models)
            "remote": {
                **out.get("remote", {}),
                "copied": {k: board.copied[k] for k in ("agent", digest) if k in board.copied},
            },
        }
        if out.get("per_layer"):
            row["per_layer"] = out["per_layer"]
        if power is not None:
            row["power"] = power_record(out, timing, session.get("device") or spec["device"], power)
        return WorkerOutcome(True, result=row, seconds=time.monotonic() - started)
    except ZooprofError as exc:
        return WorkerOutcome(False, failure="remote", reason=str(exc), seconds=time.monotonic() - started)


def board_environment(result: Any, board: Board) -> None:
    """The result's environment becomes the board's: its record (model, L4T/JetPack, nvpmodel,
    jetson_clocks, GPU, CPU, memory) and Python; the laptop's own record moves to `host`."""
    record, python = None, None
    for row in result.measurements:
        record = record or row.pop("board", None)
        python = python or row.pop("board_python", None)
        row.pop("board", None)
        row.pop("board_python", None)
    env = result.environment
    host_keys = ("board", "cpu_model", "cpu_count", "cpu_affinity", "governors", "memory_bytes", "python")
    host_keys += ("os", "machine", "accelerator", "libraries")
    env["host"] = {k: env.pop(k) for k in host_keys if k in env}
    env["remote"] = {
        "target": str(board.target),
        "transport": "ssh (OpenSSH client, one multiplexed connection)",
        "agent": board.agent_hash,
        "agent_copied": board.copied.get("agent"),
        "cache": board.cache,
    }
    if record is None:
        env["board"] = "n/a (no row reached the board's agent)"
        return
    env["board"] = record
    env["python"] = python
    for key in ("cpu_model", "cpu_count", "governors", "memory_bytes"):
        env[key] = record.get(key)

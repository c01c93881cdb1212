"""Measuring a model: static analysis plus measured latency and memory per runtime x batch.

`profile(model, options)` is the one orchestration used by `zooprof profile`, `zooprof compare
--runtime`, `zooprof.profile` and `compare-formats --latency`.

Each (model, runtime, batch) runs in its own worker process (zooprof.runtimes.worker) with
a time limit and a memory limit; a failure is recorded in that row with its reason and the
others are kept. Derived figures (throughput, achieved GFLOP/s) are computed here, once, for
every renderer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from zooprof.measure.options import ProfileOptions
from zooprof.result.document import ProfileResult
from zooprof.sensors.sampling import PowerSession

if TYPE_CHECKING:
    from zooprof.remote.board import Board

Progress = Callable[[str, dict[str, Any]], None]


def with_batch(shapes: list[tuple[int, ...]], batch: int) -> list[list[int]]:
    return [[batch, *s[1:]] for s in shapes]


def profile(
    model: str,
    options: ProfileOptions,
    progress: Progress | None = None,
    power_session: PowerSession | None = None,
    board: Board | None = None,
) -> ProfileResult:
    """The one orchestration of a measurement, used by the CLI, the Python API and sweeps:
    static analysis (cached), then one isolated worker per runtime x batch. With `options.on`,
    `board` is a board already open (a sweep's, one connection for all its cells), used and left
    open; without it the board is opened for this call and closed at its end."""
    from zooprof.measure.static import inspect

    options.check_available()
    result = inspect(
        model,
        input_shape=list(options.input_shapes) if options.input_shapes else None,
        trust=options.trust,
        use_cache=options.use_cache,
        command=options.command,
    )
    return measure_model(result, model, options, progress, power_session, board)


def runtimes_for(result: ProfileResult, options: ProfileOptions) -> list[str]:
    """The runtimes asked for, or the model's own (one rule: zooprof.runtimes.default_runtime).
    Empty when no runtime runs the model's framework."""
    from zooprof import runtimes as rt

    if options.runtimes:
        return list(options.runtimes)
    name = rt.default_runtime(result.model["framework"])
    if name is None:
        return []
    if options.on:  # on a board, a PyTorch model runs as ONNX
        return ["onnxruntime" if name in ("torch", "onnxruntime") else name]
    rt.check_available(name)
    options.check_device(name)
    return [name]


def measure_model(
    result: ProfileResult,
    model: str,
    options: ProfileOptions,
    progress: Progress | None = None,
    power_session: PowerSession | None = None,
    board: Board | None = None,
) -> ProfileResult:
    """Replace a static ProfileResult's measurements with one per runtime x batch. With
    `options.power` (or a ready `power_session`), a sensor samples while each worker measures;
    with `options.on`, on the board (`board`, if open already: see `profile`)."""
    from zooprof.reference.resolve import resolve

    ref = resolve(model)
    result.measurements = []
    result.environment["threads"] = options.threads
    result.environment["profiled"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    result.environment["profile_options"] = options.record()
    shapes = [tuple(i["shape"]) for i in result.model["inputs"]]
    if result.totals.get("stages") and result.model.get("input_shapes"):
        # a detector's inputs are its images; what it was given (and a worker rebuilds them from) is NxCxHxW
        shapes = [tuple(s) for s in result.model["input_shapes"]]
    base_batch = shapes[0][0] if shapes and shapes[0] else 1
    macs_per_sample = result.totals["macs"] / base_batch if base_batch else None
    runtimes = runtimes_for(result, options)
    if not runtimes:
        framework = result.model["framework"]
        result.measurements.append(
            {
                "runtime": "none",
                "batch": options.batches[0],
                "threads": options.threads,
                "status": "failed",
                "failure": "unsupported",
                "reason": f"no runtime runs {framework} models: profile its Keras (.h5), TFLite or ONNX export",
            }
        )
        return result
    if options.on:
        _measure_on_board(result, ref, shapes, runtimes, options, progress, macs_per_sample, board)
        return result
    session = power_session or (PowerSession(options.power) if options.power else None)
    try:
        _measure_each(result, ref, shapes, runtimes, options, session, progress, macs_per_sample)
    finally:
        if session is not None and power_session is None:
            session.close()  # a session made here is ours to close; the caller closes its own
    return result


def worker_spec(
    result: ProfileResult,
    runtime: str,
    batch: int,
    shapes: list[tuple[int, ...]],
    options: ProfileOptions,
    min_time: float,
) -> dict[str, Any]:
    """What a worker is told (JSON-ready): the model, one runtime and batch, the timing options."""
    return {
        "model": result.model["reference"],
        "runtime": runtime,
        "input_shapes": with_batch(shapes, batch),
        "threads": options.threads,
        "max_time": options.max_time,
        "target_ci": options.target_ci,
        "per_layer": options.per_layer,
        "per_stage": options.per_stage,
        "detector": bool(result.totals.get("stages")),
        "trust": options.trust,
        "weights": options.weights,
        "ort_opt_level": options.ort_opt_level,
        "device": str(options.device_for(runtime)),
        "precision": options.precision,
        "cuda_graphs": options.cuda_graphs,
        "cudnn_benchmark": options.cudnn_benchmark,
        "ort_provider": options.ort_provider,
        "dla_core": options.dla_core,
        "trtexec": options.trtexec,
        "seed": 0,
        "min_time": min_time,
    }


def _measure_on_board(
    result: ProfileResult,
    ref: Any,
    shapes: list[tuple[int, ...]],
    runtimes: list[str],
    options: ProfileOptions,
    progress: Progress | None,
    macs_per_sample: float | None,
    opened: Board | None = None,
) -> None:
    """`--on HOST`: every row measured by the board's agent over one ssh connection (`opened`, the
    caller's and left open, or one made and closed here); the result's environment becomes the
    board's (the laptop's is kept under `environment.host`)."""
    from zooprof.remote.board import Board
    from zooprof.remote.run import board_environment, run_on_board
    from zooprof.remote.ssh import parse_target
    from zooprof.sensors.sampling import MIN_WINDOW_S, MIN_WINDOW_SAMPLES

    assert options.on is not None
    board = opened or Board(parse_target(options.on), options.ssh_config, options.board_python)
    min_time = max(MIN_WINDOW_S, MIN_WINDOW_SAMPLES / options.power.sample_hz) if options.power else 0.0
    try:
        _measure_each(
            result,
            ref,
            shapes,
            runtimes,
            options,
            None,
            progress,
            macs_per_sample,
            runner=lambda spec, forward: run_on_board(board, spec, options.power, options.timeout, forward),
            min_time=min_time,
        )
    finally:
        if opened is None:
            board.close()
    board_environment(result, board)


def _measure_each(
    result: ProfileResult,
    ref: Any,
    shapes: list[tuple[int, ...]],
    runtimes: list[str],
    options: ProfileOptions,
    session: PowerSession | None,
    progress: Progress | None,
    macs_per_sample: float | None,
    runner: Callable[[dict[str, Any], Callable[[dict[str, Any]], None]], Any] | None = None,
    min_time: float = 0.0,
) -> None:
    """One worker per runtime x batch (or `runner(spec, progress)`: a board), each row appended to
    `result.measurements` as it ends."""
    from zooprof.runtimes import incompatible
    from zooprof.runtimes.devices import unsupported
    from zooprof.runtimes.job import profile_job
    from zooprof.runtimes.worker import run_isolated

    if session is not None:
        result.environment["power"] = session.environment()
        if progress and session.sensor is not None and session.options.idle_s > 0:
            progress(result.model["name"], {"phase": f"idle baseline, {session.options.idle_s:g} s"})
        session.measure_idle()
        result.environment["power"]["idle_power_mw"] = session.idle_mw
    for runtime in runtimes:
        for batch in options.batches:
            spec = worker_spec(result, runtime, batch, shapes, options, session.min_window() if session else min_time)
            label = f"{result.model['name']} {runtime} b{batch}"

            def forward(info: dict[str, Any], label: str = label) -> None:
                if progress:
                    progress(label, info)

            row: dict[str, Any] = {
                "runtime": runtime,
                "batch": batch,
                "threads": options.threads,
                "input_shapes": spec["input_shapes"],
                "device": spec["device"],
                "precision": options.precision,  # None: the model's own
            }
            why_not = incompatible(runtime, ref) or unsupported(
                runtime, options.device_for(runtime), options.precision, options.ort_provider
            )
            if why_not:
                row.update(status="failed", failure="unsupported", reason=why_not)
                result.measurements.append(row)
                continue
            if progress:
                progress(label, {"phase": "starting"})
            if runner is not None:
                outcome = runner(spec, forward)
            else:
                with session.sampling() if session is not None else nullcontext():
                    outcome = run_isolated(profile_job, (spec,), options.timeout, forward, options.memory_limit)
            row.update(status="ok" if outcome.ok else "failed", worker_seconds=round(outcome.seconds, 3))
            if runner is None:  # a local worker, watched by this process (a board's agent runs its own)
                row.update(worker_peak_rss_bytes=outcome.peak_rss_bytes, memory_limit_bytes=outcome.memory_limit_bytes)
            if not outcome.ok:
                row.update(failure=outcome.failure, reason=outcome.reason)
                if outcome.detail:
                    row["detail"] = outcome.detail
            else:
                row.update(outcome.result)
                if runtime == "tensorrt":
                    from zooprof.runtimes.tensorrt_rt import map_to_ir

                    map_to_ir(row.get("per_layer"), [layer["name"] for layer in result.layers])
                row.update(derived(row, batch, macs_per_sample))
            if outcome.ok:
                row["device"] = row["session"].get("device") or spec["device"]
                row["precision"] = row["session"].get("precision") or options.precision
            if session is not None:
                row["power"] = session.record(row.get("timing"), row["device"])
            result.measurements.append(row)
            if progress:
                said = {k: row[k] for k in ("failure", "reason") if row.get(k)}
                progress(label, {"phase": "done", "status": row["status"], **said})


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

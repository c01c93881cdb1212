"""Tables of measured figures (one row per runtime x batch) and per-layer time, from a
ProfileResult's `measurements`. Computes nothing: every figure is in the result."""

from __future__ import annotations

from typing import Any

from zooprof.renderers.escape import printable
from zooprof.renderers.fit import FitColumn, fit_table
from zooprof.renderers.textconsole import exported, recording_console
from zooprof.result.columns import human
from zooprof.result.document import ProfileResult

#: the table's columns; when it is wider than the terminal the highest `drop` is hidden first
COLUMNS = (
    FitColumn("Runtime", min_width=10),
    FitColumn("Batch", figure=True, drop=3, right=True),
    FitColumn("Threads", figure=True, drop=8, right=True),
    FitColumn("Median ms", figure=True, right=True),
    FitColumn("p90", figure=True, drop=11, right=True),
    FitColumn("p99", figure=True, drop=5, right=True),
    FitColumn("Mean", figure=True, drop=12, right=True),
    FitColumn("Std", figure=True, drop=14, right=True),
    FitColumn("Min", figure=True, drop=13, right=True),
    FitColumn("95% CI of median", figure=True, drop=9),
    FitColumn("Iter", figure=True, drop=10, right=True),
    FitColumn("Throughput/s", figure=True, drop=4, right=True),
    FitColumn("Peak RSS", figure=True, drop=6, right=True),
    FitColumn("GFLOP/s", figure=True, drop=7, right=True),
    FitColumn("Status", min_width=14, cut="end"),
)
HEADINGS = tuple(c.heading for c in COLUMNS)


def _f(x: Any, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def runtime_label(m: dict[str, Any]) -> str:
    """The Runtime cell: the runtime, and where and how it ran unless that is the CPU as built."""
    session = m.get("session") or {}
    parts = [m["runtime"]]
    device, precision = m.get("device"), m.get("precision")
    if device and device != "cpu":
        parts.append(str(device))
    if precision and precision != "fp32":
        parts.append(str(precision))
    if session.get("mode") == "cuda graph replay" or session.get("cuda_graph"):
        parts.append("cuda graph")
    return " ".join(parts)


def device_lines(result: ProfileResult) -> list[str]:
    """Rows measured on an accelerator: the timer, the synchronised wall clock, the harness's
    overhead, device memory, and trtexec's own summary."""
    lines = []
    for m in result.measurements:
        if m["status"] != "ok" or (m.get("device") or "cpu") == "cpu":
            continue
        timing, session = m["timing"], m.get("session") or {}
        head = f"{runtime_label(m)} b{m['batch']}"
        where = session.get("device_name") or session.get("provider") or ""
        lines.append(f"{head}: {where + '; ' if where else ''}timer: {timing.get('timer')}")
        wall = timing.get("wall_latency_ms")
        if wall:
            lines.append(f"  synchronised wall clock: median {_f(wall['median'])} ms (launch and sync included)")
        over = timing.get("harness_overhead")
        if over:
            lines.append(
                f"  harness overhead: {over['event_floor_us']:.1f} µs inside each sample (empty event pair), "
                f"{over['per_iteration_us']:.1f} µs of host time per iteration"
            )
        dev = (m.get("memory") or {}).get("device")
        if dev:
            lines.append(
                f"  device memory: {human(dev['peak_allocated_bytes'], 'B')} peak allocated, "
                f"{human(dev['peak_reserved_bytes'], 'B')} peak reserved "
                f"({human(dev['allocated_after_load_bytes'], 'B')} after load)"
            )
        if session.get("cudnn_benchmark") is not None:
            lines.append(f"  cudnn.benchmark {session['cudnn_benchmark']}, CUDA {session.get('cuda')}")
        lines += _trtexec_lines(m)
    return lines


def _trtexec_lines(m: dict[str, Any]) -> list[str]:
    log = m["timing"].get("trtexec")
    if not log:
        return []
    session = m.get("session") or {}
    build = session.get("build") or {}
    out = [
        f"  TensorRT {log.get('tensorrt_version') or session.get('tensorrt_version') or '?'}: "
        f"throughput {_f(log.get('throughput_qps'), 1)} qps (trtexec), engine {human(session.get('engine_bytes') or 0, 'B')}"
        + (" (cached)" if build.get("cached") else f", built in {_f(build.get('build_seconds'), 1)} s")
    ]
    parts = []
    for key, label in (("compute_ms", "GPU compute"), ("h2d_ms", "H2D"), ("d2h_ms", "D2H"), ("enqueue_ms", "enqueue")):
        stats = m["timing"].get(key)
        if stats:
            parts.append(f"{label} {_f(stats['median'])}")
    if parts:
        out.append("  median ms: " + ", ".join(parts))
    return out


def measurement_rows(result: ProfileResult) -> list[list[str]]:
    rows = []
    for m in result.measurements:
        if m["status"] != "ok":
            rows.append(
                [
                    runtime_label(m),
                    str(m["batch"]),
                    str(m.get("threads") or "default"),
                    *["–"] * 11,
                    f"failed ({m.get('failure')}): {m.get('reason')}",
                ]
            )
            continue
        lat = m["timing"]["latency_ms"]
        ci = (
            f"{_f(lat['ci_low'])}–{_f(lat['ci_high'])} (±{100 * lat['ci_rel_halfwidth']:.1f}%)"
            if lat.get("ci_low") is not None
            else "–"
        )
        threads = m["session"].get("threads") or m.get("threads") or "default"
        rows.append(
            [
                runtime_label(m),
                str(m["batch"]),
                str(threads),
                _f(lat["median"]),
                _f(lat["p90"]),
                _f(lat["p99"]),
                _f(lat["mean"]),
                _f(lat["std"]),
                _f(lat["min"]),
                ci,
                str(lat["n"]),
                _f(m.get("throughput_per_s"), 1),
                human(m["memory"]["peak_rss_bytes"] or 0, "B"),
                _f(m.get("achieved_gflops"), 2),
                f"ok ({m['timing']['stop_reason']})",
            ]
        )
    return rows


def per_layer_lines(result: ProfileResult, top: int = 10) -> list[str]:
    lines = []
    for m in result.measurements:
        pl = m.get("per_layer")
        if m["status"] != "ok" or not pl:
            continue
        head = f"Per-layer time, {runtime_label(m)} batch {m['batch']} ({pl.get('method') or pl.get('reason')})"
        lines.append(head)
        if not pl.get("layers"):
            continue
        ranked = sorted(pl["layers"], key=lambda x: -x["seconds"])[:top]
        for layer in ranked:
            fused = " [fused]" if layer.get("fused") else ""
            where = f" on {layer['provider']}" if layer.get("provider") else ""
            lines.append(
                f"  {layer['name']}{fused}: {layer['seconds'] * 1000:.3f} ms ({100 * layer.get('share', 0):.1f} %)"
                + where
            )
            if layer.get("fused") and layer.get("ir_layers"):
                lines.append("    covers: " + ", ".join(layer["ir_layers"]))
        median = m["timing"]["latency_ms"]["median"]
        ratio = pl.get("sum_vs_median")
        lines.append(
            f"  sum of {len(pl['layers'])} layers: {pl['sum_seconds'] * 1000:.3f} ms vs end-to-end median "
            f"{median:.3f} ms" + (f" ({100 * ratio:.1f} %)" if ratio else "")
        )
    return lines


def per_stage_lines(result: ProfileResult) -> list[str]:
    """Detection models: time per stage, the units' counts of that run, and the sum against the median."""
    lines = []
    for m in result.measurements:
        ps = m.get("per_stage")
        if m["status"] != "ok" or not ps:
            continue
        lines.append(f"Per-stage time, {m['runtime']} batch {m['batch']} ({ps.get('method') or ps.get('reason')})")
        if not ps.get("stages"):
            continue
        for stage in ps["stages"]:
            lines.append(f"  {stage['stage']}: {stage['seconds'] * 1000:.3f} ms ({100 * stage.get('share', 0):.1f} %)")
        counts = ps.get("counts") or {}
        if "proposals" in counts:
            per = ps.get("seconds_per_proposal")
            lines.append(
                f"  roi_heads: {counts['proposals']} proposals in this run"
                + (f", {per * 1e6:.1f} µs per proposal" if per is not None else "")
            )
        if counts.get("boxes_into_nms"):
            per = ps.get("postprocess_seconds_per_box_into_nms")
            lines.append(
                f"  postprocess: {counts['boxes_into_nms']:,} boxes into NMS in this run"
                + (f", {per * 1e6:.2f} µs per box (average of this run)" if per is not None else "")
            )
        boxes = {k.removesuffix(".boxes_out"): v for k, v in counts.items() if k.endswith(".boxes_out")}
        if boxes:
            lines.append("  boxes out in this run: " + ", ".join(f"{k} {v}" for k, v in boxes.items()))
        median = m["timing"]["latency_ms"]["median"]
        ratio = ps.get("sum_vs_median")
        lines.append(
            f"  sum of stages: {ps['sum_seconds'] * 1000:.3f} ms vs end-to-end median {median:.3f} ms"
            + (f" ({100 * ratio:.1f} %)" if ratio else "")
        )
        if ps.get("end_to_end_seconds"):
            lines.append(
                f"  vs passes without hooks taken between the staged ones: {ps['end_to_end_seconds'] * 1000:.3f} ms "
                f"({100 * ps['sum_vs_end_to_end']:.1f} %)"
            )
    return lines


def _mj(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f} mJ"


def power_lines(result: ProfileResult) -> list[str]:
    """One line per measurement that sampled power: sensor, rate, averages, energy per inference."""
    lines = []
    for m in result.measurements:
        p = m.get("power")
        if not p:
            continue
        head = f"Power, {m['runtime']} batch {m['batch']}"
        if p["status"] != "ok":
            lines.append(f"{head}: n/a ({p.get('reason')})")
            continue
        if p.get("sensor_covers"):
            head += f" on {p.get('device')}; the sensor measures {p['sensor_covers']}"
        idle = p.get("idle_power_mw")
        idle_text = f", idle {idle / 1000:.3f} W over {p.get('idle_seconds'):g} s" if idle is not None else ""
        corrected = _mj(p.get("energy_per_inference_mj"))
        if p.get("energy_per_inference_mj") is None:
            corrected = p.get("energy_note") or "n/a"
        lines.append(
            f"{head} ({p['sensor']}, total {p.get('total_source')}, {p['samples']} samples at "
            f"{p.get('sample_hz_achieved') or 0:.1f} Hz over {p['window_s']:.2f} s): "
            f"avg {p['avg_power_mw'] / 1000:.3f} W{idle_text}; energy/inference {corrected} "
            f"(raw {_mj(p.get('energy_per_inference_raw_mj'))})"
        )
        if p.get("energy_note") and p.get("energy_per_inference_mj") is not None:
            lines.append(f"  note: {p['energy_note']}")
        for name, t in (p.get("temperatures_c") or {}).items():
            lines.append(f"  {name}: {t['start']:.1f} -> {t['end']:.1f} °C (max {t['max']:.1f})")
    return lines


def render_measurements(result: ProfileResult, width: int | None = None, wide: bool = False) -> str:
    """The measured table, fitted to `width` unless `wide`, and the lines under it."""
    from rich.text import Text

    m = result.model
    remote = result.environment.get("remote") or {}
    board = result.environment.get("board")
    where = "this machine"
    if remote:
        model = board.get("model") if isinstance(board, dict) else None
        where = f"{remote.get('target')}" + (f" ({model})" if model else "")
    rows = measurement_rows(result)
    styles = ["red" if row[-1].startswith("failed") else "" for row in rows]
    fitted = fit_table(f"{m['name']}: measured on {where}", COLUMNS, rows, width, wide, styles)
    console = recording_console(width)
    fitted.print_to(console)
    for line in device_lines(result) + per_layer_lines(result) + per_stage_lines(result) + power_lines(result):
        console.print(Text(printable(line)))
    t = result.totals
    console.print(
        Text(f"Static: {t['params']:,} params, {human(t['macs'], 'MACs')}, weights {human(t['weight_bytes'], 'B')}")
    )
    return exported(console)

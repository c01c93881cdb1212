"""Energy from a sensor trace: average power, idle baseline, energy per inference.

Conventions (docs/measurement.md, "Power and energy"):
- Power between samples is linear (trapezoidal rule). An energy counter (RAPL, NVML) becomes
  the mean power between two readings, placed at their midpoint; a counter that goes down
  wrapped once at its range.
- The measured window is [first timed sample's start, last timed sample's end] reported by the
  worker, on the same clock as the trace. Average power = integral over the part of the window
  the trace covers / that duration; raw energy = average power x window.
- Energy per inference (idle-corrected) = (average power - idle power) x window / iterations;
  raw = average power x window / iterations. mW x s = mJ.
- Fewer than `MIN_SAMPLES` samples inside the window, or a trace covering less than
  `MIN_COVERAGE` of it, gives "n/a (reason)", never 0.
"""

from __future__ import annotations

from typing import Any

from zooprof.sensors.base import ENERGY, POWER, TEMPERATURE, Trace

MIN_SAMPLES = 2
MIN_COVERAGE = 0.8
TIMELINE_POINTS = 1500


def power_series(trace: Trace, channel: str) -> tuple[list[float], list[float]]:
    """(times, mW) of a power channel, or of an energy counter turned into mean power."""
    ch = trace.channels[channel]
    values = trace.series.get(channel, [])
    pts = [(t, v) for t, v in zip(trace.t, values, strict=False) if v is not None]
    if ch.kind == POWER:
        return [p[0] for p in pts], [float(p[1]) for p in pts]
    if ch.kind != ENERGY:
        raise ValueError(f"channel {channel} is {ch.kind}, not power or energy")
    times, powers = [], []
    for (t0, e0), (t1, e1) in zip(pts, pts[1:], strict=False):
        if t1 <= t0:
            continue
        delta = e1 - e0
        if delta < 0:
            if not ch.wrap:
                continue  # a counter reset with no known range: skip that interval
            delta += ch.wrap
        times.append((t0 + t1) / 2)
        powers.append(delta / (t1 - t0))  # mJ/s = mW
    return times, powers


def _interp(t: list[float], p: list[float], x: float) -> float:
    for i in range(len(t) - 1):
        if t[i] <= x <= t[i + 1]:
            if t[i + 1] == t[i]:
                return p[i]
            return p[i] + (p[i + 1] - p[i]) * (x - t[i]) / (t[i + 1] - t[i])
    raise ValueError("outside the trace")


def integrate(t: list[float], p: list[float], a: float, b: float) -> tuple[float, float]:
    """(mW x s = mJ, seconds covered) of the piecewise-linear power over [a, b] ∩ trace."""
    if len(t) < 2:
        return 0.0, 0.0
    lo, hi = max(a, t[0]), min(b, t[-1])
    if hi <= lo:
        return 0.0, 0.0
    energy = 0.0
    for i in range(len(t) - 1):
        s, e = max(lo, t[i]), min(hi, t[i + 1])
        if e <= s:
            continue
        energy += (_interp(t, p, s) + _interp(t, p, e)) / 2 * (e - s)
    return energy, hi - lo


def average_power(t: list[float], p: list[float], a: float, b: float) -> tuple[float | None, str | None]:
    """Time-weighted average mW over [a, b], or (None, reason)."""
    inside = sum(1 for x in t if a <= x <= b)
    if inside < MIN_SAMPLES:
        rate = f" at {(len(t) - 1) / (t[-1] - t[0]):.1f} Hz" if len(t) >= 2 and t[-1] > t[0] else ""
        return None, (
            f"only {inside} sample(s) in the {b - a:.3f} s window{rate}; need {MIN_SAMPLES} "
            f"(raise --sample-hz or --max-time)"
        )
    energy, covered = integrate(t, p, a, b)
    if covered < MIN_COVERAGE * (b - a):
        return None, f"the trace covers {100 * covered / (b - a):.0f} % of the window (need {100 * MIN_COVERAGE:.0f} %)"
    return energy / covered, None


def idle_power(trace: Trace) -> tuple[float | None, str | None]:
    """Average total power over a whole idle trace."""
    if not trace.total:
        return None, "the sensor gives no total power"
    t, p = power_series(trace, trace.total)
    if len(t) < MIN_SAMPLES:
        return None, f"only {len(t)} idle sample(s)"
    return average_power(t, p, t[0], t[-1])


def _temperatures(trace: Trace, a: float, b: float) -> dict[str, dict[str, float]]:
    out = {}
    for name, ch in trace.channels.items():
        if ch.kind != TEMPERATURE:
            continue
        pts = [v for x, v in zip(trace.t, trace.series.get(name, []), strict=False) if a <= x <= b and v is not None]
        if pts:
            out[name] = {"start": pts[0], "end": pts[-1], "max": max(pts)}
    return out


def _timeline(trace: Trace, a: float) -> dict[str, Any]:
    step = max(1, -(-len(trace.t) // TIMELINE_POINTS))
    idx = range(0, len(trace.t), step)
    out: dict[str, Any] = {"t_s": [round(trace.t[i] - a, 4) for i in idx]}
    if trace.total and trace.channels[trace.total].kind == POWER:
        out["total_mw"] = [trace.series[trace.total][i] for i in idx]
    elif trace.total:
        t, p = power_series(trace, trace.total)
        out = {"t_s": [round(x - a, 4) for x in t[::step]], "total_mw": p[::step]}
    rails = {
        n: [trace.series[n][i] for i in idx] for n, c in trace.channels.items() if c.kind == POWER and n != trace.total
    }
    if rails and len(out["t_s"]) == len(idx):
        out["rails"] = rails
    return out


def energy_record(
    trace: Trace,
    window: tuple[float, float],
    iterations: int,
    idle_mw: float | None = None,
    idle_seconds: float | None = None,
    idle_reason: str | None = None,
) -> dict[str, Any]:
    """The `power` record of a measurement row (docs/result-schema.md)."""
    a, b = window
    inside = trace.between(a, b)
    rec: dict[str, Any] = {
        "sensor": trace.sensor,
        "total_source": trace.total_source,
        "sample_hz_requested": trace.requested_hz,
        "sample_hz_achieved": round(hz, 2) if (hz := trace.achieved_hz()) else None,
        "samples": inside.samples,
        "samples_total": trace.samples,
        "read_errors": trace.errors,
        "window_s": round(b - a, 6),
        "iterations": iterations,
        "idle_power_mw": round(idle_mw, 3) if idle_mw is not None else None,
        "idle_seconds": idle_seconds,
    }
    if not trace.total:
        rec.update(status="n/a", reason=f"{trace.sensor} gives no total power")
        return rec
    t, p = power_series(trace, trace.total)
    avg, why = average_power(t, p, a, b) if b > a else (None, "empty measurement window")
    if avg is None:
        rec.update(
            status="n/a",
            reason=why,
            energy_per_inference_mj=None,
            energy_per_inference_raw_mj=None,
            energy_note=f"n/a ({why})",
        )
        rec["temperatures_c"] = _temperatures(trace, a, b)
        return rec
    duration = b - a
    rec.update(
        status="ok",
        avg_power_mw=round(avg, 3),
        energy_per_inference_raw_mj=round(avg * duration / iterations, 6) if iterations else None,
    )
    if idle_mw is None:
        rec["energy_per_inference_mj"] = None
        rec["energy_note"] = f"n/a ({idle_reason or 'no idle baseline: use --idle 5s'})"
    else:
        rec["energy_per_inference_mj"] = round((avg - idle_mw) * duration / iterations, 6) if iterations else None
        if avg < idle_mw:
            rec["energy_note"] = "average power below the idle baseline (noise larger than the model's draw)"
    rails = {}
    for name, ch in trace.channels.items():
        if ch.kind not in (POWER, ENERGY) or name == trace.total:
            continue
        rt, rp = power_series(trace, name)
        ravg, _ = average_power(rt, rp, a, b)
        if ravg is not None:
            rails[name] = {"unit": "mW", "avg": round(ravg, 3), "energy_mj": round(ravg * duration, 3)}
    rec["rails"] = rails
    rec["temperatures_c"] = _temperatures(trace, a, b)
    rec["timeline"] = _timeline(trace, a)
    return rec


def not_available(reason: str, **extra: Any) -> dict[str, Any]:
    return {
        "status": "n/a",
        "reason": reason,
        "energy_per_inference_mj": None,
        "energy_per_inference_raw_mj": None,
        "energy_note": f"n/a ({reason})",
        **extra,
    }

"""Parse NVIDIA Jetson `tegrastats` logs (JetPack 4 to 7) and integrate rail power into energy.

Standard library only. Formats handled (see shared/fixtures/jetson/tegrastats_samples.txt):
- JetPack 4: `POM_5V_IN 2746/2911` (cur/avg mW, no unit), no timestamp.
- JetPack 5/6: `MM-DD-YYYY HH:MM:SS` prefix, `VDD_IN 4824mW/4824mW`.
- JetPack 7: `VDD_GPU_SOC 5139mW/5139mW/5139mW` (cur/avg/max), temperatures `cpu@52.9C/52.9C`.
Board total: `POM_5V_IN` (Nano), `VDD_IN` (Xavier NX, Orin NX/Nano); AGX Orin has no total rail,
so the rails are summed and flagged. Unknown tokens are ignored; a non-tegrastats line gives None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from zooprof.sensors.ina3221 import SUMMED, TOTAL_RAILS

OFFLINE_C = -256.0  # tegrastats prints -256C for an offline thermal zone

_TS = re.compile(r"^\s*(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2})\s+")
_RAM = re.compile(r"(?<!\S)RAM (\d+)/(\d+)MB")
_CPU = re.compile(r"(?<!\S)CPU \[([^\]]*)\]")
_GR3D = re.compile(r"(?<!\S)GR3D_FREQ (\d+)%(?:@(\[[\d,\s]*\]|\d+))?")
_TEMP = re.compile(r"(?<!\S)([A-Za-z][\w]*)@(-?\d+(?:\.\d+)?)C(?:/-?\d+(?:\.\d+)?C)?(?=\s|$)")
_RAIL = re.compile(r"(?<!\S)([A-Z][A-Z0-9_]*) (\d+)(?:mW)?/(\d+)(?:mW)?(?:/(\d+)(?:mW)?)?(?=\s|$)")
_NOT_RAILS = {"RAM", "SWAP", "IRAM"}


@dataclass
class Sample:
    """One tegrastats line. Power in mW (current value), temperatures in °C (None: sensor offline)."""

    timestamp: datetime | None = None
    rails: dict[str, float] = field(default_factory=dict)
    total_mw: float | None = None
    total_source: str | None = None
    ram_used_mb: int | None = None
    ram_total_mb: int | None = None
    gpu_load_pct: float | None = None
    gpu_freq_mhz: float | None = None
    temperatures: dict[str, float | None] = field(default_factory=dict)
    cpu_loads: list[float | None] = field(default_factory=list)
    cpu_freqs_mhz: list[float | None] = field(default_factory=list)


def parse_line(line: str) -> Sample | None:
    """One tegrastats line -> Sample; None for anything that is not a tegrastats line."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    s = Sample()
    found = False
    m = _TS.match(text)
    if m:
        try:
            s.timestamp = datetime.strptime(m.group(1), "%m-%d-%Y %H:%M:%S")
        except ValueError:
            s.timestamp = None
        text = text[m.end() :]
    m = _RAM.search(text)
    if m:
        s.ram_used_mb, s.ram_total_mb = int(m.group(1)), int(m.group(2))
        found = True
    m = _CPU.search(text)
    if m:
        found = True
        for core in m.group(1).split(","):
            cm = re.fullmatch(r"\s*(\d+(?:\.\d+)?)%(?:@(\d+(?:\.\d+)?))?\s*", core)
            if cm:
                s.cpu_loads.append(float(cm.group(1)))
                s.cpu_freqs_mhz.append(float(cm.group(2)) if cm.group(2) else None)
            else:  # "off" or anything unknown: core offline
                s.cpu_loads.append(None)
                s.cpu_freqs_mhz.append(None)
    m = _GR3D.search(text)
    if m:
        found = True
        s.gpu_load_pct = float(m.group(1))
        freq = m.group(2)
        if freq:
            values = [float(v) for v in freq.strip("[]").split(",") if v.strip()]
            s.gpu_freq_mhz = max(values) if values else None
    for m in _TEMP.finditer(text):
        value = float(m.group(2))
        s.temperatures[m.group(1)] = None if value <= OFFLINE_C else value
    for m in _RAIL.finditer(text):
        name = m.group(1)
        if name in _NOT_RAILS:
            continue
        s.rails[name] = float(m.group(2))
        found = True
    if not found:
        return None
    for name in TOTAL_RAILS:
        if name in s.rails:
            s.total_mw, s.total_source = s.rails[name], name
            break
    else:
        if s.rails:
            s.total_mw, s.total_source = float(sum(s.rails.values())), SUMMED
    return s


def parse_log(text: str | Iterable[str]) -> list[Sample]:
    """Every tegrastats line of a log (a string or an iterable of lines); other lines are skipped."""
    return read_log(text)[0]


def read_log(text: str | Iterable[str]) -> tuple[list[Sample], list[tuple[int, str]]]:
    """(samples, unreadable lines as (line number, text)). Blank lines and `#` comments are
    neither samples nor unreadable."""
    lines = text.splitlines() if isinstance(text, str) else text
    samples, skipped = [], []
    for number, line in enumerate(lines, 1):
        sample = parse_line(line)
        if sample is not None:
            samples.append(sample)
        elif line.strip() and not line.lstrip().startswith("#"):
            skipped.append((number, line.rstrip("\n")))
    return samples, skipped


def sample_times(samples: Sequence[Sample], interval_s: float | None = None) -> tuple[list[float], str]:
    """Seconds from the first sample, and how they were obtained.

    Timestamps (1 s resolution) are used when every line has one and they strictly increase;
    otherwise samples are spaced by `interval_s` (tegrastats --interval; default 1.0 s).
    """
    stamps = [s.timestamp for s in samples]
    if samples and all(t is not None for t in stamps):
        secs = [(t - stamps[0]).total_seconds() for t in stamps]  # type: ignore[operator]
        if all(b > a for a, b in zip(secs, secs[1:], strict=False)):
            return secs, "timestamps (1 s resolution)"
        why = "timestamps repeat or go backwards"
    else:
        why = "lines carry no timestamp"
    step = 1.0 if interval_s is None else float(interval_s)
    default = " (default)" if interval_s is None else ""
    return [i * step for i in range(len(samples))], f"interval {step:g} s{default} ({why})"


def _stats(times: list[float], values: list[float]) -> dict[str, object]:
    n = len(values)
    out: dict[str, object] = {
        "unit": "mW",
        "samples": n,
        "mean_mw": sum(values) / n if n else None,
        "min_mw": min(values) if n else None,
        "max_mw": max(values) if n else None,
        "duration_s": (times[-1] - times[0]) if n >= 2 else 0.0,
    }
    if n < 2:
        out["energy_j"] = f"n/a ({'no sample' if n == 0 else 'only 1 sample'} in the window; need 2 to integrate)"
    else:
        mj = sum((values[i] + values[i + 1]) / 2 * (times[i + 1] - times[i]) for i in range(n - 1))
        out["energy_j"] = mj / 1000.0
    return out


def summarize(
    samples: Sequence[Sample], interval_s: float | None = None, t_from: float | None = None, t_to: float | None = None
) -> dict[str, object]:
    """Per-rail samples, mean/min/max mW and trapezoidal energy (J) over [t_from, t_to] (s from start)."""
    times, source = sample_times(samples, interval_s)
    window = [
        (t, s)
        for t, s in zip(times, samples, strict=True)
        if (t_from is None or t >= t_from) and (t_to is None or t <= t_to)
    ]
    names: list[str] = []
    for _, s in window:
        names.extend(n for n in s.rails if n not in names)
    rails = {}
    for name in names:
        pts = [(t, s.rails[name]) for t, s in window if name in s.rails]
        rails[name] = _stats([p[0] for p in pts], [p[1] for p in pts])
    tot = [(t, s) for t, s in window if s.total_mw is not None]
    total = _stats([p[0] for p in tot], [float(p[1].total_mw) for p in tot])  # type: ignore[arg-type]
    sources = sorted({s.total_source for _, s in tot if s.total_source})
    total["source"] = " + ".join(sources) if sources else "n/a (no power rail in the log)"
    return {
        "time_source": source,
        "window": {"from_s": t_from, "to_s": t_to},
        "samples": len(window),
        "start_s": window[0][0] if window else None,
        "end_s": window[-1][0] if window else None,
        "rails": rails,
        "total": total,
        "board": board_state([s for _, s in window]),
    }


def _spread(values: list[float], unit: str) -> dict[str, object]:
    if not values:
        return {"unit": unit, "samples": 0, "mean": None, "min": None, "max": None}
    return {
        "unit": unit,
        "samples": len(values),
        "mean": round(sum(values) / len(values), 3),
        "min": min(values),
        "max": max(values),
    }


def cpu_load(s: Sample) -> float | None:
    """Mean load of the online cores, %."""
    loads = [x for x in s.cpu_loads if x is not None]
    return sum(loads) / len(loads) if loads else None


def board_state(samples: Sequence[Sample]) -> dict[str, object]:
    """RAM, CPU and GPU load, GPU clock and each temperature over the samples: mean/min/max."""
    temps: list[str] = []
    for s in samples:
        temps.extend(n for n in s.temperatures if n not in temps)

    def col(get: object) -> list[float]:
        return [v for v in (get(s) for s in samples) if v is not None]  # type: ignore[operator]

    return {
        "ram_used_mb": _spread(col(lambda s: s.ram_used_mb), "MB"),
        "ram_total_mb": samples[0].ram_total_mb if samples else None,
        "cpu_load_pct": _spread(col(cpu_load), "%"),
        "gpu_load_pct": _spread(col(lambda s: s.gpu_load_pct), "%"),
        "gpu_freq_mhz": _spread(col(lambda s: s.gpu_freq_mhz), "MHz"),
        "temperatures_c": {n: _spread(col(lambda s, n=n: s.temperatures.get(n)), "C") for n in temps},
    }


def timeline(
    samples: Sequence[Sample], interval_s: float | None = None, t_from: float | None = None, t_to: float | None = None
) -> tuple[list[str], list[dict[str, object]]]:
    """Per-sample rows: seconds, timestamp, one column per rail (mW), total_mw. Returns (columns, rows)."""
    times, _ = sample_times(samples, interval_s)
    names: list[str] = []
    for s in samples:
        names.extend(n for n in s.rails if n not in names)
    temps: list[str] = []
    for s in samples:
        temps.extend(n for n in s.temperatures if n not in temps)
    columns = [
        "seconds",
        "timestamp",
        *names,
        "total_mw",
        "ram_used_mb",
        "cpu_load_pct",
        "gpu_load_pct",
        *(f"temp_{n}_c" for n in temps),
    ]
    rows = []
    for t, s in zip(times, samples, strict=True):
        if (t_from is not None and t < t_from) or (t_to is not None and t > t_to):
            continue
        row: dict[str, object] = {"seconds": t, "timestamp": s.timestamp.isoformat() if s.timestamp else ""}
        row.update({n: s.rails.get(n, "") for n in names})
        row["total_mw"] = s.total_mw if s.total_mw is not None else ""
        load = cpu_load(s)
        row.update(
            ram_used_mb=_blank(s.ram_used_mb),
            cpu_load_pct=_blank(round(load, 2) if load is not None else None),
            gpu_load_pct=_blank(s.gpu_load_pct),
        )
        row.update({f"temp_{n}_c": _blank(s.temperatures.get(n)) for n in temps})
        rows.append(row)
    return columns, rows


def _blank(v: object) -> object:
    return "" if v is None else v

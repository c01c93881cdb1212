"""Power sampling around a measurement: choose the sensor, idle baseline, sample while the worker
runs, and turn the trace into the measurement row's `power` record.

The sensors sample in threads of the parent process while the worker process measures; both
use `time.perf_counter` (CLOCK_MONOTONIC), so the worker's timed window can be cut out of the
trace exactly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from zooprof.errors import UsageError
from zooprof.sensors.base import Probe, Sensor, Trace
from zooprof.sensors.coverage import attribute
from zooprof.sensors.energy import energy_record, idle_power, not_available

HOST_MAX_HZ = 10.0  # psutil and thermal reads: no need to go faster
MIN_WINDOW_S = 2.0
MIN_WINDOW_SAMPLES = 20


@dataclass(frozen=True)
class PowerOptions:
    sensor: str = "auto"
    sample_hz: float = 50.0
    idle_s: float = 3.0

    def to_dict(self) -> dict[str, Any]:
        return {"sensor": self.sensor, "sample_hz": self.sample_hz, "idle_s": self.idle_s}


def parse_duration(text: str | float) -> float:
    """'5s', '500ms', '1m', '3' -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|min)?\s*", str(text))
    if not m:
        raise UsageError(f"malformed duration '{text}'", "e.g. --idle 5s, --idle 500ms, --idle 0 for none")
    value = float(m.group(1))
    return value * {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0}[m.group(2)]


def window_of(timing: dict[str, Any]) -> tuple[tuple[float, float], int] | None:
    """(first timed sample's start, last one's end) and the calls made in between."""
    stamps = timing.get("timestamps_s") or []
    if not stamps:
        return None
    return (stamps[0][0], stamps[-1][1]), len(stamps) * int(timing.get("calls_per_sample", 1))


def _host_summary(trace: Trace, a: float, b: float) -> dict[str, Any]:
    out = {}
    for name, ch in trace.channels.items():
        vals = [v for t, v in zip(trace.t, trace.series.get(name, []), strict=False) if a <= t <= b and v is not None]
        if vals:
            out[name] = {
                "unit": ch.unit,
                "kind": ch.kind,
                "mean": round(sum(vals) / len(vals), 3),
                "max": max(vals),
                "start": vals[0],
                "end": vals[-1],
            }
    return out


class PowerSession:
    """One profile run's power measuring: created once, then `sampling()` around each worker."""

    def __init__(
        self,
        options: PowerOptions,
        sensor: Sensor | None = None,
        host: Sensor | None = None,
        probes: list[Probe] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from zooprof import sensors

        if options.sample_hz <= 0:
            raise UsageError(f"--sample-hz {options.sample_hz} must be positive", "e.g. --sample-hz 50")
        self.options = options
        self.sleep = sleep
        if sensor is None and probes is None:
            sensor, probes = sensors.choose_power(options.sensor)
        self.sensor = sensor
        self.probes = probes or []
        if host is None:
            try:
                host = sensors.create("host")
                host = host if host.probe().available else None
            except Exception:  # host sensors are extras: never fail the run for them
                host = None
        self.host = host
        self.idle_mw: float | None = None
        self.idle_reason: str | None = None
        self._traces: tuple[Trace | None, Trace | None] = (None, None)
        self._failure: str | None = None

    @property
    def unavailable_reason(self) -> str | None:
        if self.sensor is not None:
            return None
        if self.options.sensor != "auto":
            why = self.probes[0].reason if self.probes else "not found"
            return f"sensor {self.options.sensor} not available: {why}"
        return "no power sensor on this machine (" + "; ".join(f"{p.name}: {p.reason}" for p in self.probes) + ")"

    def rate(self) -> float:
        hz = self.options.sample_hz
        if self.sensor is not None and self.sensor.max_hz:
            hz = min(hz, self.sensor.max_hz)
        return hz

    def min_window(self) -> float:
        """Seconds the timed window must last to hold enough samples: 20 sample periods, at least 2 s."""
        if self.sensor is None:
            return 0.0
        return max(MIN_WINDOW_S, MIN_WINDOW_SAMPLES / self.rate())

    def environment(self) -> dict[str, Any]:
        return {
            "options": self.options.to_dict(),
            "power_sensor": self.sensor.name if self.sensor else None,
            "sample_hz_used": self.rate() if self.sensor else None,
            "host_sensor": self.host.name if self.host else None,
            "probes": [p.to_dict() for p in self.probes],
        }

    def measure_idle(self) -> None:
        """Average power while nothing runs, for `idle_s` seconds (0: no baseline)."""
        if self.sensor is None:
            return
        if self.options.idle_s <= 0:
            self.idle_reason = "no idle baseline (--idle 0)"
            return
        self.sensor.start(self.rate())
        self.sleep(self.options.idle_s)
        trace = self.sensor.stop()
        self.idle_mw, why = idle_power(trace)
        if self.idle_mw is None:
            self.idle_reason = f"idle baseline failed: {why}"

    @contextmanager
    def sampling(self) -> Iterator[None]:
        """Sample while the body runs. A sensor that fails to start or stop costs its figures
        (recorded as n/a with the reason), never the measurement."""
        self._failure = None
        traces: list[Trace | None] = [None, None]
        started: list[tuple[int, Sensor]] = []
        for i, (s, hz) in enumerate(
            ((self.sensor, self.rate()), (self.host, min(self.options.sample_hz, HOST_MAX_HZ)))
        ):
            if s is None:
                continue
            try:
                s.start(hz)
                started.append((i, s))
            except Exception as exc:
                if i == 0:
                    self._failure = f"sensor {s.name} failed to start: {type(exc).__name__}: {exc}"
        try:
            yield
        finally:
            for i, s in started:
                try:
                    traces[i] = s.stop()
                except Exception as exc:
                    if i == 0:
                        self._failure = f"sensor {s.name} failed to stop: {type(exc).__name__}: {exc}"
            self._traces = (traces[0], traces[1])

    def record(self, timing: dict[str, Any] | None, device: str | None = None) -> dict[str, Any]:
        """The `power` record for the measurement just sampled on `device` (cpu, cuda:N): energy
        per inference only where the sensor covers that device (zooprof.sensors.coverage)."""
        power_trace, host_trace = self._traces
        window = window_of(timing) if timing else None
        if self._failure:
            rec = not_available(self._failure)
        elif self.sensor is None or power_trace is None:
            rec = not_available(self.unavailable_reason or "no power sensor")
        elif window is None:
            rec = not_available("the measurement has no timed window")
        else:
            (a, b), iterations = window
            rec = energy_record(
                power_trace,
                (a, b),
                iterations,
                self.idle_mw,
                self.options.idle_s if self.idle_mw is not None else None,
                self.idle_reason,
            )
            attribute(rec, self.sensor.name, device, self.sensor.kind)
        if host_trace is not None and window is not None:
            (a, b), _ = window
            rec["host"] = _host_summary(host_trace, a, b)
        return rec

    def close(self) -> None:
        for s in (self.sensor, self.host):
            if s is not None:
                s.close()

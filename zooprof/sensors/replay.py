"""A sensor that feeds a recorded trace: tests, demos, and re-running the energy maths on a
board's log without the board.

The recorded times are relative (the first sample at its own offset from 0); `start()` pins
time 0 to the clock reading at start, and `stop()` returns the samples up to the stop time.
Files: a Trace JSON (`Trace.to_dict`) or a tegrastats log (its lines' timestamps, or 1 s apart).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from zooprof.errors import UsageError
from zooprof.sensors.base import POWER, TEMPERATURE, Channel, Clock, Probe, Sensor, Trace


class ReplaySensor(Sensor):
    def __init__(self, trace: Trace, label: str | None = None, kind: str | None = None) -> None:
        self.trace = trace
        self.name = label or f"replay:{trace.sensor}"
        self._kind = kind or trace.sensor
        self._t0: float | None = None
        self._clock: Clock = time.perf_counter
        self._hz: float | None = None

    @property
    def kind(self) -> str:
        """The sensor that recorded the trace: what its total covers."""
        return self._kind

    @classmethod
    def from_file(cls, path: str) -> ReplaySensor:
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise UsageError(
                f"cannot read the replay trace '{path}': {exc.strerror}", "give a Trace JSON or a tegrastats log"
            ) from None
        if p.suffix.lower() == ".json":
            try:
                trace = Trace.from_dict(json.loads(text))
            except (ValueError, KeyError, TypeError) as exc:
                raise UsageError(
                    f"'{path}' is not a zooprof sensor trace ({exc})",
                    "give a Trace JSON (sensor, channels, t, series) or a tegrastats log",
                ) from None
        else:
            trace = trace_from_tegrastats(text, source=p.name)
            return cls(trace, f"replay:{p.name}", "tegrastats")
        return cls(trace, f"replay:{p.name}")

    def probe(self) -> Probe:
        ok = self.trace.samples > 0
        return Probe(
            self.name,
            ok,
            f"{self.trace.samples} recorded samples" if ok else "the trace is empty",
            tuple(self.trace.channels),
        )

    def channels(self) -> dict[str, Channel]:
        return dict(self.trace.channels)

    def total(self) -> tuple[str | None, str | None]:
        return self.trace.total, self.trace.total_source

    def start(self, hz: float, clock: Clock = time.perf_counter) -> None:
        self._clock, self._hz = clock, hz
        self._t0 = clock()

    def stop(self) -> Trace:
        if self._t0 is None:
            raise RuntimeError("stop() before start()")
        end = self._clock()
        out = self.trace.shifted(self._t0).between(self._t0, end)
        out.sensor, out.requested_hz = self.name, self._hz
        return out


def trace_from_tegrastats(text: str, interval_s: float | None = None, source: str = "tegrastats") -> Trace:
    """A Trace from tegrastats lines: every rail, the board total and the temperatures."""
    from zooprof.sensors.tegrastats import parse_log, sample_times

    samples = parse_log(text)
    if not samples:
        raise UsageError(f"no tegrastats line in '{source}'", "give a log written by tegrastats")
    times, _ = sample_times(samples, interval_s)
    channels: dict[str, Channel] = {}
    for s in samples:
        for rail in s.rails:
            channels.setdefault(rail, Channel(rail, "mW", POWER))
        for temp in s.temperatures:
            channels.setdefault(f"temp_{temp}", Channel(f"temp_{temp}", "C", TEMPERATURE))
    total_names = {s.total_source for s in samples if s.total_source}
    summed = any(s.total_source and s.total_source not in s.rails for s in samples)
    total = "total" if summed else (sorted(total_names)[0] if total_names else None)
    if summed:
        channels["total"] = Channel("total", "mW", POWER)
    trace = Trace(source, channels, total=total, total_source=" + ".join(sorted(total_names)) or None)
    for t, s in zip(times, samples, strict=True):
        values: dict[str, float | None] = dict(s.rails)
        values.update({f"temp_{k}": v for k, v in s.temperatures.items()})
        if summed:
            values["total"] = s.total_mw
        trace.append(t, values)
    return trace

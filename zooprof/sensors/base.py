"""The sensor interface: probe (is it here, and if not why), start, stop -> a timestamped Trace.

Every sensor samples on the clock of the timing harness (`time.perf_counter`, CLOCK_MONOTONIC
on Linux, shared by all processes), so the samples of a sensor running in the parent line up
with the iteration timestamps a worker process records.

Two kinds of source:
- `PollingSensor`: `read()` returns one sample of every channel; a background thread calls it
  at the requested rate (sysfs rails, RAPL, NVML, thermal zones, psutil).
- streaming sources (tegrastats, jtop) override `start`/`stop` and stamp each sample when it
  arrives.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Clock = Callable[[], float]

POWER, ENERGY, TEMPERATURE, CLOCK, LOAD, MEMORY = "power", "energy", "temperature", "clock", "load", "memory"


@dataclass(frozen=True)
class Channel:
    """One quantity a sensor reports. `kind` energy = a cumulative counter (mJ) that wraps at `wrap`."""

    name: str
    unit: str
    kind: str
    wrap: float | None = None


@dataclass(frozen=True)
class Probe:
    """Whether a sensor can be used here; `reason` says what was found, or why it cannot."""

    name: str
    available: bool
    reason: str
    provides: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"sensor": self.name, "found": self.available, "reason": self.reason, "provides": list(self.provides)}


@dataclass
class Trace:
    """Samples of a sensor: times (clock seconds) and one column per channel (None: not read)."""

    sensor: str
    channels: dict[str, Channel]
    t: list[float] = field(default_factory=list)
    series: dict[str, list[float | None]] = field(default_factory=dict)
    total: str | None = None
    """The channel that is the board/device total power (or energy counter), if any."""
    total_source: str | None = None
    """How the total was obtained, e.g. 'VDD_IN' or 'sum of rails (no total rail; AGX Orin)'."""
    requested_hz: float | None = None
    errors: int = 0
    """Reads that failed during sampling (counted, not dropped silently)."""

    def append(self, t: float, values: dict[str, float | None]) -> None:
        n = len(self.t)
        self.t.append(t)
        for name in self.channels:
            self.series.setdefault(name, [None] * n).append(values.get(name))

    @property
    def samples(self) -> int:
        return len(self.t)

    def achieved_hz(self) -> float | None:
        if len(self.t) < 2 or self.t[-1] <= self.t[0]:
            return None
        return (len(self.t) - 1) / (self.t[-1] - self.t[0])

    def shifted(self, offset: float) -> Trace:
        out = Trace(
            self.sensor,
            dict(self.channels),
            [t + offset for t in self.t],
            {k: list(v) for k, v in self.series.items()},
            self.total,
            self.total_source,
            self.requested_hz,
            self.errors,
        )
        return out

    def between(self, t0: float, t1: float) -> Trace:
        keep = [i for i, t in enumerate(self.t) if t0 <= t <= t1]
        return Trace(
            self.sensor,
            dict(self.channels),
            [self.t[i] for i in keep],
            {k: [v[i] for i in keep] for k, v in self.series.items()},
            self.total,
            self.total_source,
            self.requested_hz,
            self.errors,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "sensor": self.sensor,
            "total": self.total,
            "total_source": self.total_source,
            "channels": {k: {"unit": c.unit, "kind": c.kind, "wrap": c.wrap} for k, c in self.channels.items()},
            "t": self.t,
            "series": self.series,
            "requested_hz": self.requested_hz,
            "errors": self.errors,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trace:
        channels = {k: Channel(k, c["unit"], c["kind"], c.get("wrap")) for k, c in d["channels"].items()}
        return cls(
            d["sensor"],
            channels,
            list(d["t"]),
            {k: list(v) for k, v in d["series"].items()},
            d.get("total"),
            d.get("total_source"),
            d.get("requested_hz"),
            d.get("errors", 0),
        )


class Sensor:
    """Base class. Subclasses set `name`, implement `probe()`, and either `read()` (polling) or
    `start()`/`stop()` (streaming)."""

    name = "sensor"
    max_hz: float | None = None

    @property
    def kind(self) -> str:
        """Which source this is, for what its total covers (zooprof.sensors.coverage): its name;
        a replayed trace says the sensor that recorded it."""
        return self.name

    """The fastest rate the source itself updates at (jtop: about 1 Hz), if limited."""

    def probe(self) -> Probe:
        raise NotImplementedError

    def channels(self) -> dict[str, Channel]:
        raise NotImplementedError

    def total(self) -> tuple[str | None, str | None]:
        """(total power channel, how it was obtained); (None, None) when the sensor gives no total."""
        return None, None

    def start(self, hz: float, clock: Clock = time.perf_counter) -> None:
        raise NotImplementedError

    def stop(self) -> Trace:
        raise NotImplementedError

    def close(self) -> None:
        """Release what `probe`/`start` opened (NVML handles, jtop connections)."""


class PollingSensor(Sensor):
    """A sensor read by a background thread at a fixed rate (a read takes the time between two
    clock readings; the sample is stamped with their midpoint)."""

    def read(self) -> dict[str, float | None]:
        raise NotImplementedError

    def open_files(self) -> None:
        """Called by `start()` before sampling: open what `read()` re-reads (sysfs files)."""

    def close_files(self) -> None:
        """Called by `stop()` and `close()`: release what `open_files()` opened."""

    def close(self) -> None:
        self.close_files()

    def start(self, hz: float, clock: Clock = time.perf_counter) -> None:
        if hz <= 0:
            raise ValueError("sampling rate must be positive")
        self.open_files()
        total, source = self.total()
        self._trace = Trace(self.name, self.channels(), total=total, total_source=source, requested_hz=hz)
        self._stop = threading.Event()
        self._clock = clock
        self._period = 1.0 / hz
        self._thread = threading.Thread(target=self._loop, name=f"zooprof-sensor-{self.name}", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        a = self._clock()
        try:
            values = self.read()
        except (OSError, ValueError):
            self._trace.errors += 1
            return
        b = self._clock()
        self._trace.append((a + b) / 2, values)

    def _loop(self) -> None:
        next_t = self._clock()
        while not self._stop.is_set():
            self._sample()
            next_t += self._period
            delay = next_t - self._clock()
            if delay < 0:  # fell behind (slow read): do not burst to catch up
                next_t = self._clock()
                delay = 0.0
            if self._stop.wait(delay):
                break

    def stop(self) -> Trace:
        self._stop.set()
        self._thread.join()
        try:
            self._sample()  # one last sample, so the trace covers the moment of stopping
        finally:
            self.close_files()
        return self._trace


def close_fds(fds: Iterable[int]) -> None:
    """Close file descriptors opened by `open_files`, ignoring ones already gone."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def read_number(path: Path) -> float | None:
    """A sysfs file holding one number; None when absent or unreadable."""
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        return None


def read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None

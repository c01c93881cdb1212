"""`tegrastats` run live: a subprocess prints one line per interval; each line is parsed with
`zooprof.sensors.tegrastats.parse_line` and stamped with the clock when it arrives.

Channels follow `replay.trace_from_tegrastats`: one per rail (mW), `total` when the rails are
summed (AGX Orin), `temp_<zone>` (°C), plus `gpu_load` (%) and `ram_used` (MB).
"""

from __future__ import annotations

import selectors
import subprocess
import threading
import time
from pathlib import Path

from zooprof.sensors.base import LOAD, MEMORY, POWER, TEMPERATURE, Channel, Clock, Probe, Sensor, Trace
from zooprof.sensors.board_power import find_tegrastats
from zooprof.sensors.tegrastats import SUMMED, Sample, parse_line

PROBE_TIMEOUT_S = 3.0
STOP_TIMEOUT_S = 2.0


def sample_values(s: Sample) -> dict[str, float | None]:
    """One parsed line as channel values."""
    out: dict[str, float | None] = dict(s.rails)
    if s.total_source == SUMMED:
        out["total"] = s.total_mw
    out.update({f"temp_{k}": v for k, v in s.temperatures.items()})
    if s.gpu_load_pct is not None:
        out["gpu_load"] = s.gpu_load_pct
    if s.ram_used_mb is not None:
        out["ram_used"] = float(s.ram_used_mb)
    return out


def channel_for(name: str) -> Channel:
    if name.startswith("temp_"):
        return Channel(name, "C", TEMPERATURE)
    if name == "gpu_load":
        return Channel(name, "%", LOAD)
    if name == "ram_used":
        return Channel(name, "MB", MEMORY)
    return Channel(name, "mW", POWER)


class TegrastatsSensor(Sensor):
    name = "tegrastats"
    max_hz = 10.0
    """zooprof's cap: each line costs tegrastats dozens of file reads and us a parse; the
    jetson-sysfs source reads the same rails faster and lighter."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = Path(root)
        self._exe: str | None = None
        self._first: Sample | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._rows: list[tuple[float, str]] = []  # (read time, the raw line)
        self._hz: float | None = None
        self._lock = threading.Lock()

    def probe(self) -> Probe:
        self._exe = find_tegrastats(self.root)
        if self._exe is None:
            return Probe(self.name, False, "tegrastats not found (not a Jetson, or not on PATH)")
        try:
            sample, line = self._first_sample()
        except OSError as exc:
            return Probe(self.name, False, f"tegrastats ({self._exe}) cannot run: {exc.strerror or exc}")
        if sample is None:
            if line is not None:
                return Probe(self.name, False, f"tegrastats output not understood: {line.strip()[:60]!r}")
            return Probe(self.name, False, f"tegrastats ({self._exe}) printed no line within {PROBE_TIMEOUT_S:g} s")
        if not sample.rails:
            return Probe(self.name, False, "tegrastats shows no power rail on this board")
        self._first = sample
        return Probe(
            self.name,
            True,
            f"{self._exe}: rails {', '.join(sample.rails)}; total {sample.total_source}",
            tuple(self.channels()),
        )

    def _first_sample(self) -> tuple[Sample | None, str | None]:
        """The first tegrastats line that parses, at a 100 ms interval, and the last line that did
        not (a warning printed first is skipped). (None, ...) on a timeout or an early exit."""
        assert self._exe is not None
        proc = subprocess.Popen(
            [self._exe, "--interval", "100"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        other: str | None = None
        try:
            assert proc.stdout is not None
            with selectors.DefaultSelector() as sel:
                sel.register(proc.stdout, selectors.EVENT_READ)
                deadline = time.monotonic() + PROBE_TIMEOUT_S
                while (left := deadline - time.monotonic()) > 0 and sel.select(left):
                    line = proc.stdout.readline()
                    if not line:
                        break
                    sample = parse_line(line)
                    if sample is not None:
                        return sample, line
                    other = line if line.strip() else other
                return None, other
        finally:
            _end(proc)

    def _ready(self) -> Sample:
        if self._first is None:
            probe = self.probe()
            if not probe.available or self._first is None:
                raise RuntimeError(f"tegrastats not available: {probe.reason}")
        return self._first

    def channels(self) -> dict[str, Channel]:
        if self._first is None:
            return {}
        return {name: channel_for(name) for name in sample_values(self._first)}

    def total(self) -> tuple[str | None, str | None]:
        if self._first is None or self._first.total_source is None:
            return None, None
        if self._first.total_source == SUMMED:
            return "total", SUMMED
        return self._first.total_source, self._first.total_source

    def start(self, hz: float, clock: Clock = time.perf_counter) -> None:
        if hz <= 0:
            raise ValueError("sampling rate must be positive")
        self._ready()
        self._hz = min(hz, self.max_hz or hz)
        interval_ms = max(1, round(1000.0 / self._hz))
        self._rows = []
        self._proc = subprocess.Popen(
            [self._exe or "tegrastats", "--interval", str(interval_ms)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(
            target=self._read_lines, args=(self._proc, clock), name="zooprof-sensor-tegrastats", daemon=True
        )
        self._reader.start()

    def _read_lines(self, proc: subprocess.Popen[str], clock: Clock) -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                t = clock()
                if parse_line(line) is not None:
                    with self._lock:
                        self._rows.append((t, line))
        except (OSError, ValueError):  # the pipe closed under us (close() while sampling)
            return

    def stop(self) -> Trace:
        if self._proc is None:
            raise RuntimeError("stop() before start()")
        _end(self._proc, close=False)
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT_S)  # the pipe reaches its end once tegrastats has exited
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc, self._reader = None, None
        with self._lock:
            rows, self._rows = self._rows, []
        return trace_from_lines(self.name, rows, self._hz)

    def close(self) -> None:
        if self._proc is not None:
            _end(self._proc)
            self._proc = None


def trace_from_lines(name: str, rows: list[tuple[float, str]], hz: float | None) -> Trace:
    """A Trace from tegrastats lines stamped with the clock they were read at (here, or by the
    board agent), channels and total from the lines themselves."""
    parsed = [(t, s) for t, line in rows if (s := parse_line(line)) is not None]
    channels: dict[str, Channel] = {}
    for _, sample in parsed:
        for key in sample_values(sample):
            channels.setdefault(key, channel_for(key))
    first = parsed[0][1] if parsed else None
    total, how = None, None
    if first is not None and first.total_source is not None:
        total, how = ("total", SUMMED) if first.total_source == SUMMED else (first.total_source, first.total_source)
    trace = Trace(name, channels, total=total, total_source=how, requested_hz=hz)
    for t, sample in parsed:
        trace.append(t, sample_values(sample))
    return trace


def _end(proc: subprocess.Popen[str], close: bool = True) -> None:
    """Terminate a tegrastats process (kill it if it does not go)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if close and proc.stdout is not None:
        proc.stdout.close()

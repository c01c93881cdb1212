"""Jetson power rails: the INA3221 monitors read directly from sysfs, or through jetson-stats (`jtop`).

Where the rails are in sysfs (the JetPack 4 iio and JetPack 5/6 hwmon layouts), which rail is the
board total, and `Rail` live in `ina3221` (Python 3.6, shared with the board agent); this module
adds the sensors: `JetsonSysfsSensor` (open files, pread) and `JtopSensor`.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from zooprof.sensors.base import (
    LOAD,
    MEMORY,
    POWER,
    TEMPERATURE,
    Channel,
    Clock,
    PollingSensor,
    Probe,
    Sensor,
    Trace,
    close_fds,
    read_text,
)
from zooprof.sensors.ina3221 import DRIVERS, SUMMED, Rail, find_rails, total_rule

JTOP_SOCKET = "run/jtop.sock"
NOT_ACTIVE = "jtop.service is not active (sudo systemctl restart jtop.service)"


class JetsonSysfsSensor(PollingSensor):
    """INA3221 rails read straight from sysfs: the fastest and lightest Jetson source (any rate)."""

    name = "jetson-sysfs"

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = Path(root)
        self._rails: list[Rail] | None = None
        self._seen: list[str] = []
        self._fds: list[tuple[str, tuple[int, ...]]] = []
        self._summed = False

    def rails(self) -> list[Rail]:
        if self._rails is None:
            self._rails, self._seen = find_rails(self.root)
        return self._rails

    def probe(self) -> Probe:
        rails = self.rails()
        if not rails:
            if not self._seen:
                return Probe(self.name, False, f"no INA3221 under /{DRIVERS} (not a Jetson)")
            return Probe(self.name, False, f"INA3221 found ({', '.join(self._seen)}) but no readable rail label")
        for rail in rails:
            for f in rail.files:
                try:
                    float(f.read_text().strip())
                except OSError as exc:
                    return Probe(
                        self.name,
                        False,
                        f"INA3221 rail {rail.name} not readable: {exc.strerror} (/{f.relative_to(self.root)})",
                    )
                except ValueError:
                    return Probe(
                        self.name, False, f"INA3221 rail {rail.name}: not a number in /{f.relative_to(self.root)}"
                    )
        total, how = self.total()
        layout = "iio (JetPack 4)" if rails[0].power is not None else "hwmon (JetPack 5+)"
        why = f"INA3221 {layout} at {', '.join(self._seen)}: {', '.join(r.name for r in rails)}; total {how}"
        intervals = sorted({v for f in self._seen if (v := read_text(self.root / f.lstrip("/") / "update_interval"))})
        if intervals:
            why += f"; chip updates every {'/'.join(intervals)} ms"
        return Probe(self.name, True, why, tuple(self.channels()))

    def channels(self) -> dict[str, Channel]:
        out = {r.name: Channel(r.name, "mW", POWER) for r in self.rails()}
        total, _ = self.total()
        if total == "total":
            out["total"] = Channel("total", "mW", POWER)
        return out

    def total(self) -> tuple[str | None, str | None]:
        return total_rule([r.name for r in self.rails()])

    def open_files(self) -> None:
        """Open every rail file once; `read()` then re-reads them with pread at offset 0 (sysfs
        regenerates an attribute on a read from offset 0)."""
        self.close_files()
        self._summed = self.total()[0] == "total"
        for r in self.rails():
            fds: list[int] = []
            try:
                for f in r.files:
                    fds.append(os.open(f, os.O_RDONLY))
            except OSError:
                for fd in fds:
                    os.close(fd)
                self.close_files()
                raise
            self._fds.append((r.name, tuple(fds)))

    def close_files(self) -> None:
        close_fds(fd for _, fds in self._fds for fd in fds)
        self._fds = []

    def read(self) -> dict[str, float | None]:
        if not self._fds:
            self.open_files()
        out: dict[str, float | None] = {}
        for name, fds in self._fds:
            if len(fds) == 1:  # iio power file, mW
                out[name] = float(os.pread(fds[0], 32, 0))
            else:  # hwmon: mV x mA / 1000 = mW
                out[name] = float(os.pread(fds[0], 32, 0)) * float(os.pread(fds[1], 32, 0)) / 1000.0
        if self._summed:
            out["total"] = sum(v for v in out.values() if v is not None)
        return out


class JtopSensor(Sensor):
    """jetson-stats: the `jtop.service` daemon reads the rails, about once a second; samples are
    stamped when the client receives them. Too coarse for single inferences (docs/jetson.md)."""

    name = "jtop"
    max_hz = 1.0

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = Path(root)
        self._jetson: Any = None
        self._channels: dict[str, Channel] | None = None
        self._total: tuple[str | None, str | None] = (None, None)
        self._lock = threading.Lock()
        self._trace: Trace | None = None
        self._clock: Clock = time.perf_counter

    def _connect(self) -> Any:
        """The connected jtop client; raises ImportError or the service's exception."""
        if self._jetson is None:
            from jtop import jtop  # type: ignore[import-not-found]

            client = jtop()
            client.start()  # connects, waits for the first status, starts jtop's (daemon) reader thread
            # attached once: jtop iterates its observer set in its own thread, so attaching and
            # detaching around every measurement could change the set while it is iterated
            client.attach(self._observe)
            self._jetson = client
        return self._jetson

    def probe(self) -> Probe:
        try:
            import jtop  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            return Probe(self.name, False, "jetson-stats not installed (pip install zooprof[jetson])")
        if not (self.root / JTOP_SOCKET).exists():
            return Probe(self.name, False, f"{NOT_ACTIVE}: no /{JTOP_SOCKET}")
        try:
            client = self._connect()
            self._learn(client)
        except Exception as exc:  # jtop raises JtopException for a stopped service or a version mismatch
            text = " ".join(str(exc).split())
            if "not active" in text:
                return Probe(self.name, False, NOT_ACTIVE)
            return Probe(self.name, False, f"jtop: {type(exc).__name__}: {text}")
        if self._channels is None or self._total[0] is None:
            return Probe(self.name, False, "jtop is running but reports no power rail")
        return Probe(
            self.name,
            True,
            f"jtop.service: rails {', '.join(self._rail_names())}; total {self._total[1]}",
            tuple(self._channels),
        )

    def _rail_names(self) -> list[str]:
        return [n for n, c in (self._channels or {}).items() if c.kind == POWER and n != "total"]

    def _learn(self, client: Any) -> None:
        """Channels from the first status jtop sends."""
        power = client.power or {}
        rails = dict(power.get("rail") or {})
        tot = power.get("tot") or {}
        channels: dict[str, Channel] = {name: Channel(name, "mW", POWER) for name in rails}
        if tot.get("name"):  # jtop moves the input rail (POM_5V_IN / VDD_IN) out of 'rail' into 'tot'
            channels[tot["name"]] = Channel(tot["name"], "mW", POWER)
            self._total = (tot["name"], tot["name"])
        elif rails:
            channels["total"] = Channel("total", "mW", POWER)
            self._total = ("total", SUMMED)
        for name in client.temperature or {}:
            channels[f"temp_{name}"] = Channel(f"temp_{name}", "C", TEMPERATURE)
        if "RAM" in (client.memory or {}):
            channels["ram_used"] = Channel("ram_used", "MB", MEMORY)
        if _gpu_load(client) is not None:
            channels["gpu_load"] = Channel("gpu_load", "%", LOAD)
        self._channels = channels

    def channels(self) -> dict[str, Channel]:
        if self._channels is None:
            self.probe()
        return dict(self._channels or {})

    def total(self) -> tuple[str | None, str | None]:
        if self._channels is None:
            self.probe()
        return self._total

    def values(self, client: Any) -> dict[str, float | None]:
        """One jtop status as channel values."""
        power = client.power or {}
        out: dict[str, float | None] = {n: _num(v.get("power")) for n, v in (power.get("rail") or {}).items()}
        tot = power.get("tot") or {}
        if tot.get("name"):
            out[tot["name"]] = _num(tot.get("power"))
        elif out:
            out["total"] = _num(tot.get("power"))
        for name, t in (client.temperature or {}).items():
            online = t.get("online", True) if isinstance(t, dict) else True
            out[f"temp_{name}"] = _num(t.get("temp")) if isinstance(t, dict) and online else None
        ram = (client.memory or {}).get("RAM")
        if isinstance(ram, dict) and ram.get("used") is not None:
            out["ram_used"] = float(ram["used"]) / 1024.0  # jtop gives kB
        out["gpu_load"] = _gpu_load(client)
        return out

    def _observe(self, client: Any) -> None:
        if self._trace is None:  # not sampling: jtop keeps calling between measurements
            return
        t = self._clock()
        with self._lock:
            if self._trace is not None:
                self._trace.append(t, self.values(client))

    def start(self, hz: float, clock: Clock = time.perf_counter) -> None:
        client = self._connect()
        if self._channels is None:
            self._learn(client)
        self._clock = clock
        total, how = self._total
        with self._lock:
            self._trace = Trace(
                self.name, self.channels(), total=total, total_source=how, requested_hz=min(hz, self.max_hz or hz)
            )

    def stop(self) -> Trace:
        with self._lock:
            trace, self._trace = self._trace, None
        if trace is None:
            raise RuntimeError("stop() before start()")
        return trace

    def close(self) -> None:
        if self._jetson is not None:
            try:
                self._jetson.detach(self._observe)
                self._jetson.close()
            finally:
                self._jetson = None


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _gpu_load(client: Any) -> float | None:
    try:
        gpus = client.gpu or {}
        first = next(iter(gpus.values()))
        return _num(first["status"]["load"])
    except (AttributeError, KeyError, StopIteration, TypeError):
        return None

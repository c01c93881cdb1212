"""Jetson power rails: the INA3221 monitors read directly from sysfs, or through jetson-stats (`jtop`).

Two sysfs layouts (docs/jetson.md, shared/REFERENCES.md):
- JetPack 4 (Nano, TX2, Xavier on L4T R32): iio driver `ina3221x`,
  `/sys/bus/i2c/drivers/ina3221x/<bus>-<addr>/iio:device<N>/rail_name_<i>` with
  `in_power<i>_input` (mW), `in_voltage<i>_input` (mV), `in_current<i>_input` (mA).
- JetPack 5/6 (Xavier NX on R35, Orin): hwmon driver `ina3221`,
  `/sys/bus/i2c/drivers/ina3221/<bus>-<addr>/hwmon/hwmon<K>/in<i>_label`, `in<i>_input` (bus mV),
  `curr<i>_input` (mA). The hwmon index K varies between boots and boards, so it is globbed.
  Channel 7 is the chip's "sum of shunt voltages" (not a rail) and labels `NC` are unconnected
  inputs (AGX Orin); both are skipped.

Board total: the `POM_5V_IN` (Nano) or `VDD_IN` (Xavier NX, Orin NX/Nano) rail. AGX Orin has no
input rail: the total is the sum of the monitored rails, flagged with `tegrastats.SUMMED`.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
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
from zooprof.sensors.tegrastats import SUMMED, TOTAL_RAILS

DRIVERS = "sys/bus/i2c/drivers"
IIO_GLOB = "ina3221x/*/iio:device*"
HWMON_GLOB = "ina3221/*/hwmon/hwmon*"
SUM_CHANNEL = 7  # INA3221 hwmon: in7 is the sum of the shunt voltages, not a rail
JTOP_SOCKET = "run/jtop.sock"
NOT_ACTIVE = "jtop.service is not active (sudo systemctl restart jtop.service)"


@dataclass(frozen=True)
class Rail:
    """One INA3221 input: either a power file (iio, mW) or a bus-voltage (mV) and a current (mA) file."""

    name: str
    device: str
    power: Path | None = None
    volts: Path | None = None
    amps: Path | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.power,) if self.power is not None else (self.volts, self.amps)  # type: ignore[return-value]


def _nat_key(path: Path) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(path))]


def iio_rails(folder: Path, device: str) -> list[Rail]:
    """Rails of one JetPack 4 iio device folder."""
    rails = []
    for label in sorted(folder.glob("rail_name_*"), key=_nat_key):
        i = label.name.rpartition("_")[2]
        name = read_text(label)
        if not i.isdigit() or not name or name.upper() == "NC":
            continue
        power = folder / f"in_power{i}_input"
        volts, amps = folder / f"in_voltage{i}_input", folder / f"in_current{i}_input"
        if power.exists():
            rails.append(Rail(name, device, power=power))
        elif volts.exists() and amps.exists():
            rails.append(Rail(name, device, volts=volts, amps=amps))
    return rails


def hwmon_rails(folder: Path, device: str) -> list[Rail]:
    """Rails of one JetPack 5/6 hwmon folder (the sum-of-shunts channel and NC inputs skipped)."""
    rails = []
    for label in sorted(folder.glob("in*_label"), key=_nat_key):
        m = re.fullmatch(r"in(\d+)_label", label.name)
        name = read_text(label)
        if (
            not m
            or not name
            or int(m.group(1)) == SUM_CHANNEL
            or "sum of shunt" in name.lower()
            or name.upper() == "NC"
        ):
            continue
        volts, amps = folder / f"in{m.group(1)}_input", folder / f"curr{m.group(1)}_input"
        if volts.exists() and amps.exists():
            rails.append(Rail(name, device, volts=volts, amps=amps))
    return rails


def find_rails(root: Path) -> tuple[list[Rail], list[str]]:
    """Every rail under `root`, and the monitor folders seen (as /sys/... paths, for messages)."""
    base = root / DRIVERS
    rails: list[Rail] = []
    seen: list[str] = []
    for folder in sorted(base.glob(IIO_GLOB), key=_nat_key):
        seen.append("/" + str(folder.relative_to(root)))
        rails += iio_rails(folder, folder.parent.name)
    for folder in sorted(base.glob(HWMON_GLOB), key=_nat_key):
        seen.append("/" + str(folder.relative_to(root)))
        rails += hwmon_rails(folder, folder.parent.parent.name)
    counts: dict[str, int] = {}
    for r in rails:
        counts[r.name] = counts.get(r.name, 0) + 1
    # the same label on two chips (rare): keep both, named after their device
    rails = [
        Rail(f"{r.name}@{r.device}", r.device, r.power, r.volts, r.amps) if counts[r.name] > 1 else r for r in rails
    ]
    return rails, seen


def total_rule(names: list[str]) -> tuple[str | None, str | None]:
    """(total channel, how): the input rail when there is one, else the sum of the rails (AGX Orin)."""
    for name in TOTAL_RAILS:
        if name in names:
            return name, name
    return ("total", SUMMED) if names else (None, None)


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

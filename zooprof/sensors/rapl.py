"""Intel/AMD RAPL energy counters under /sys/class/powercap (the `intel_rapl` powercap driver; AMD
Zen CPUs expose the same `intel-rapl:*` names).

Zones: `intel-rapl:<p>` (package-<p>, or `psys`, the whole platform on recent Intel laptops) and
subzones `intel-rapl:<p>:<s>` (core, uncore, dram). Each has `energy_uj` (a counter in µJ that
wraps at `max_energy_range_uj`). Channels are ENERGY counters in mJ with `wrap` set to that range.

Total: `psys` when present; else the one package zone; else (several sockets) a `total` counter
zooprof keeps itself: the sum of the package zones' increments, wrap-corrected at each read, so it
does not wrap. RAPL measures the CPU package (and DRAM), not the whole machine: say so.

Since Linux 5.10 (CVE-2020-8694) `energy_uj` is readable by root only; the probe says so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zooprof.sensors.base import ENERGY, Channel, PollingSensor, Probe, close_fds

POWERCAP = "sys/class/powercap"
NO_RAPL = "no /sys/class/powercap/intel-rapl:* (no RAPL, or not readable without root)"


@dataclass(frozen=True)
class Zone:
    channel: str
    zone: str
    """The powercap folder name, e.g. intel-rapl:0:1."""
    energy: Path
    range_uj: float | None
    top: bool


def _nat_key(path: Path) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def find_zones(root: Path) -> list[Zone]:
    base = Path(root) / POWERCAP
    names: dict[str, str] = {}
    folders = [
        f for f in sorted(base.glob("intel-rapl:*"), key=_nat_key) if re.fullmatch(r"intel-rapl:\d+(:\d+)?", f.name)
    ]
    for f in folders:
        try:
            names[f.name] = (f / "name").read_text().strip()
        except OSError:
            names[f.name] = f.name
    zones = []
    for f in folders:
        parts = f.name.split(":")
        top = len(parts) == 2
        name = names[f.name] if top else f"{names.get(':'.join(parts[:2]), parts[1])}/{names[f.name]}"
        try:
            range_uj: float | None = float((f / "max_energy_range_uj").read_text().strip())
        except (OSError, ValueError):
            range_uj = None
        zones.append(Zone(name, f.name, f / "energy_uj", range_uj, top))
    seen: dict[str, int] = {}
    for z in zones:
        seen[z.channel] = seen.get(z.channel, 0) + 1
    return [
        Zone(f"{z.channel}@{z.zone}", z.zone, z.energy, z.range_uj, z.top) if seen[z.channel] > 1 else z for z in zones
    ]


class RaplSensor(PollingSensor):
    name = "rapl"

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = Path(root)
        self._zones: list[Zone] | None = None
        self._fds: list[tuple[str, int]] = []
        self._last: dict[str, float] = {}
        self._acc = 0.0
        self._summed = False

    def zones(self) -> list[Zone]:
        if self._zones is None:
            self._zones = find_zones(self.root)
        return self._zones

    def probe(self) -> Probe:
        zones = self.zones()
        if not zones:
            return Probe(self.name, False, NO_RAPL)
        for z in zones:
            try:
                float(z.energy.read_text().strip())
            except PermissionError:
                return Probe(
                    self.name,
                    False,
                    f"RAPL zones found but /{POWERCAP}/{z.zone}/energy_uj is readable by "
                    "root only (Linux >= 5.10): run as root or "
                    f"`sudo chmod a+r /{POWERCAP}/intel-rapl:*/energy_uj`",
                )
            except (OSError, ValueError) as exc:
                return Probe(self.name, False, f"RAPL /{POWERCAP}/{z.zone}/energy_uj unreadable: {exc}")
        _, how = self.total()
        return Probe(
            self.name, True, f"RAPL zones {', '.join(z.channel for z in zones)}; total {how}", tuple(self.channels())
        )

    def _packages(self) -> list[Zone]:
        return [z for z in self.zones() if z.top and not z.channel.startswith("psys")]

    def total(self) -> tuple[str | None, str | None]:
        zones = self.zones()
        psys = [z for z in zones if z.top and z.channel.startswith("psys")]
        if psys:
            return psys[0].channel, f"{psys[0].channel} (RAPL platform energy counter)"
        packages = self._packages()
        if len(packages) == 1:
            return packages[0].channel, f"{packages[0].channel} (RAPL package counter: CPU package, not the machine)"
        if packages:
            return "total", (
                f"sum of RAPL package zones {' + '.join(z.channel for z in packages)} (CPU packages, not the machine)"
            )
        return None, None

    def channels(self) -> dict[str, Channel]:
        out = {
            z.channel: Channel(z.channel, "mJ", ENERGY, z.range_uj / 1000.0 if z.range_uj else None)
            for z in self.zones()
        }
        if self.total()[0] == "total":
            out["total"] = Channel("total", "mJ", ENERGY)  # zooprof's own sum: wrap-corrected, never wraps
        return out

    def open_files(self) -> None:
        self.close_files()
        self._last, self._acc = {}, 0.0
        self._summed = self.total()[0] == "total"
        for z in self.zones():
            self._fds.append((z.channel, os.open(z.energy, os.O_RDONLY)))

    def close_files(self) -> None:
        close_fds(fd for _, fd in self._fds)
        self._fds = []

    def read(self) -> dict[str, float | None]:
        if not self._fds:
            self.open_files()
        out: dict[str, float | None] = {name: float(os.pread(fd, 32, 0)) / 1000.0 for name, fd in self._fds}
        if self._summed:
            out["total"] = self._sum_packages(out)
        return out

    def _sum_packages(self, values: dict[str, float | None]) -> float:
        """Accumulate the packages' increments since the last read (one wrap corrected per counter)."""
        for z in self._packages():
            v = values.get(z.channel)
            if v is None:
                continue
            last = self._last.get(z.channel)
            if last is not None:
                delta = v - last
                if delta < 0 and z.range_uj:
                    delta += z.range_uj / 1000.0
                self._acc += max(delta, 0.0)
            self._last[z.channel] = v
        return self._acc

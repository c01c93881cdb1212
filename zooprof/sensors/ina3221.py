"""Jetson power rails: where the INA3221 monitors appear in sysfs, and one reading of a rail.

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
input rail: the total is the sum of the monitored rails, flagged with `SUMMED`.

Used by `jetson.JetsonSysfsSensor` on the host and by the board agent on the Jetson itself.
"""

# Python 3.6 compatible, standard library only: the board agent imports this module on a Jetson
# (zooprof.remote.BOARD_MODULES; JetPack 4.6 ships Python 3.6). Hence typing's List/Optional forms
# (annotations are evaluated there), NamedTuple for the record, and no zooprof.sensors.base.

import re
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

DRIVERS = "sys/bus/i2c/drivers"
IIO_GLOB = "ina3221x/*/iio:device*"
HWMON_GLOB = "ina3221/*/hwmon/hwmon*"
SUM_CHANNEL = 7  # INA3221 hwmon: in7 is the sum of the shunt voltages, not a rail
TOTAL_RAILS = ("POM_5V_IN", "VDD_IN")
SUMMED = "sum of rails (no total rail; AGX Orin)"


class Rail(NamedTuple):
    """One INA3221 input: either a power file (iio, mW) or a bus-voltage (mV) and a current (mA) file."""

    name: str
    device: str
    power: Optional[Path] = None
    volts: Optional[Path] = None
    amps: Optional[Path] = None

    @property
    def files(self) -> Tuple[Path, ...]:
        return (self.power,) if self.power is not None else (self.volts, self.amps)  # type: ignore[return-value]


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _nat_key(path: Path) -> List[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(path))]


def iio_rails(folder: Path, device: str) -> List[Rail]:
    """Rails of one JetPack 4 iio device folder."""
    rails = []
    for label in sorted(folder.glob("rail_name_*"), key=_nat_key):
        i = label.name.rpartition("_")[2]
        name = _read(label)
        if not i.isdigit() or not name or name.upper() == "NC":
            continue
        power = folder / f"in_power{i}_input"
        volts, amps = folder / f"in_voltage{i}_input", folder / f"in_current{i}_input"
        if power.exists():
            rails.append(Rail(name, device, power=power))
        elif volts.exists() and amps.exists():
            rails.append(Rail(name, device, volts=volts, amps=amps))
    return rails


def hwmon_rails(folder: Path, device: str) -> List[Rail]:
    """Rails of one JetPack 5/6 hwmon folder (the sum-of-shunts channel and NC inputs skipped)."""
    rails = []
    for label in sorted(folder.glob("in*_label"), key=_nat_key):
        m = re.fullmatch(r"in(\d+)_label", label.name)
        name = _read(label)
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


def find_rails(root: Path) -> Tuple[List[Rail], List[str]]:
    """Every rail under `root`, and the monitor folders seen (as /sys/... paths, for messages)."""
    base = root / DRIVERS
    rails: List[Rail] = []
    seen: List[str] = []
    for folder in sorted(base.glob(IIO_GLOB), key=_nat_key):
        seen.append("/" + str(folder.relative_to(root)))
        rails += iio_rails(folder, folder.parent.name)
    for folder in sorted(base.glob(HWMON_GLOB), key=_nat_key):
        seen.append("/" + str(folder.relative_to(root)))
        rails += hwmon_rails(folder, folder.parent.parent.name)
    counts: Dict[str, int] = {}
    for r in rails:
        counts[r.name] = counts.get(r.name, 0) + 1
    # the same label on two chips (rare): keep both, named after their device
    rails = [
        Rail(f"{r.name}@{r.device}", r.device, r.power, r.volts, r.amps) if counts[r.name] > 1 else r for r in rails
    ]
    return rails, seen


def total_rule(names: List[str]) -> Tuple[Optional[str], Optional[str]]:
    """(total channel, how): the input rail when there is one, else the sum of the rails (AGX Orin)."""
    for name in TOTAL_RAILS:
        if name in names:
            return name, name
    return ("total", SUMMED) if names else (None, None)


def read_power_mw(rail: Rail) -> Optional[float]:
    """One reading of a rail in mW: its power file, or bus mV x mA / 1000; None when a read fails."""
    try:
        if rail.power is not None:
            return float(rail.power.read_text())
        if rail.volts is None or rail.amps is None:
            return None
        return float(rail.volts.read_text()) * float(rail.amps.read_text()) / 1000.0
    except (OSError, ValueError):
        return None

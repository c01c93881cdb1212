"""`zooprof sysinfo`: the board record and every sensor, found or not and why (imports no framework)."""

from __future__ import annotations

import json
from typing import Any

import typer

LABELS = (
    ("model", "model", "n/a (no /proc/device-tree/model)"),
    ("l4t_release", "L4T release", "n/a (no /etc/nv_tegra_release: not a Jetson)"),
    ("jetpack", "JetPack", "n/a (no L4T release)"),
    ("nvpmodel", "power mode", "n/a"),
    ("jetson_clocks", "jetson_clocks", "n/a"),
    ("gpu", "GPU", "n/a"),
    ("cpu_model", "CPU", "n/a (no model name in /proc/cpuinfo)"),
    ("cpu_count", "CPU cores", "n/a"),
    ("governors", "governors", "n/a (no cpufreq scaling_governor: a VM or container?)"),
    ("memory_bytes", "memory", "n/a (no /proc/meminfo)"),
)


def _show(key: str, value: Any, missing: str) -> str:
    if value is None or value == {}:
        return missing
    if key == "governors":
        return ", ".join(f"{g} ({n} CPUs)" for g, n in value.items())
    if key == "memory_bytes":
        return f"{value / 2**30:.1f} GiB"
    return str(value)


def sysinfo(
    as_json: bool = typer.Option(False, "--json", help="Print the board record and sensor probes as JSON."),
) -> None:
    """Board, power mode, clocks, GPU, CPU, memory, and each sensor: found, or why not."""
    from zooprof import sensors
    from zooprof.measure.environment import board

    root = sensors.sysfs_root()
    record = board(root)
    probes = sensors.probe_all(root)
    power = next((p.name for p in probes if p.available and p.name in sensors.POWER_SOURCES), None)
    if as_json:
        typer.echo(
            json.dumps(
                {"root": str(root), "board": record, "sensors": [p.to_dict() for p in probes], "power_sensor": power},
                indent=2,
            )
        )
        return
    width = max(len(label) for _, label, _ in LABELS)
    lines = ["board" + (f" (read under {root})" if str(root) != "/" else "")]
    lines += [f"  {label:<{width}}  {_show(key, record.get(key), missing)}" for key, label, missing in LABELS]
    lines.append("sensors (power sources best first; `host` is sampled beside any of them)")
    name_width = max(len(p.name) for p in probes)
    for p in probes:
        lines.append(f"  {p.name:<{name_width}}  {'found    ' if p.available else 'not found'}  {p.reason}")
    if power:
        lines.append(f"power: `zooprof profile --power` uses {power} (choose another with --sensor)")
    else:
        lines.append(
            "power: no power sensor found here; `zooprof profile --power` reports power as n/a "
            "(replay a recorded trace with --sensor replay:FILE)"
        )
    typer.echo("\n".join(lines))

"""`zooprof sysinfo`: the board record, the accelerator (GPUs, CUDA, cuDNN, TensorRT, a Jetson's GPU
clock) and every sensor, found or not and why (imports no framework)."""

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


def _n(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _clocks(what: str, current: Any, top: Any) -> str:
    if current is None and top is None:
        return f"{what} n/a"
    return f"{what} {_n(current)}/{_n(top)} MHz"


def gpu_line(gpu: dict[str, Any], driver: str | None, cuda: str | None) -> str:
    """One NVIDIA GPU in words: name, compute capability, memory, driver, CUDA, clocks (current/max),
    power limit (enforced, and the default when it differs)."""
    if gpu.get("reason"):
        return f"n/a ({gpu['reason']})"
    memory = gpu.get("memory_total_bytes")
    about = [f"compute {_n(gpu.get('compute_capability'))}"]
    if memory is not None:
        about.append(f"{memory / 2**30:.1f} GiB")
    limit, default = gpu.get("power_limit_w"), gpu.get("power_limit_default_w")
    power = f"power limit {_n(limit, ' W')}"
    if default is not None and default != limit:
        power += f" (default {_n(default, ' W')})"
    return (
        f"{_n(gpu.get('name'))} ({', '.join(about)}), driver {_n(driver)}, CUDA {_n(cuda)}; "
        f"{_clocks('SM', gpu.get('sm_clock_mhz'), gpu.get('sm_clock_max_mhz'))}, "
        f"{_clocks('memory', gpu.get('memory_clock_mhz'), gpu.get('memory_clock_max_mhz'))}; {power}"
    )


def _version(part: dict[str, Any]) -> str:
    return f"{part['version']} ({part['source']})" if part.get("version") else f"n/a ({part.get('reason')})"


def accelerator_lines(acc: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) for each GPU, the CUDA toolkit, cuDNN, TensorRT, trtexec and a Jetson's GPU clock."""
    rows = [
        (f"GPU {g['index']}", gpu_line(g, acc.get("driver_version"), acc.get("cuda_driver_version")))
        for g in acc.get("gpus", [])
    ]
    if not rows:
        rows.append(("GPUs", f"n/a ({acc.get('gpus_reason')})"))
    trt = acc["trtexec"]
    rows += [
        ("CUDA toolkit", _version(acc["cuda_toolkit"])),
        ("cuDNN", _version(acc["cudnn"])),
        ("TensorRT", _version(acc["tensorrt"])),
        ("trtexec", trt["path"] or f"n/a ({trt['reason']})"),
    ]
    j = acc["jetson_gpu"]
    if j.get("node"):
        text = f"{j['node']}: {_n(j['cur_mhz'], ' MHz')} (min {_n(j['min_mhz'])}, max {_n(j['max_mhz'])})"
        rows.append(("Jetson GPU", f"{text}, governor {_n(j['governor'])}"))
    else:
        rows.append(("Jetson GPU", f"n/a ({j['reason']})"))
    return rows


def fit_lines(lines: list[tuple[str, str]], width: int | None) -> list[str]:
    """(lead, text) lines, each `text` wrapped to `width` under itself (at spaces only, so a
    number or a path is never broken; a word longer than the room overflows whole)."""
    import textwrap

    out = []
    for lead, text in lines:
        room = (width or 0) - len(lead)
        if width is None or len(lead) + len(text) <= width or room < 20:
            out.append((lead + text).rstrip())
            continue
        wrapped = textwrap.wrap(text, room, break_long_words=False, break_on_hyphens=False) or [""]
        out.append(lead + wrapped[0])
        out += [" " * len(lead) + part for part in wrapped[1:]]
    return out


def sysinfo(
    as_json: bool = typer.Option(
        False, "--json", help="Print the board record, the accelerator and sensor probes as JSON."
    ),
    width: int = typer.Option(None, "--width", help="Line width in characters (default: the terminal's)."),
) -> None:
    """Board, power mode, clocks, GPU, CPU, memory, the accelerator (NVIDIA GPUs, driver, CUDA, cuDNN,
    TensorRT, a Jetson's GPU clock), and each sensor: found, or why not."""
    from zooprof import sensors
    from zooprof.measure.accelerator import accelerator
    from zooprof.measure.environment import board

    root = sensors.sysfs_root()
    record = board(root)
    acc = accelerator(root)
    probes = sensors.probe_all(root)
    power = next((p.name for p in probes if p.available and p.name in sensors.POWER_SOURCES), None)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "root": str(root),
                    "board": record,
                    "accelerator": acc,
                    "sensors": [p.to_dict() for p in probes],
                    "power_sensor": power,
                },
                indent=2,
            )
        )
        return
    from zooprof.cli.common import terminal_width
    from zooprof.renderers.escape import printable

    rows = accelerator_lines(acc)
    label_width = max(len(label) for label in [*(x[1] for x in LABELS), *(x[0] for x in rows)])
    lines = [("", "board" + (f" (read under {root})" if str(root) != "/" else ""))]
    lines += [(f"  {label:<{label_width}}  ", _show(key, record.get(key), missing)) for key, label, missing in LABELS]
    lines.append(("", "accelerator"))
    lines += [(f"  {label:<{label_width}}  ", text) for label, text in rows]
    lines.append(("", "sensors (power sources best first; `host` is sampled beside any of them)"))
    name_width = max(len(p.name) for p in probes)
    for p in probes:
        lines.append((f"  {p.name:<{name_width}}  {'found    ' if p.available else 'not found'}  ", p.reason))
    if power:
        lines.append(("", f"power: `zooprof profile --power` uses {power} (choose another with --sensor)"))
    else:
        lines.append(
            (
                "",
                "power: no power sensor found here; `zooprof profile --power` reports power as n/a "
                "(replay a recorded trace with --sensor replay:FILE)",
            )
        )
    lines = [(lead, printable(text)) for lead, text in lines]  # read from files on the machine
    typer.echo("\n".join(fit_lines(lines, width or terminal_width())))

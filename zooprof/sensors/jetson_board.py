"""Jetson identity and power state: L4T release -> JetPack version, `nvpmodel -q`, `jetson_clocks
--show`, the integrated GPU. Parsers take text (tested with no board); readers take a root.

L4T -> JetPack (NVIDIA's JetPack archive, developer.nvidia.com/embedded/jetpack-archive, cross-checked
with the tables of jetson-stats and dusty-nv/jetson-containers). An L4T release not in the table
gives "n/a (...)" with its major line, never a nearby guess.
"""

# Python 3.6 compatible, standard library only: the board agent imports this module on a Jetson
# (zooprof.remote.BOARD_MODULES; JetPack 4.6 ships Python 3.6). Hence typing's Dict/Optional forms
# (annotations are evaluated there) and subprocess.run without capture_output/text (Python 3.7).

import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

JETPACK: Dict[str, str] = {
    # JetPack 4 (L4T R32: Nano, TX1/TX2, Xavier)
    "32.1.0": "4.2",
    "32.2.0": "4.2.1",
    "32.2.1": "4.2.2",
    "32.2.3": "4.2.3",
    "32.3.1": "4.3",
    "32.4.2": "4.4 DP",
    "32.4.3": "4.4",
    "32.4.4": "4.4.1",
    "32.5.0": "4.5",
    "32.5.1": "4.5.1",
    "32.5.2": "4.5.1",
    "32.6.1": "4.6",
    "32.7.1": "4.6.1",
    "32.7.2": "4.6.2",
    "32.7.3": "4.6.3",
    "32.7.4": "4.6.4",
    "32.7.5": "4.6.5",
    "32.7.6": "4.6.6",
    # JetPack 5 (L4T R34/R35: Xavier, Orin)
    "34.1.0": "5.0 DP",
    "34.1.1": "5.0.1 DP",
    "35.1.0": "5.0.2",
    "35.2.1": "5.1",
    "35.3.1": "5.1.1",
    "35.4.1": "5.1.2",
    "35.5.0": "5.1.3",
    "35.6.0": "5.1.4",
    "35.6.1": "5.1.5",
    # JetPack 6 (L4T R36: Orin)
    "36.2.0": "6.0 DP",
    "36.3.0": "6.0",
    "36.4.0": "6.1",
    "36.4.2": "6.1.1",
    "36.4.3": "6.2",
    "36.4.4": "6.2.1",
    "36.4.7": "6.2.1",
    # JetPack 7 (L4T R38: Thor)
    "38.2.0": "7.0",
}
LINES = {"32": "JetPack 4", "34": "JetPack 5", "35": "JetPack 5", "36": "JetPack 6", "38": "JetPack 7"}
COMMAND_TIMEOUT_S = 10.0
GPU_DEVFREQ = re.compile(r"gpu|gv11b|ga10b|gp10b|gm20b|gb10b", re.IGNORECASE)

_L4T = re.compile(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+)(?:\.(\d+))?")


def parse_l4t(text: Optional[str]) -> Optional[str]:
    """First line of /etc/nv_tegra_release -> '36.4.3'; None when it is not an L4T banner."""
    m = _L4T.search(text or "")
    if not m:
        return None
    return f"{m.group(1)}.{m.group(2)}.{m.group(3) or '0'}"


def jetpack_for(l4t: Optional[str]) -> Optional[str]:
    """JetPack version of an L4T release ('n/a (...)' when unknown to the table; None without L4T)."""
    if l4t is None:
        return None
    if l4t in JETPACK:
        return JETPACK[l4t]
    line = LINES.get(l4t.split(".")[0])
    hint = f"; R{l4t.split('.')[0]} is the {line} line" if line else ""
    return f"n/a (L4T {l4t} is not in zooprof's table{hint})"


def parse_nvpmodel(text: str) -> Optional[str]:
    """`nvpmodel -q` output -> 'MAXN (mode 0)'; None when no mode line is found."""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    for i, line in enumerate(lines):
        m = re.match(r"NV Power Mode:\s*(.+)", line)
        if m:
            name = m.group(1).strip()
            mode = next((x for x in lines[i + 1 :] if x.isdigit()), None)
            return f"{name} (mode {mode})" if mode is not None else name
    return None


def parse_jetson_clocks(text: str) -> Optional[str]:
    """`jetson_clocks --show` -> 'on' when every online CPU and the GPU run with minimum = maximum
    clock (what jetson_clocks sets), 'off' otherwise; None when no clock line is found."""
    pins = []
    for line in text.splitlines():
        line = line.strip()
        if not re.match(r"(cpu\d+:|GPU\s)", line) or "Online=0" in line:
            continue
        m = re.search(r"MinFreq=(\d+)\s+MaxFreq=(\d+)", line)
        if m:
            pins.append(m.group(1) == m.group(2))
    if not pins:
        return None
    return "on" if all(pins) else "off"


def run_tool(name: str, args: List[str], root: Path) -> Tuple[Optional[str], Optional[str]]:
    """(stdout, None) of a board tool, or (None, why): not found, failed, needs root."""
    exe = None
    for folder in ("usr/bin", "usr/sbin", "usr/local/bin"):
        candidate = Path(root) / folder / name
        if candidate.is_file():
            exe = str(candidate)
            break
    exe = exe or shutil.which(name)
    if exe is None:
        return None, f"{name} not found"
    try:
        r = subprocess.run(
            [exe, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,  # text=True, spelled as Python 3.6 knows it
            timeout=COMMAND_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{name} {' '.join(args)} failed: {exc}"
    if r.returncode != 0:
        err = (r.stderr or r.stdout).strip().splitlines()
        first = err[0][:80] if err else f"exit code {r.returncode}"
        root_hint = " (needs root: sudo)" if re.search(r"root|permission|sudo", " ".join(err), re.I) else ""
        return None, f"{name} {' '.join(args)} failed: {first}{root_hint}"
    return r.stdout, None


def nvpmodel_mode(root: Path) -> str:
    out, why = run_tool("nvpmodel", ["-q"], root)
    if out is None:
        return f"n/a ({why})"
    return parse_nvpmodel(out) or "n/a (nvpmodel -q printed no 'NV Power Mode' line)"


def _pinned_from_cpufreq(root: Path) -> Optional[str]:
    """'on'/'off' inferred from cpufreq: jetson_clocks sets each CPU's minimum clock to its maximum."""
    pins = []
    for cpu in sorted((Path(root) / "sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq")):
        try:
            pins.append(int((cpu / "scaling_min_freq").read_text()) == int((cpu / "cpuinfo_max_freq").read_text()))
        except (OSError, ValueError):
            continue
    if not pins:
        return None
    return "on" if all(pins) else "off"


def jetson_clocks_state(root: Path) -> str:
    out, why = run_tool("jetson_clocks", ["--show"], root)
    if out is not None:
        state = parse_jetson_clocks(out)
        if state:
            return f"{state} (jetson_clocks --show)"
        why = "jetson_clocks --show printed no clock line"
    if why == "jetson_clocks not found":
        return f"n/a ({why})"
    inferred = _pinned_from_cpufreq(root)
    if inferred:
        return f"{inferred} (inferred: CPU minimum clock {'=' if inferred == 'on' else '<'} maximum; {why})"
    return f"n/a ({why})"


def integrated_gpu(root: Path) -> Optional[str]:
    """The Jetson GPU from its devfreq node, e.g. 'integrated GPU 17000000.ga10b (max 1300 MHz)'."""
    for node in sorted((Path(root) / "sys/class/devfreq").glob("*")):
        if not GPU_DEVFREQ.search(node.name):
            continue
        try:
            top = int((node / "max_freq").read_text()) / 1e6
            return f"integrated GPU {node.name} (max {top:.0f} MHz)"
        except (OSError, ValueError):
            return f"integrated GPU {node.name}"
    return None

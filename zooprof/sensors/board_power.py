"""Power and state sampling on a board, for the board agent (zooprof/remote/agent.py): the INA3221
rails read by a thread, or tegrastats' lines stamped with the board's clock (parsed by the host),
and the temperatures and clocks at the start of a run.

Standard library only, Python 3.6 compatible: one of zooprof.remote.BOARD_MODULES.
"""

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

from zooprof.sensors import ina3221
from zooprof.sensors.jetson_board import GPU_DEVFREQ


class RailSampler:
    """INA3221 rails (zooprof.sensors.ina3221) read by a thread at `hz`, as a zooprof Trace dict."""

    def __init__(self, root, hz):
        self.rails, _ = ina3221.find_rails(root)
        names = [r.name for r in self.rails]
        self.total, self.total_source = ina3221.total_rule(names)
        self.hz = hz
        self.t = []
        self.series = dict((n, []) for n in names)
        self.errors = 0
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self.t, self.series = [], dict((r.name, []) for r in self.rails)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        period = 1.0 / self.hz
        next_t = time.perf_counter()
        while not self._stop.is_set():
            t0 = time.perf_counter()
            values = [ina3221.read_power_mw(r) for r in self.rails]
            t1 = time.perf_counter()
            self.t.append((t0 + t1) / 2)
            for rail, value in zip(self.rails, values):
                self.series[rail.name].append(value)
                if value is None:
                    self.errors += 1
            next_t += period
            self._stop.wait(max(0.0, next_t - time.perf_counter()))

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        series = dict(self.series)
        channels = dict((n, {"unit": "mW", "kind": "power", "wrap": None}) for n in series)
        if self.total == "total":  # no input rail (AGX Orin): the sum of the rails
            series["total"] = [
                None if any(s[i] is None for s in self.series.values()) else sum(s[i] for s in self.series.values())
                for i in range(len(self.t))
            ]
            channels["total"] = {"unit": "mW", "kind": "power", "wrap": None}
        return {
            "sensor": "jetson-sysfs",
            "total": self.total,
            "total_source": self.total_source,
            "channels": channels,
            "t": list(self.t),
            "series": series,
            "requested_hz": self.hz,
            "errors": self.errors,
        }


class TegrastatsSampler:
    """tegrastats' lines, each stamped with the clock it was read at; parsed by the host."""

    def __init__(self, exe, hz):
        self.exe, self.hz = exe, min(hz, 1000.0)
        self.lines = []
        self._proc = None
        self._thread = None

    def start(self):
        self.lines = []
        interval = str(max(1, int(round(1000.0 / self.hz))))
        self._proc = subprocess.Popen(
            [self.exe, "--interval", interval], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, universal_newlines=True, bufsize=1,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self._proc.stdout:
            self.lines.append([time.perf_counter(), line.rstrip("\n")])

    def stop(self):
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._thread.join(5)
        return {"sensor": "tegrastats", "tegrastats_lines": list(self.lines), "requested_hz": self.hz}


def find_tegrastats(root):
    """The tegrastats executable: under `root` (a Jetson's /usr/bin), then on PATH. A root other
    than / (a fake tree in tests) is the whole machine: PATH is not searched. (Also the local
    tegrastats sensor's: zooprof.sensors.tegrastats_live.)"""
    root = str(root)
    for folder in ("usr/bin", "usr/sbin", "usr/local/bin"):
        path = os.path.join(root, folder, "tegrastats")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which("tegrastats") if os.path.realpath(root) == "/" else None


def power_sampler(job):
    """The board's INA3221 sampler, else tegrastats, or (None, why)."""
    power = job.get("power")
    if not power:
        return None, None
    root = job.get("sysfs_root") or "/"
    hz = float(power.get("sample_hz") or 50.0)
    try:
        sampler = RailSampler(Path(root), hz)
    except Exception as exc:  # a broken sysfs must not cost the measurement
        return None, f"INA3221 rails unreadable: {type(exc).__name__}: {exc}"
    if sampler.rails:
        return sampler, None
    exe = find_tegrastats(root)
    if exe:
        return TegrastatsSampler(exe, hz), None
    return None, "no INA3221 rails under " + root.rstrip("/") + "/sys/bus/i2c/drivers and no tegrastats (not a Jetson?)"


def board_state(root):
    """Temperatures and clocks at the start of the run: thermal zones, the GPU's devfreq, CPU 0."""
    state = {"temperatures_c": {}, "gpu_mhz": None, "cpu0_mhz": None}
    base = os.path.join(root, "sys/class/thermal")
    for zone in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            with open(os.path.join(base, zone, "type")) as f:
                name = f.read().strip()
            with open(os.path.join(base, zone, "temp")) as f:
                state["temperatures_c"][name] = int(f.read().strip()) / 1000.0
        except (OSError, ValueError):
            continue
    devfreq = os.path.join(root, "sys/class/devfreq")
    for node in sorted(os.listdir(devfreq)) if os.path.isdir(devfreq) else []:
        if GPU_DEVFREQ.search(node):
            try:
                with open(os.path.join(devfreq, node, "cur_freq")) as f:
                    state["gpu_mhz"] = int(f.read().strip()) / 1e6
            except (OSError, ValueError):
                pass
            break
    try:
        with open(os.path.join(root, "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")) as f:
            state["cpu0_mhz"] = int(f.read().strip()) / 1000.0
    except (OSError, ValueError):
        pass
    return state

"""Jetson power modes for a sweep: `nvpmodel -m ID`, a settle time, verified with `nvpmodel -q`,
and the original mode restored at the end.

Modes are given by id (0) or by name (MAXN, 15W, "MODE_10W"): names are looked up in
/etc/nvpmodel.conf (`< POWER_MODEL ID=0 NAME=MAXN >`). Commands run here or on a board over ssh
(`run` is the runner: argv -> (exit code, output); on a board, over the sweep's own ssh
connection, which the sweep closes); without root they go through `sudo -n`, so a
board needs a sudoers rule for nvpmodel (zooprof remote check says). Off a Jetson nothing is
switched: each cell says why (`power_mode_applied: false`).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable

from zooprof.sensors.jetson_board import parse_nvpmodel

Runner = Callable[[list[str]], tuple[int, str]]
SETTLE_S = 5.0
MODE_LINE = re.compile(r"<\s*POWER_MODEL\s+ID=(\d+)\s+NAME=([^\s>]+)\s*>")


def local_runner(argv: list[str]) -> tuple[int, str]:
    import os
    import shutil

    if argv and argv[0] == "sudo" and os.geteuid() == 0:
        argv = argv[2:]  # root: no sudo
    if shutil.which(argv[0]) is None:
        return 127, f"{argv[0]} not found"
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def parse_modes(conf: str) -> dict[str, int]:
    """NAME -> id from nvpmodel.conf."""
    return {m.group(2): int(m.group(1)) for m in MODE_LINE.finditer(conf)}


class PowerModes:
    def __init__(
        self,
        run: Runner = local_runner,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.run, self.sleep = run, sleep
        self.original: str | None = None
        self._modes: dict[str, int] | None = None
        self.unavailable: str | None = None
        code, out = self.run(["nvpmodel", "-q"])
        if code != 0:
            self.unavailable = f"nvpmodel -q failed ({out.splitlines()[-1] if out else code}): not a Jetson?"
        else:
            self.original = parse_nvpmodel(out)

    def modes(self) -> dict[str, int]:
        if self._modes is None:
            code, out = self.run(["cat", "/etc/nvpmodel.conf"])
            self._modes = parse_modes(out) if code == 0 else {}
        return self._modes

    def mode_id(self, mode: str) -> int | None:
        if str(mode).isdigit():
            return int(mode)
        modes = self.modes()
        for name, ident in modes.items():
            if name.lower() == str(mode).lower() or name.lower() == f"mode_{mode}".lower():
                return ident
        return None

    def current(self) -> str | None:
        code, out = self.run(["nvpmodel", "-q"])
        return parse_nvpmodel(out) if code == 0 else None

    def apply(self, mode: str, settle_s: float = SETTLE_S) -> tuple[bool, str]:
        """(switched, what happened): set `mode`, wait, check `nvpmodel -q` says it."""
        if self.unavailable:
            return False, f"power mode {mode} not set: {self.unavailable}"
        ident = self.mode_id(mode)
        if ident is None:
            known = ", ".join(f"{n} ({i})" for n, i in self.modes().items()) or "none found in /etc/nvpmodel.conf"
            return False, f"unknown power mode '{mode}' on this board; it has: {known}"
        code, out = self.run(["sudo", "-n", "nvpmodel", "-m", str(ident)])
        if code != 0:
            why = out.splitlines()[-1] if out else f"exit {code}"
            return False, f"nvpmodel -m {ident} failed ({why}): allow it with a sudoers rule (zooprof remote check)"
        self.sleep(settle_s)
        now = self.current() or ""
        if f"mode {ident})" not in now and not now.lower().startswith(str(mode).lower()):
            return False, f"nvpmodel -m {ident} ran but nvpmodel -q says '{now}'"
        return True, f"power mode {now}, after {settle_s:g} s to settle"

    def restore(self) -> str | None:
        """Back to the mode the board had before the sweep; what was done, or None."""
        if self.unavailable or not self.original:
            return None
        m = re.search(r"mode (\d+)\)", self.original)
        if not m or self.current() == self.original:
            return None
        code, out = self.run(["sudo", "-n", "nvpmodel", "-m", m.group(1)])
        return f"power mode restored to {self.original}" if code == 0 else f"could not restore {self.original}: {out}"

"""Jobs for the worker tests (importable by a spawned child)."""

from __future__ import annotations

import ctypes
import time
from typing import Any


def good(x: int, report: Any) -> dict[str, Any]:
    report({"step": 1})
    return {"value": x * 2}


def raises(x: int, report: Any) -> dict[str, Any]:
    raise ValueError(f"bad value {x}\nsecond line")


def segfaults(x: int, report: Any) -> dict[str, Any]:
    ctypes.string_at(0)
    return {}


def hangs(x: int, report: Any) -> dict[str, Any]:
    time.sleep(1000)
    return {}


def allocates(cap_mib: int, report: Any) -> dict[str, Any]:
    """Grow resident memory 20 MiB at a time (every byte written, so every page is resident) up to
    `cap_mib`: a runaway model. The cap keeps a broken memory limit from taking the machine down."""
    held = []
    while len(held) * 20 < cap_mib:
        held.append(b"\x01" * (20 * 2**20))
        report({"held_mib": len(held) * 20})
        time.sleep(0.01)
    return {"held_mib": len(held) * 20}


def spawns_child(child_mib: int, report: Any) -> dict[str, Any]:
    """Start a child process that holds `child_mib` MiB and waits, then wait too: a runtime whose
    engine runs in a process of its own (trtexec). Reports the child's pid."""
    import subprocess
    import sys

    code = f"import time\nheld = b'\\x01' * ({child_mib} * 2**20)\ntime.sleep(600)"
    child = subprocess.Popen([sys.executable, "-c", code])
    report({"child": child.pid})
    time.sleep(600)
    return {}

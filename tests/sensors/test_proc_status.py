"""zooprof.sensors.proc_status: /proc/PID/status read in bytes, checked against psutil's reading."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from zooprof.sensors.proc_status import status_bytes

pytestmark = [
    pytest.mark.slow,  # child processes
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/PID/status is Linux's"),
]


def test_fields_in_bytes_match_psutil() -> None:
    """A sleeping child, so nothing changes between the two readings (pytest's own RSS moves)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(50 * 2**20); time.sleep(30)"])
    try:
        for _ in range(100):  # until the bytearray is resident
            rss = status_bytes("VmRSS", child.pid)
            if rss and rss > 50 * 2**20:
                break
            time.sleep(0.05)
        info = psutil.Process(child.pid).memory_info()
        assert status_bytes("VmRSS", child.pid) == info.rss > 50 * 2**20
        assert status_bytes("VmSize", child.pid) == info.vms
        assert status_bytes("VmHWM", child.pid) >= info.rss
    finally:
        child.kill()
        child.wait()


def test_what_cannot_be_read_is_none() -> None:
    assert (status_bytes("VmRSS") or 0) > 0  # this process ("self")
    assert status_bytes("NoSuchField") is None
    assert status_bytes("Name") is None  # a field that is not a size: "Name:\tpython3"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert status_bytes("VmRSS", dead.pid) is None

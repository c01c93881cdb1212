"""zooprof.sensors.proc_status: /proc/PID/status read in bytes, checked against psutil's reading."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from zooprof.sensors.proc_status import status_bytes

pytestmark = [
    pytest.mark.slow,  # child processes
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/PID/status is Linux's"),
]


def test_fields_in_bytes_match_psutil() -> None:
    """A child that fills 50 MiB, says so and sleeps, so nothing changes between the two readings
    (pytest's own memory moves)."""
    code = "import sys, time; b = bytearray(b'x' * (50 * 2**20)); print('ready', flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        info = psutil.Process(child.pid).memory_info()
        assert status_bytes("VmRSS", child.pid) == info.rss > 50 * 2**20
        assert status_bytes("VmSize", child.pid) == info.vms
        assert (status_bytes("VmHWM", child.pid) or 0) >= info.rss
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

"""Worker isolation: a crash, an exception, a hang or a runaway allocation is one row's failure, with its reason."""

from __future__ import annotations

import re
import time

import pytest

from tests.runtimes import jobs
from zooprof.runtimes.worker import run_isolated

pytestmark = pytest.mark.slow  # every test spawns a worker process


def test_good_job_returns_result_and_progress() -> None:
    seen: list[dict] = []
    out = run_isolated(jobs.good, (21,), timeout=60, progress=seen.append)
    assert out.ok and out.result == {"value": 42}
    assert seen == [{"step": 1}]


def test_exception_is_reported_in_one_line() -> None:
    out = run_isolated(jobs.raises, (3,), timeout=60)
    assert not out.ok and out.failure == "exception"
    assert out.reason == "ValueError: bad value 3"
    assert "Traceback" in (out.detail or "")


def test_segfault_is_a_crash() -> None:
    out = run_isolated(jobs.segfaults, (0,), timeout=60)
    assert not out.ok and out.failure == "crash" and "SIGSEGV" in (out.reason or "")


def test_hang_times_out() -> None:
    out = run_isolated(jobs.hangs, (0,), timeout=3)
    assert not out.ok and out.failure == "timeout" and "3 s" in (out.reason or "")
    assert out.seconds < 15


MiB = 2**20
OVER_LIMIT = re.compile(
    r"^worker used (\d+) MiB, over the memory limit of 300 MiB \(--memory-limit\); "
    r"use a smaller batch or raise the limit$"
)


def test_allocation_past_the_limit_fails_in_seconds_and_the_next_job_runs() -> None:
    out = run_isolated(jobs.allocates, (3000,), timeout=120, memory_limit=300 * MiB)
    assert not out.ok and out.failure == "memory", out.reason
    match = OVER_LIMIT.match(out.reason or "")
    assert match and 300 < int(match.group(1)) < 3000, out.reason
    assert out.seconds < 10  # the watch, not the 120 s timeout, ended it
    assert out.memory_limit_bytes == 300 * MiB and out.peak_rss_bytes is not None
    assert out.peak_rss_bytes > 300 * MiB
    after = run_isolated(jobs.good, (21,), timeout=60, memory_limit=300 * MiB)
    assert after.ok and after.result == {"value": 42}
    assert after.peak_rss_bytes is not None and 0 < after.peak_rss_bytes < 300 * MiB


def test_peak_covers_what_the_worker_held() -> None:
    """A job that holds 200 MiB (every byte written), with no limit and under a 600 MiB one: not
    killed, and the recorded peak is at least the 200 MiB, though the job drops them before it
    returns."""
    out = run_isolated(jobs.allocates, (200,), timeout=120, memory_limit="none")
    assert out.ok and out.result == {"held_mib": 200}
    assert out.memory_limit_bytes is None
    assert out.peak_rss_bytes is not None and out.peak_rss_bytes >= 200 * MiB
    out = run_isolated(jobs.allocates, (200,), timeout=120, memory_limit=600 * MiB)
    assert out.ok and out.peak_rss_bytes is not None and 200 * MiB <= out.peak_rss_bytes < 600 * MiB


def test_default_limit_is_a_share_of_the_available_memory() -> None:
    import psutil

    out = run_isolated(jobs.good, (1,), timeout=60)
    assert out.ok and out.memory_limit_bytes is not None
    assert 0 < out.memory_limit_bytes <= 0.8 * psutil.virtual_memory().total


def _gone(pid: int) -> bool:
    """Whether `pid` has ended (a zombie awaiting its reaper counts: it holds no memory)."""
    import psutil

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_a_child_process_counts_and_is_killed_with_the_worker() -> None:
    """The worker holds little; the process it started holds 400 MiB: over a 300 MiB limit, and
    both are killed (a trtexec left running would hold its memory on)."""
    seen: list[dict] = []
    out = run_isolated(jobs.spawns_child, (400,), timeout=120, progress=seen.append, memory_limit=300 * MiB)
    assert not out.ok and out.failure == "memory" and OVER_LIMIT.match(out.reason or ""), out.reason
    assert out.seconds < 15
    (child,) = [info["child"] for info in seen if "child" in info]
    assert _gone(child)


def test_timeout_kills_the_workers_children_too() -> None:
    seen: list[dict] = []
    out = run_isolated(jobs.spawns_child, (1,), timeout=4, progress=seen.append, memory_limit="none")
    assert not out.ok and out.failure == "timeout"
    (child,) = [info["child"] for info in seen if "child" in info]
    assert _gone(child)


def test_script_without_main_guard_is_not_rerun(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """spawn would re-run an unguarded user script in every worker; zooprof hides __main__."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "user_script.py"
    script.write_text(
        "from tests.runtimes import jobs\nfrom zooprof.runtimes.worker import run_isolated\n"
        "print('script ran')\nprint(run_isolated(jobs.good, (1,), timeout=60).result)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.count("script ran") == 1, out.stderr
    assert "{'value': 2}" in out.stdout
    piped = subprocess.run(
        [sys.executable, "-"], input=script.read_text(), capture_output=True, text=True, env=env, timeout=120
    )
    assert "{'value': 2}" in piped.stdout, piped.stderr

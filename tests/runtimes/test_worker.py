"""Worker isolation: a crash, an exception or a hang is one row's failure, with its reason."""

from __future__ import annotations

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

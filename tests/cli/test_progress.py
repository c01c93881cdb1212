"""The measurement progress on stderr (zooprof.cli.progress): one line per step off a terminal, and
a failed row's reason said as it happens (the report itself may go to a file)."""

from __future__ import annotations

import pytest

from zooprof.cli.progress import Progress


def test_lines_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress() as progress:
        progress("m torch b1", {"phase": "starting"})
        progress("m torch b1", {"iterations": 10, "elapsed": 0.5, "ci_rel": 0.01})  # live line only
        progress("m torch b1", {"phase": "done", "status": "ok"})
        progress("m torch b64", {"phase": "done", "status": "failed", "failure": "memory", "reason": "used 2.1 GiB"})
        progress("m tflite b1", {"phase": "done", "status": "n/a"})
    assert capsys.readouterr().err.splitlines() == [
        "m torch b1: starting",
        "m torch b1: done (ok)",
        "m torch b64: failed (memory): used 2.1 GiB",
        "m tflite b1: done (n/a)",
    ]

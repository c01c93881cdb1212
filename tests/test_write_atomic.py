"""Results and reports are written atomically, with the permissions a new file normally gets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from zooprof.result.document import write_atomic


def test_written_file_follows_the_umask_not_mkstemps_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "sub" / "report.html", "<p>hi</p>")
    finally:
        os.umask(old)
    assert path.read_text() == "<p>hi</p>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temporary file left


def test_a_stricter_umask_is_respected(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        path = write_atomic(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

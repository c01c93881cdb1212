"""`zooprof sweep` end to end: a matrix with a model that segfaults (its rows fail with the reason,
the others are measured), Ctrl-C halfway then the same command again (only the missing cells run),
two sweeps into one database at once, and `--dry-run`."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run
from zooprof import results

ROOT = Path(__file__).resolve().parents[2]
SEGFAULT = "tests.runtimes.bad_models:segfault_net"
TINY = "tests.sweep.models:tiny_cnn"

ASSIGNMENT = f"""
[assignment]
name = "segfault lab"

[matrix]
models = ["mnist-mlp", "{TINY}", "{SEGFAULT}"]
runtimes = ["torch", "onnxruntime"]
batches = [1, 2]

[matrix.input_shapes]
"{TINY}" = "1x3x16x16"
"{SEGFAULT}" = "1x4"

[measure]
max_time = 0.3
timeout = 120
"""


SMALL = """
[assignment]
name = "small lab"
[matrix]
models = ["mnist-mlp"]
runtimes = ["torch", "onnxruntime"]
batches = [1, 2]
[measure]
max_time = 0.3
"""


def sweep(tmp_path: Path, db: Path, *args: str, text: str = ASSIGNMENT) -> subprocess.Popen[str]:
    path = tmp_path / "lab.toml"
    path.write_text(text)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "zooprof", "sweep", str(path), "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_a_segfaulting_model_fails_its_cells_and_ctrl_c_resumes(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    proc = sweep(tmp_path, db)
    seen = ""
    while "[5/12]" not in seen:  # halfway (mnist-mlp and half the tiny model done)
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line or proc.poll() is None, seen
        seen += line
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: run the same command again" in out
    with results.open(db) as store:
        first = store.query()
    assert 5 <= len(first) < 12 and all(r["status"] == "ok" for r in first)

    proc = sweep(tmp_path, db)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 1, err  # some cells failed
    assert f"{len(first)} of 12 cells already in" in err
    with results.open(db) as store:
        rows = store.query()
    assert len(rows) == 12 and len({r["cell_key"] for r in rows}) == 12  # no cell measured twice
    ok = [r for r in rows if r["status"] == "ok"]
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(ok) == 8 and len(failed) == 4
    assert {r["model"] for r in failed} == {"segfault_net"}
    assert all("crashed" in (r["reason"] or "") for r in failed), [r["reason"] for r in failed]
    assert "8 ok, 4 failed" in out or f"{8 - len(first)} ok, 4 failed" in out


@pytest.mark.slow
def test_two_sweeps_into_one_database_at_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    one_dir, two_dir = tmp_path / "a", tmp_path / "b"
    one_dir.mkdir()
    two_dir.mkdir()
    procs = [sweep(one_dir, db, "--rerun", text=SMALL), sweep(two_dir, db, "--rerun", text=SMALL)]
    for proc in procs:
        proc.communicate(timeout=900)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with results.open(db) as store:
        rows = store.query()
    assert len(rows) == 8 and all(r["status"] == "ok" for r in rows)  # both sweeps' 4 cells, none lost


def test_dry_run_lists_the_cells(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "lab.toml"
    path.write_text(ASSIGNMENT)
    code, out, err = run(capsys, "sweep", str(path), "--dry-run")
    assert code == 0 and out.splitlines()[0] == "segfault lab: 12 cells"
    assert f"  {TINY} onnxruntime b2" in out


def test_bad_assignment_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "lab.toml"
    path.write_text("[assignment]\nname = 'x'\n[matrix]\nmodels = ['m']\nbatches = [0]\n")
    code, out, err = run(capsys, "sweep", str(path))
    assert code == 2 and "every value must be 1 or more" in err and "Traceback" not in err


def test_ssh_boards_of_a_pool_are_checked_before_anything_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "lab.toml"
    path.write_text(SMALL)
    db = tmp_path / "runs.db"
    code, _, err = run(capsys, "sweep", str(path), "--db", str(db), "--cluster", "auto", "--boards", "nano=a@b@c")
    assert code == 2 and "malformed board 'a@b@c'" in err and "Traceback" not in err
    code, _, err = run(capsys, "sweep", str(path), "--cluster", "auto", "--boards", "nano", "--ssh-config", "x")
    assert code == 2 and "--ssh-config and --board-python are for boards reached over SSH" in err
    code, _, err = run(capsys, "sweep", str(path), "--boards", "nano=nano@192.168.55.1")
    assert code == 2 and "--boards is for --cluster" in err
    assert not db.exists()

"""Remote overhead: what `zooprof profile --on HOST` adds to a row over an open connection.

Starts the test suite's OpenSSH server on 127.0.0.1 (tests/remote/sshd.py; a fake Orin Nano tree),
profiles a tiny ONNX model on it 10 rows at a time (`--batch 1,1,...`: one connection, the agent
and model copied by the first run only), and reports per row: the whole row as the host saw it
(model-file check, agent call) minus the time the agent measured itself (its imports, the runtime's
session, the timed loop): ssh round trips, the board's interpreter start-up and the result's way
back. Target: under 0.5 s per row.

Then a sweep on the board (`zooprof sweep --on`): 8 cells (the same model, 8 repeats), and per
cell its wall time in the sweep minus the time the agent measured itself: what a remote cell
costs besides its measurement (connections, model-file check, the agent's start, the row
written), and how many ssh connections the board's server accepted for the whole sweep.

    .venv/bin/python bench/bench_remote.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 0.5
ROWS = 10
SWEEP_CELLS = 8


def main() -> int:
    from tests.remote.sshd import LocalSshd, board_env, missing
    from tests.runtimes.onnx_models import tiny_onnx
    from tests.sensors import fake_boards as fb

    why = missing()
    if why:
        print(f"bench_remote: skipped: {why}")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        sshd = LocalSshd(tmp / "sshd").start()
        try:
            fb.orin_nx(tmp / "board-root")
            fb.orin_nano_board(tmp / "board-root")
            env = {**os.environ, **board_env(tmp)}
            model = tiny_onnx(tmp / "tiny.onnx")
            batches = ",".join(["1"] * ROWS)
            out = tmp / "r.json"
            for attempt in ("first run (copies the agent and the model)", "second run (copies nothing)"):
                cmd = [sys.executable, "-m", "zooprof", "profile", str(model), "--on", "zp-board"]
                cmd += ["--ssh-config", str(sshd.config), "--batch", batches, "--max-time", "0.2", "-o", str(out)]
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
                if proc.returncode != 0:
                    print(proc.stderr[-2000:])
                    return 1
                rows = json.loads(out.read_text())["measurements"]
                overhead = [r["worker_seconds"] - r["remote"]["agent_s"] for r in rows]
                call = [r["remote"]["overhead_s"] for r in rows]
                print(
                    f"{attempt}: {len(rows)} rows; per row outside the agent: median {statistics.median(overhead):.3f} s "
                    f"(max {max(overhead):.3f} s; the agent call alone {statistics.median(call):.3f} s)"
                )
            ok = statistics.median(overhead) < TARGET_S
            print(f"target under {TARGET_S} s per row over an open connection: {'met' if ok else 'NOT met'}")
            with mock.patch.dict(os.environ, board_env(tmp)):
                return sweep_case(tmp, sshd, model) or (0 if ok else 1)
        finally:
            sshd.stop()


def sweep_case(tmp: Path, sshd: Any, model: Path) -> int:
    """A sweep of SWEEP_CELLS cells on the board: per cell, wall time less the agent's own."""
    from zooprof import results
    from zooprof.sweep.matrix import load_assignment
    from zooprof.sweep.run import SweepOptions, sweep

    lab = tmp / "remote-lab.toml"
    lab.write_text(
        f'[assignment]\nname = "remote overhead"\n[matrix]\nmodels = ["{model}"]\nruntimes = ["onnxruntime"]\n'
        f"repeats = {SWEEP_CELLS}\n[measure]\nmax_time = 0.2\n"
    )
    walls: list[float] = []
    began: dict[str, float] = {}

    def progress(info: dict[str, Any]) -> None:
        if info.get("phase") == "measuring":
            began[info["label"]] = time.monotonic()
        elif info.get("phase") == "done":
            walls.append(time.monotonic() - began[info["label"]])

    before = sshd.logins()
    db = tmp / "remote-sweep.db"
    started = time.monotonic()
    options = SweepOptions(db=db, resume=False, on="zp-board", ssh_config=str(sshd.config))
    report = sweep(load_assignment(lab), options, progress)
    whole = time.monotonic() - started
    logins = sshd.logins() - before
    with results.open(db) as store:
        agent = [r.measurements[0]["remote"]["agent_s"] for r in store.results()]
    if report.ok != SWEEP_CELLS or len(agent) != len(walls):
        print(f"sweep on the board: {report.ok} of {SWEEP_CELLS} cells ok: {report.failures}")
        return 1
    per_cell = [wall - own for wall, own in zip(walls, agent, strict=True)]
    print(
        f"sweep --on, {SWEEP_CELLS} cells: {logins} ssh connections; per cell outside the agent: first "
        f"{per_cell[0]:.3f} s, the rest median {statistics.median(per_cell[1:]):.3f} s "
        f"(max {max(per_cell[1:]):.3f} s); the whole sweep {whole:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

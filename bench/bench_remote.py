"""Remote overhead: what `zooprof profile --on HOST` adds to a row over an open connection.

Starts the test suite's OpenSSH server on 127.0.0.1 (tests/remote/sshd.py; a fake Orin Nano tree),
profiles a tiny ONNX model on it 10 rows at a time (`--batch 1,1,...`: one connection, the agent
and model copied by the first run only), and reports per row: the whole row as the host saw it
(model-file check, agent call) minus the time the agent measured itself (its imports, the runtime's
session, the timed loop): ssh round trips, the board's interpreter start-up and the result's way
back. Target: under 0.5 s per row.

    .venv/bin/python bench/bench_remote.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 0.5
ROWS = 10


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
            return 0 if ok else 1
        finally:
            sshd.stop()


if __name__ == "__main__":
    sys.exit(main())

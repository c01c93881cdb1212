"""A board reached over ssh: the agent and model files kept in its cache by content hash, the
agent run with a job.

Board cache (default ~/.cache/zooprof on the board; `ZOOPROF_REMOTE_CACHE` moves it):
  agent-<hash>/   agent.py and the zooprof modules it imports (zooprof.remote.BOARD_MODULES)
  models/<hash><suffix>   model files, by the sha256 of their bytes
  engines/        TensorRT engines the agent built
The agent runs under the board's `python3` (`--board-python` or `ZOOPROF_REMOTE_PYTHON` for
another, e.g. a virtual environment's). A file is copied only when the board lacks it (one `test -e` per file), into a temporary name
renamed when complete, so an interrupted copy never looks cached.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zooprof.remote import BOARD_MODULES
from zooprof.remote.ssh import RemoteError, Ssh, Target, last_line, quote
from zooprof.result.cache import file_hash

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
EXIT_MARK = "zooprof-agent-exit"
STEP_TIMEOUT_S = 60.0
Progress = Callable[[dict[str, Any]], None]


def agent_bundle() -> tuple[bytes, str]:
    """(tar.gz bytes, content hash) of the agent folder: agent.py at the top, the shared modules
    under zooprof/ with empty package __init__ files. Deterministic: same sources, same hash."""
    files: dict[str, bytes] = {"agent.py": (PACKAGE_ROOT / "zooprof/remote/agent.py").read_bytes()}
    for module in BOARD_MODULES:
        if module != "zooprof/remote/agent.py":
            files[module] = (PACKAGE_ROOT / module).read_bytes()
    for module in list(files):
        parts = Path(module).parts[:-1]
        for i in range(1, len(parts) + 1):
            files.setdefault("/".join(parts[:i]) + "/__init__.py", b"")
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), 0, 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue(), digest.hexdigest()[:16]


class Board:
    """One board for the length of a command (or a whole sweep): one ssh connection, the agent
    checked and copied at most once. A context manager: the connection is closed on leaving."""

    def __init__(self, target: Target, ssh_config: str | None = None, python: str | None = None) -> None:
        self.target = target
        self.ssh = Ssh(target, ssh_config)
        self.cache = os.environ.get("ZOOPROF_REMOTE_CACHE") or "~/.cache/zooprof"
        self.python = python or os.environ.get("ZOOPROF_REMOTE_PYTHON") or "python3"
        self.agent_dir: str | None = None
        self.agent_hash: str | None = None
        self.copied: dict[str, bool] = {}

    def _path(self, *parts: str) -> str:
        return "/".join([self.cache.rstrip("/"), *parts])

    def ensure_agent(self, progress: Progress | None = None) -> str:
        """The agent's folder on the board, copied there if the board lacks this version."""
        if self.agent_dir is not None:
            return self.agent_dir
        data, digest = agent_bundle()
        folder = self._path(f"agent-{digest}")
        present = self.ssh.run(
            f"test -f {quote(folder + '/agent.py')} && echo present || echo missing",
            "checking the agent",
            STEP_TIMEOUT_S,
        )
        if present.strip() == "present":
            self.copied["agent"] = False
            if progress:
                progress({"phase": f"agent {digest} already on the board", "note": True})
        else:
            part = folder + ".part"
            self.ssh.run(
                f"rm -rf {quote(part)} && mkdir -p {quote(part)} && tar -xzf - -C {quote(part)} && "
                f"rm -rf {quote(folder)} && mv {quote(part)} {quote(folder)}",
                "copying the agent",
                STEP_TIMEOUT_S,
                data,
            )
            self.copied["agent"] = True
            if progress:
                progress({"phase": f"agent {digest} copied ({len(data) / 1024:.0f} kB)", "note": True})
        self.agent_dir, self.agent_hash = folder, digest
        return folder

    def ensure_file(self, local: Path, progress: Progress | None = None, timeout: float = 600.0) -> tuple[str, str]:
        """(path on the board, sha256) of a local model file, copied if the board lacks it."""
        digest = file_hash(str(local))
        remote = self._path("models", digest[:32] + "".join(local.suffixes[-1:]))
        present = self.ssh.run(
            f"test -f {quote(remote)} && echo present || echo missing", "checking the model file", STEP_TIMEOUT_S
        )
        if present.strip() == "present":
            self.copied[digest] = False
            if progress:
                progress({"phase": f"model {local.name} already on the board", "note": True})
            return remote, digest
        part = remote + ".part"
        self.ssh.run(
            f"mkdir -p {quote(self._path('models'))} && cat > {quote(part)} && mv {quote(part)} {quote(remote)}",
            f"copying {local.name} to the board",
            timeout,
            local.read_bytes(),
        )
        self.copied[digest] = True
        if progress:
            progress({"phase": f"model {local.name} copied ({local.stat().st_size / 1e6:.1f} MB)", "note": True})
        return remote, digest

    def agent(self, command: str, job: dict[str, Any], timeout: float, progress: Progress | None = None) -> dict:
        """Run the agent's `command` with `job`; its result dict. RemoteError when the connection
        is lost, the agent dies or prints no result."""
        folder = self.ensure_agent(progress)
        job = {**job, "cache": self.cache}
        result: dict[str, Any] = {}
        stray: list[str] = []

        def on_line(line: str) -> None:
            try:
                message = json.loads(line)
            except ValueError:
                stray.append(line)
                return
            if "progress" in message and progress:
                progress(message["progress"])
            elif "result" in message:
                result.update(message["result"])

        started = time.perf_counter()
        # not exec'd: the shell outlives the agent and says how it ended, so a killed agent (exit 128+N)
        # is told apart from a lost connection (ssh's own 255, no marker)
        remote = (
            f'cd {quote(folder)} && {quote(self.python)} agent.py {command}; s=$?; echo "{EXIT_MARK} $s" >&2; exit $s'
        )
        code, stderr = self.ssh.stream(
            remote, f"the agent's {command}", timeout, json.dumps(job).encode(), on_line, EXIT_MARK
        )
        if not result:
            status = agent_status(stderr)
            why = last_line("\n".join(x for x in stderr.splitlines() if EXIT_MARK not in x)) or (
                stray[-1] if stray else ""
            )
            if status is not None and status > 128:
                died = f"the agent was killed (signal {status - 128})"
            elif status:
                died = f"the agent failed (exit {status})"
            else:
                died = "the agent printed no result"
            raise RemoteError(f"{died} on {self.target}" + (f": {why}" if why else ""))
        call = time.perf_counter() - started
        agent_s = float(result.get("agent_seconds") or 0.0)
        # connect (or reuse the connection), start the interpreter, return the result: what the agent did not time
        result["remote"] = {"call_s": round(call, 4), "agent_s": agent_s, "overhead_s": round(call - agent_s, 4)}
        return result

    def close(self) -> None:
        self.ssh.close()

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def agent_status(stderr: str) -> int | None:
    """The agent's exit status from the remote shell's marker line, or None (no marker: the shell
    never got to say it, e.g. the connection was lost)."""
    for line in reversed((stderr or "").splitlines()):
        if line.startswith(EXIT_MARK):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None

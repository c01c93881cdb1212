"""The system OpenSSH client, one multiplexed connection per board.

`ssh` itself, so ~/.ssh/config hosts, keys, agents and ProxyJump work as users expect;
`--ssh-config FILE` passes `-F FILE`. BatchMode (never a password prompt that would hang),
strict host key checking as the user's configuration says (never turned off), a ControlMaster
socket in a private temporary folder (every later step reuses the connection), keep-alives so a
dead link is noticed, and a time limit on every step. ssh's exit status 255 is ssh's own error:
a step that ends so is "connection lost" (or "cannot connect" before anything ran), with ssh's
message.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zooprof.errors import UsageError, ZooprofError

SSH_ERROR = 255
CONNECT_TIMEOUT_S = 10
KEEPALIVE_S = 5
KEEPALIVE_COUNT = 3


class RemoteError(ZooprofError):
    """A step on the board failed; the message is the row's reason."""


@dataclass(frozen=True)
class Target:
    host: str  # a hostname, an address or a ~/.ssh/config alias
    user: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        text = f"{self.user}@{self.host}" if self.user else self.host
        return f"{text}:{self.port}" if self.port else text


def parse_target(text: str) -> Target:
    """'nano@192.168.55.1', 'orin' (a ~/.ssh/config host), 'user@host:2222', 'user@[::1]:2222'."""
    m = re.fullmatch(r"(?:([^@\s:]+)@)?(\[[0-9a-fA-F:.]+\]|[^@\s:\[\]]+)(?::(\d+))?", (text or "").strip())
    if not m:
        raise UsageError(f"malformed board '{text}'", "give user@host, user@host:port or a ~/.ssh/config host name")
    port = int(m.group(3)) if m.group(3) else None
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"port {port} of '{text}' is out of range", "give a port from 1 to 65535")
    return Target(m.group(2).strip("[]"), m.group(1), port)


def last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


class Ssh:
    """One board over ssh. `run` (a command, bytes in, output back) and `stream` (lines as they
    come) each have a time limit; `close` ends the shared connection."""

    def __init__(self, target: Target, config: str | None = None, connect_timeout: float = CONNECT_TIMEOUT_S) -> None:
        exe = shutil.which("ssh")
        if exe is None:
            raise UsageError("the OpenSSH client (ssh) is not installed", "install openssh-client")
        if config and not Path(config).is_file():
            raise UsageError(f"--ssh-config {config} does not exist", "give an ssh_config file")
        self.target = target
        self._dir = tempfile.mkdtemp(prefix="zp-ssh-")  # short: a socket path is limited to ~100 bytes
        self.base = [
            exe,
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={int(connect_timeout)}",
            "-o",
            f"ServerAliveInterval={KEEPALIVE_S}",
            "-o",
            f"ServerAliveCountMax={KEEPALIVE_COUNT}",
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={self._dir}/%C",
            "-o",
            "ControlPersist=120",
        ]
        if config:
            self.base += ["-F", str(config)]
        if target.port:
            self.base += ["-p", str(target.port)]
        self.destination = f"{target.user}@{target.host}" if target.user else target.host
        self.connected = False

    def command(self, remote: str) -> list[str]:
        return [*self.base, self.destination, remote]

    def _failure(self, what: str, stderr: str, code: int) -> RemoteError:
        message = last_line(stderr) or f"ssh exited with {code}"
        if code == SSH_ERROR:
            if not self.connected:
                return RemoteError(f"cannot connect to {self.target}: {message}")
            return RemoteError(f"connection lost during {what} ({message})")
        return RemoteError(f"{what} failed on {self.target} (exit {code}): {message}")

    def run(self, remote: str, what: str, timeout: float, data: bytes | None = None) -> str:
        """Run `remote` (a shell command line), `data` on its stdin; its stdout, or RemoteError."""
        try:
            proc = subprocess.run(self.command(remote), input=data or b"", capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RemoteError(f"{what} on {self.target} did not finish in {timeout:g} s") from None
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode != 0:
            raise self._failure(what, stderr, proc.returncode)
        self.connected = True
        return proc.stdout.decode("utf-8", "replace")

    def stream(
        self,
        remote: str,
        what: str,
        timeout: float,
        data: bytes,
        on_line: Callable[[str], None],
        marker: str | None = None,
    ) -> tuple[int, str]:
        """Run `remote` with `data` on stdin, calling `on_line` for each stdout line as it arrives.
        (exit code, stderr); RemoteError on ssh's own failure (exit 255 without `marker` in
        stderr: the remote command printed it, so the connection held) or when `timeout` passes
        (the process is killed, never waited on forever)."""
        proc = subprocess.Popen(
            self.command(remote), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        err_chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        started = time.monotonic()
        try:
            try:
                proc.stdin.write(data)  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
            for raw in proc.stdout:  # type: ignore[union-attr]
                on_line(raw.decode("utf-8", "replace").rstrip("\n"))
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(5)
        stderr = b"".join(err_chunks).decode("utf-8", "replace")
        if time.monotonic() - started >= timeout and code < 0:
            raise RemoteError(f"{what} on {self.target} did not finish in {timeout:g} s (--timeout)")
        if code == SSH_ERROR and not (marker and marker in stderr):
            raise self._failure(what, stderr, code)
        self.connected = True
        return code, stderr

    def close(self) -> None:
        try:
            subprocess.run(
                [*self.base, "-O", "exit", self.destination],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
            )
        except (OSError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self._dir, ignore_errors=True)


def quote(text: str) -> str:
    """A path for the remote shell; a leading ~/ stays expandable ("$HOME"/...)."""
    if text.startswith("~/"):
        return '"$HOME"/' + shlex.quote(text[2:])
    return shlex.quote(text)

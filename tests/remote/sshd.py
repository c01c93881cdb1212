"""A real OpenSSH server on 127.0.0.1 for the remote-board tests: throw-away host and client keys,
strict host key checking through a known_hosts file, an ssh_config naming the board `zp-board`,
and a fake Jetson tree (Orin Nano, JetPack 6) for the agent to read. The server logs each login
(`logins()`: how many ssh connections were made, one per ControlMaster). `make test` installs
openssh-server and openssh-client; without them the tests that need the server skip."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def missing() -> str | None:
    if not Path(SSHD).is_file():
        return "openssh-server is not installed (make test installs it)"
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "openssh-client is not installed (make test installs it)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalSshd:
    """sshd -D on a free port, in its own process group (so a test can drop every connection)."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("host_key", "id_ed25519"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True, timeout=30
            )
        (folder / "authorized_keys").write_text((folder / "id_ed25519.pub").read_text())
        os.chmod(folder / "authorized_keys", 0o600)
        self.port = free_port()
        self.user = getpass.getuser()
        (folder / "sshd_config").write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {folder / 'host_key'}",
                    f"PidFile {folder / 'sshd.pid'}",
                    f"AuthorizedKeysFile {folder / 'authorized_keys'}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "StrictModes no",
                    "UsePAM no",
                    "MaxSessions 50",
                    "LogLevel INFO",  # one "Accepted publickey" line per connection: logins()
                    "",
                ]
            )
        )
        host_pub = (folder / "host_key.pub").read_text().split()
        (folder / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.config = folder / "ssh_config"
        self.config.write_text(
            "\n".join(
                [
                    "Host zp-board",
                    "  HostName 127.0.0.1",
                    f"  Port {self.port}",
                    f"  User {self.user}",
                    f"  IdentityFile {folder / 'id_ed25519'}",
                    "  IdentitiesOnly yes",
                    f"  UserKnownHostsFile {folder / 'known_hosts'}",
                    "  GlobalKnownHostsFile /dev/null",
                    "  StrictHostKeyChecking yes",
                    "  LogLevel ERROR",
                    "",
                ]
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalSshd:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation folder
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "sshd.log", "wb"),  # noqa: SIM115 (open while sshd runs)
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.dir / 'sshd.log').read_text()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening in 15 s")

    def logins(self) -> int:
        """How many ssh connections the server has accepted so far (each one a login: a multiplexed
        ssh session over an open ControlMaster is not one)."""
        log = self.dir / "sshd.log"
        return log.read_text(errors="replace").count("Accepted publickey for ") if log.is_file() else 0

    def kill_all(self) -> None:
        """Kill sshd and every sshd process it forked for a connection (not the commands those
        run): each connection drops at once, as when a board goes away."""
        import psutil

        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            family = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        for child in family:
            try:
                if "sshd" in child.name() or "sshd" in " ".join(child.cmdline()[:1]):
                    child.kill()
            except psutil.NoSuchProcess:
                pass
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        self.kill_all()


def board_env(tmp: Path) -> dict[str, str]:
    """Environment for a command that measures on `zp-board`: the board's cache, its Python (this
    interpreter, which has onnxruntime) and its fake Jetson tree."""
    return {
        "ZOOPROF_REMOTE_CACHE": str(tmp / "board-cache"),
        "ZOOPROF_REMOTE_PYTHON": sys.executable,
        "ZOOPROF_REMOTE_SYSFS_ROOT": str(tmp / "board-root"),
    }


def start_board(tmp: Path) -> LocalSshd:
    """The server on 127.0.0.1 and the fake Orin Nano tree its agent reads (under tmp/board-root,
    where board_env(tmp) points the agent)."""
    from tests.sensors import fake_boards as fb

    fb.orin_nx(tmp / "board-root")
    fb.orin_nano_board(tmp / "board-root")
    return LocalSshd(tmp / "sshd").start()


def open_connections(sshd: LocalSshd, wait_s: float = 10.0) -> int:
    """How many connections the server still serves (its per-connection processes), once those
    closing have had up to `wait_s` to go."""
    import psutil

    assert sshd.proc is not None
    deadline = time.monotonic() + wait_s
    while True:
        left = len(psutil.Process(sshd.proc.pid).children())
        if left == 0 or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)

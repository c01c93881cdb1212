"""Run one measurement in a fresh worker process with a time limit.

A segfault in a native library, an exception or a hang costs that measurement, not the
run: the parent gets a `WorkerOutcome` with the reason and carries on. The child sends
progress messages and one final message through a pipe; the parent polls with a deadline
and kills the child when it passes.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Job = Callable[..., dict[str, Any]]
Progress = Callable[[dict[str, Any]], None]


@dataclass
class WorkerOutcome:
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None  # "exception" | "crash" | "timeout"
    reason: str | None = None  # one line for the report
    detail: str | None = None  # traceback text, for --debug
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "failure": self.failure, "reason": self.reason, "seconds": round(self.seconds, 3)}


class _Reporter:
    """Given to the job in the child: `report(progress_dict)` forwards it to the parent."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def __call__(self, info: dict[str, Any]) -> None:
        try:
            self._conn.send(("progress", info))
        except (OSError, ValueError):
            pass


def _child(job: Job, args: tuple[Any, ...], conn: Any) -> None:
    # framework start-up lines (TensorFlow, absl, TFLite) are not the report's: silenced unless --debug
    from zooprof.frontends.compat import quiet_stderr

    try:
        with quiet_stderr():
            result = job(*args, report=_Reporter(conn))
        conn.send(("done", result))
    except BaseException as exc:  # everything must reach the parent as a reason
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        conn.send(("error", f"{type(exc).__name__}: {first}".rstrip(": "), traceback.format_exc()))
    finally:
        conn.close()


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


@contextlib.contextmanager
def _main_hidden(hide: bool) -> Iterator[None]:
    """spawn re-runs the parent's __main__ script in the child. A user's script that calls
    zooprof.profile without an `if __name__ == "__main__":` guard would then run again in
    every worker (and a script from stdin cannot be re-run at all). Jobs live in importable
    modules, so hide __main__ while the child starts, unless the job itself is in __main__."""
    main = sys.modules.get("__main__")
    if not hide or main is None:
        yield
        return
    spec = getattr(main, "__spec__", None)
    path = getattr(main, "__file__", None)
    main.__spec__ = None  # type: ignore[assignment]
    if path is not None:
        del main.__file__
    try:
        yield
    finally:
        main.__spec__ = spec  # type: ignore[assignment]
        if path is not None:
            main.__file__ = path


def run_isolated(job: Job, args: tuple[Any, ...], timeout: float, progress: Progress | None = None) -> WorkerOutcome:
    """Run `job(*args, report=...)` in a spawned process; it must return a picklable dict."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(job, args, child), daemon=True)
    start = time.monotonic()
    with _main_hidden(getattr(job, "__module__", None) != "__main__"):
        proc.start()
    child.close()
    deadline = start + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                proc.kill()
                proc.join(5)
                return WorkerOutcome(
                    False,
                    failure="timeout",
                    reason=f"timed out after {timeout:g} s (--timeout)",
                    seconds=time.monotonic() - start,
                )
            try:
                ready = parent.poll(min(remaining, 0.2))
            except (OSError, EOFError):
                ready = False
            if ready:
                try:
                    message = parent.recv()
                except (EOFError, OSError):
                    message = None
                if message is None:
                    break
                if message[0] == "progress":
                    if progress:
                        progress(message[1])
                    continue
                proc.join(10)
                if message[0] == "done":
                    return WorkerOutcome(True, result=message[1], seconds=time.monotonic() - start)
                return WorkerOutcome(
                    False, failure="exception", reason=message[1], detail=message[2], seconds=time.monotonic() - start
                )
            if not proc.is_alive():
                # drain a message sent just before exiting
                if parent.poll(0):
                    continue
                break
        proc.join(5)
        code = proc.exitcode
        reason = (
            f"worker crashed ({_signal_name(code)})"
            if code is not None and code < 0
            else f"worker exited with code {code} without a result"
        )
        return WorkerOutcome(False, failure="crash", reason=reason, seconds=time.monotonic() - start)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        parent.close()

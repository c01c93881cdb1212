"""Run one measurement in a fresh worker process with a time limit and a memory limit.

A segfault in a native library, an exception, a hang or a runaway allocation costs that
measurement, not the run: the parent gets a `WorkerOutcome` with the reason and carries on.
The child sends progress messages and one final message through a pipe; the parent polls
with a deadline, samples the resident memory of the child and its descendants between polls
(zooprof.runtimes.memory_limit), and kills them when the deadline or the limit passes.
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

from zooprof.runtimes import memory_limit as ml

Job = Callable[..., dict[str, Any]]
Progress = Callable[[dict[str, Any]], None]


@dataclass
class WorkerOutcome:
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None  # "exception" | "crash" | "timeout" | "memory"
    reason: str | None = None  # one line for the report
    detail: str | None = None  # traceback text, for --debug
    seconds: float = 0.0
    peak_rss_bytes: int | None = None  # the worker's and its descendants' resident memory, highest sample
    memory_limit_bytes: int | None = None  # the limit it ran under (None: none)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failure": self.failure,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
            "peak_rss_bytes": self.peak_rss_bytes,
            "memory_limit_bytes": self.memory_limit_bytes,
        }


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
        name = signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
    if name == "SIGKILL":  # not ours (ours are reported as timeout or memory): say who usually sends it
        return "SIGKILL: killed from outside, as the kernel's out-of-memory killer does"
    return name


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


def _stop(proc: Any, watch: ml.MemoryWatch) -> None:
    """Kill the worker and every descendant it started (trtexec, a converter)."""
    watch.kill_descendants()
    proc.kill()
    proc.join(5)


def run_isolated(
    job: Job,
    args: tuple[Any, ...],
    timeout: float,
    progress: Progress | None = None,
    memory_limit: int | str | None = None,
) -> WorkerOutcome:
    """Run `job(*args, report=...)` in a spawned process; it must return a picklable dict.

    `memory_limit` as `ProfileOptions.memory_limit`: bytes, `memory_limit.NO_LIMIT`, or None
    for the default (a share of the memory available now, `memory_limit.resolve`)."""
    limit = ml.resolve(memory_limit)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(job, args, child), daemon=True)
    start = time.monotonic()
    with _main_hidden(getattr(job, "__module__", None) != "__main__"):
        proc.start()
    child.close()
    watch = ml.MemoryWatch(proc.pid, limit)
    deadline = start + timeout
    next_sample = start

    def outcome(ok: bool, **fields: Any) -> WorkerOutcome:
        return WorkerOutcome(
            ok,
            seconds=time.monotonic() - start,
            peak_rss_bytes=watch.peak or None,
            memory_limit_bytes=limit,
            **fields,
        )

    try:
        while True:
            now = time.monotonic()
            if now >= next_sample:
                watch.sample()
                next_sample = now + ml.SAMPLE_S
                if watch.over():
                    _stop(proc, watch)
                    reason = ml.over_limit_reason(watch.last, limit or 0, default=memory_limit is None)
                    return outcome(False, failure="memory", reason=reason)
            remaining = deadline - now
            if remaining <= 0:
                _stop(proc, watch)
                return outcome(False, failure="timeout", reason=f"timed out after {timeout:g} s (--timeout)")
            try:
                ready = parent.poll(max(min(remaining, next_sample - now), 0.0))
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
                watch.sample()  # the last look: the worker's high-water mark now covers its whole run
                proc.join(10)
                if message[0] == "done":
                    return outcome(True, result=message[1])
                return outcome(False, failure="exception", reason=message[1], detail=message[2])
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
        watch.kill_descendants()  # a crashed worker's children would run on as orphans
        return outcome(False, failure="crash", reason=reason)
    finally:
        if proc.is_alive():
            _stop(proc, watch)
        parent.close()

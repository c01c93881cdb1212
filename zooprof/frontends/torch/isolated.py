"""Reading a TorchScript or torch.export file runs what the file says (a TorchScript forward, a
deserialiser fed the file's graph): do it in a child process with a time limit and a memory limit,
so a forward that loops for ever or allocates gigabytes costs a one-line error, not the run.

The child is forked (torch is already imported: a TorchScript file reads in well under a second,
where a spawned worker would first spend seconds importing torch again), redirects its stdout and
stderr to /dev/null (torch logs tracebacks while it falls back), lowers its address-space limit
(RLIMIT_AS: what it has mapped now plus the budget) and sends its result back through a pipe. The
result is zooprof's own Graph, pickled by the child; nothing from the file is unpickled by the parent.

Limits (environment, generous by default):
    ZOOPROF_TRACE_TIMEOUT     seconds for reading one file (default 300)
    ZOOPROF_TRACE_MEMORY_GIB  memory the child may add to what it has mapped at the start
                              (default 4 GiB plus twice the file's size: loading reads the weights)
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import select
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from zooprof import errors
from zooprof.errors import UsageError, ZooprofError
from zooprof.sensors.proc_status import status_bytes

DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MEMORY_GIB = 4.0
OUT_OF_MEMORY = ("can't allocate memory", "DefaultCPUAllocator", "bad_alloc", "Cannot allocate memory")


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name}={text!r} is not a number", "unset it or give a positive number") from None
    if not value > 0 or value == float("inf"):
        raise UsageError(f"{name}={text!r} must be a positive number")
    return value


def limits(path: Path) -> tuple[float, float]:
    """(seconds, GiB) reading `path` may take (ZOOPROF_TRACE_TIMEOUT, ZOOPROF_TRACE_MEMORY_GIB)."""
    try:
        size_gib = path.stat().st_size / 2**30
    except OSError:
        size_gib = 0.0
    memory = _env_number("ZOOPROF_TRACE_MEMORY_GIB", round(DEFAULT_MEMORY_GIB + 2 * size_gib, 1))
    return _env_number("ZOOPROF_TRACE_TIMEOUT", DEFAULT_TIMEOUT_S), memory


def _address_limit(gib: float) -> int:
    """RLIMIT_AS for the child: what this process has mapped now plus `gib`, within any limit it has."""
    want = (status_bytes("VmSize") or 0) + int(gib * 2**30)
    for current in resource.getrlimit(resource.RLIMIT_AS):
        if current != resource.RLIM_INFINITY:
            want = min(want, current)
    return want


def _quiet() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _outcome(fn: Callable[..., Any], args: tuple[Any, ...], limit: int) -> tuple[str, Any]:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
        return "ok", fn(*args)
    except ZooprofError as exc:
        if any(s in exc.message for s in OUT_OF_MEMORY):  # an op's allocation failed, reported as its error
            return "memory", None
        return "zooprof", (type(exc).__name__, exc.message, exc.hint)
    except MemoryError:
        return "memory", None
    except BaseException as exc:  # the file's code failed: its reason, in one line
        text = str(exc).strip()
        if isinstance(exc, RuntimeError) and any(s in text for s in OUT_OF_MEMORY):
            return "memory", None
        first = text.splitlines()[0][:200] if text else ""
        return "exception", f"{type(exc).__name__}: {first}".rstrip(": ")


def _child(fn: Callable[..., Any], args: tuple[Any, ...], limit: int, write: int) -> None:
    code = 0
    try:
        _quiet()
        kind, value = _outcome(fn, args, limit)
        try:
            data = pickle.dumps((kind, value), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps(("memory", None))
        except Exception as exc:  # an unpicklable result is zooprof's bug: say so in one line
            data = pickle.dumps(("exception", f"result not transferable: {type(exc).__name__}"))
        view = memoryview(data)
        while view:
            view = view[os.write(write, view) :]
    except BaseException:  # nothing may escape a forked child: the parent reports the exit
        code = 3
    finally:
        os._exit(code)


def _read_all(read: int, pid: int, deadline: float) -> bytes | None:
    """The child's message, or None when the deadline passed (the child is then killed)."""
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            return None
        ready, _, _ = select.select([read], [], [], min(remaining, 1.0))
        if ready:
            chunk = os.read(read, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def run_limited(fn: Callable[..., Any], args: tuple[Any, ...], path: Path, doing: str) -> Any:
    """`fn(*args)` in a forked child under `limits()`; its return value, or a one-line UsageError
    ("PATH: DOING timed out after N s" / "ran out of memory (limit N GiB)" / the child's error).
    `fn` must be a module-level function whose result pickles."""
    timeout, gib = limits(path)
    limit = _address_limit(gib)
    gib = round(max(limit - (status_bytes("VmSize") or 0), 0) / 2**30, 1)  # what the child may add, as reported
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        _child(fn, args, limit, write)
    os.close(write)
    try:
        data = _read_all(read, pid, time.monotonic() + timeout)
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    if data is None:
        raise UsageError(
            f"{path}: {doing} timed out after {timeout:g} s",
            "the file's code runs too long; raise ZOOPROF_TRACE_TIMEOUT=SECONDS if it is only slow",
        )
    if not data:
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            raise UsageError(f"{path}: {doing} crashed ({name}; memory limit {gib:g} GiB)")
        raise UsageError(f"{path}: {doing} stopped without a result (exit {os.waitstatus_to_exitcode(status)})")
    kind, value = pickle.loads(data)  # our own child's (kind, Graph) message, not the file's bytes
    if kind == "ok":
        return value
    if kind == "memory":
        raise UsageError(
            f"{path}: {doing} ran out of memory (limit {gib:g} GiB)",
            "raise ZOOPROF_TRACE_MEMORY_GIB=GIB if the model really needs more",
        )
    if kind == "zooprof":
        name, message, hint = value
        cls = getattr(errors, name, UsageError)
        if not (isinstance(cls, type) and issubclass(cls, ZooprofError)) or cls.exit_code != 2:
            cls = UsageError
        raise cls(message, hint)
    raise UsageError(f"{path}: {doing} failed ({value})")


@contextlib.contextmanager
def no_unsafe_unpickling(path: Path) -> Iterator[None]:
    """While active, torch.load only loads plain tensors and containers (weights_only=True): a call
    asking for `weights_only=False` (torch.export.load's fallback) is refused, as are pickle.loads and
    TorchScript's object unpickler. For reading untrusted files in the child."""
    import torch

    real_load = torch.load

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise UsageError(
            f"{path} needs --trust: it holds pickled Python objects, and unpickling them can run code",
            "pass --trust only if you trust its source",
        )

    def guarded_load(*args: Any, weights_only: bool | None = None, **kwargs: Any) -> Any:
        if weights_only is False:
            refuse()
        return real_load(*args, weights_only=True, **kwargs)

    saved = [(torch, "load", real_load), (pickle, "loads", pickle.loads), (pickle, "load", pickle.load)]
    pickle_obj = getattr(torch._C, "_pickle_load_obj", None)
    if pickle_obj is not None:
        saved.append((torch._C, "_pickle_load_obj", pickle_obj))
    torch.load = guarded_load  # type: ignore[assignment]
    pickle.loads = refuse  # type: ignore[assignment]
    pickle.load = refuse  # type: ignore[assignment]
    if pickle_obj is not None:
        torch._C._pickle_load_obj = refuse
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)

"""Guards for framework combinations that crash a process.

With TensorFlow loaded, a later `import triton` (which PyTorch does lazily, e.g. the first
time some ops run) dies with a segmentation fault; triton first, then TensorFlow, is fine.
zooprof imports triton before TensorFlow itself (`triton_first`, used by frontends.keras and
the tensorflow runtime), and where TensorFlow is already loaded (a user's script, a notebook)
it blocks triton before PyTorch would import it (`block_triton_after_tensorflow`): PyTorch
then behaves as without triton, which static analysis and CPU runs never need.

TensorFlow's start-up chatter (absl's "All log messages before absl::InitializeLog() ...", "Could
not find cuda drivers ...", the oneDNN notice, TFLite's XNNPACK line) is silenced here, in one
place: `quiet_framework_env` before an import, `quiet_stderr` around code that loads a framework
(a measurement worker runs its whole job inside it). `--debug` (or ZOOPROF_DEBUG=1) keeps it all.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


def block_triton_after_tensorflow() -> bool:
    """Make `import triton` fail cleanly if TensorFlow is loaded and triton is not. Returns
    whether it did."""
    if "tensorflow" in sys.modules and "triton" not in sys.modules:
        sys.modules["triton"] = None  # type: ignore[assignment]  # import raises ImportError
        return True
    return False


def triton_first() -> None:
    """Import triton (when installed) before TensorFlow: with TensorFlow loaded first, a later
    `import triton` (PyTorch imports it for torchvision and torch._dynamo) crashes the process
    with a segmentation fault. The other order is safe, and triton alone imports in ~0.2 s."""
    import importlib.util

    if "tensorflow" in sys.modules or "triton" in sys.modules:
        return
    try:
        if importlib.util.find_spec("triton") is not None:
            import triton  # noqa: F401
    except Exception:  # a broken triton must not stop a Keras model from being read
        pass


#: TensorFlow's and its libraries' own logging, asked for fatal errors only (TF_CPP_MIN_LOG_LEVEL 3
#: also hides the oneDNN notice); absl's "All log messages before absl::InitializeLog()" line and
#: TFLite's "INFO: Created TensorFlow Lite XNNPACK delegate" ignore these, hence `quiet_stderr`.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR", "GLOG_minloglevel": "3"}


def framework_logs_wanted() -> bool:
    """Whether the user asked to see framework logs: `--debug` on the command line (a spawned
    worker has its parent's sys.argv) or ZOOPROF_DEBUG set (the Python API)."""
    return "--debug" in sys.argv[1:] or os.environ.get("ZOOPROF_DEBUG", "") not in ("", "0")


def quiet_framework_env() -> None:
    """Before TensorFlow is imported: its C++ logging to fatal errors only, unless --debug.
    A value the user set is kept."""
    if framework_logs_wanted():
        return
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """The process's file descriptor 2 sent to /dev/null (native libraries write there, not to
    sys.stderr) for the block, unless --debug; the environment of `quiet_framework_env` too."""
    quiet_framework_env()
    if framework_logs_wanted():
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        with contextlib.suppress(OSError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)

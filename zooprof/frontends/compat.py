"""Guards for framework combinations that crash a process.

With TensorFlow loaded, a later `import triton` (which PyTorch does lazily, e.g. the first
time some ops run) dies with a segmentation fault; triton first, then TensorFlow, is fine.
zooprof imports triton before TensorFlow itself (`triton_first`, used by frontends.keras and
the tensorflow runtime), and where TensorFlow is already loaded (a user's script, a notebook)
it blocks triton before PyTorch would import it (`block_triton_after_tensorflow`): PyTorch
then behaves as without triton, which static analysis and CPU runs never need.
"""

from __future__ import annotations

import sys


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

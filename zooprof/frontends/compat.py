"""Guards for framework combinations that crash a process.

With TensorFlow loaded, a later `import triton` (which PyTorch does lazily, e.g. the first
time some ops run) dies with a segmentation fault; triton first, then TensorFlow, is fine.
zooprof imports triton before TensorFlow itself (frontends.keras), and where TensorFlow is
already loaded (a user's script, a notebook) it blocks triton before PyTorch would import
it: PyTorch then behaves as without triton, which static analysis and CPU runs never need.
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

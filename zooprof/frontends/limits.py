"""Limits that make a hostile model file cheap to refuse, shared by the binary-format frontends.

A model file is data: before a frontend reads one, `check_model_file` makes sure it is a
regular file (not a fifo, a device such as /dev/zero, or a folder) no larger than the
format's cap; tensor shapes a file declares are checked against `MAX_DIM` and
`MAX_TENSOR_ELEMENTS` by each format's validation helper (frontends/onnx/validate.py,
frontends/tflite/validate.py). The caps are generous (no real model comes near them) and
documented in docs/onnx.md and docs/keras-tflite.md; the file size caps can be raised with
an environment variable (bytes).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from zooprof.errors import UsageError

#: The largest size a file may declare for one tensor dimension (2^28): larger is no real
#: model's shape but a corrupt or hostile one (INT32_MAX placeholders, 1e9 x 1e9 weights).
MAX_DIM = 2**28

#: The most elements one declared tensor may have (2^36, 256 GiB of float32).
MAX_TENSOR_ELEMENTS = 2**36


def size_cap(env_var: str, default: int) -> int:
    """The file size cap: `env_var` (bytes) if set to a positive integer, else `default`."""
    text = os.environ.get(env_var, "").strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            raise UsageError(
                f"{env_var}={text!r} is not a number of bytes", f"set {env_var} to an integer, e.g. {default}"
            ) from None
        if value > 0:
            return value
    return default


def check_model_file(path: Path, what: str, env_var: str, default_cap: int) -> int:
    """The size of `path` after checking it is a regular file within the cap; a UsageError if not."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist", "check the path") from None
    except OSError as exc:
        raise UsageError(f"{path} cannot be read: {exc.strerror or exc}", "check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a folder, not {what}", f"give the path of the {what}")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(
            f"{path.name} is not a regular file (a device, a pipe or a socket), not {what}",
            "give the path of a model file saved on disk",
        )
    cap = size_cap(env_var, default_cap)
    if st.st_size > cap:
        raise UsageError(
            f"{path.name} is {st.st_size:,} bytes, more than zooprof reads as {what} ({cap:,} bytes)",
            f"set {env_var} to a larger number of bytes if the file is genuine",
        )
    return st.st_size


def check_dims(dims: list[int] | tuple[int, ...], where: str, allow: tuple[int, ...] = ()) -> str | None:
    """Why `dims` is not a shape a file may declare (a negative or huge dimension, too many
    elements), or None. `allow` lists special values accepted as they are (e.g. -1: dynamic)."""
    n = 1
    for i, d in enumerate(dims):
        if d in allow:
            continue
        if d < 0:
            return f"{where} has the dimension {d} at axis {i} (dimensions are >= 0)"
        if d > MAX_DIM:
            return f"{where} has the dimension {d:,} at axis {i} (zooprof reads dimensions up to {MAX_DIM:,})"
        n *= d
    if n > MAX_TENSOR_ELEMENTS:
        return f"{where} has {n:,} elements (zooprof reads tensors of up to {MAX_TENSOR_ELEMENTS:,})"
    return None

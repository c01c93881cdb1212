"""Importing Keras/TensorFlow safely, for the routes that need them (keras: builders,
SavedModels without keras_metadata.pb, the tensorflow runtime): `import_keras` fails with an
install hint when neither keras nor tf_keras is installed, imports triton first (see
`zooprof.frontends.compat.triton_first`) and hides TensorFlow's start-up chatter (`quiet`).
`first_line` shortens a library's exception for an error message."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from zooprof.errors import MissingDependencyError
from zooprof.frontends.compat import triton_first

TF_HINT = "pip install 'zooprof[tf]'"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, cut at a sentence end when it is long."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    if len(line) > 160 and ". " in line[:200]:
        line = line[: line.index(". ") + 1]
    return line[:200]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """TensorFlow's C++ start-up lines (CUDA probing, absl) go to the process's stderr: hide them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_keras() -> Any:
    """The keras module (else tf_keras), imported quietly after triton; MissingDependencyError without both."""
    import importlib.util

    if importlib.util.find_spec("keras") is None and importlib.util.find_spec("tf_keras") is None:
        raise MissingDependencyError("building keras: models needs TensorFlow/Keras, which is not installed", TF_HINT)
    import warnings

    triton_first()
    with quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import keras
        except ImportError:
            import tf_keras as keras  # type: ignore[no-redef]
    return keras

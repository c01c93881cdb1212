"""Frontends: a resolved model reference -> Graph (IR).

Every frontend is one module with the same entry point

    read(ref: ModelRef, shapes: list[Shape] | None, options: ReadOptions) -> (Graph, shapes used)

and one line in the format table, `zooprof.reference.formats.FORMATS`: the framework it reads
(`ModelRef.framework`), where its `read` lives ("module:function", imported only when a model
of that framework is read), the extra that installs what it needs, what to tell a user who
lacks it, and the file suffixes that resolve to it. A new frontend is one file plus one line
there; `read` below, the cache and every command then reach it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zooprof.errors import MissingDependencyError, UsageError
from zooprof.reference.formats import FORMATS

if TYPE_CHECKING:
    from zooprof.ir.graph import Graph
    from zooprof.reference.resolve import ModelRef

Shape = tuple[int, ...]
Reader = Callable[..., "tuple[Graph, list[Shape]]"]


@dataclass(frozen=True)
class ReadOptions:
    """What a frontend may be told beyond the reference and the input shapes."""

    trust: bool = False  # allow code from the file (pickled modules, Keras Lambda layers)


def reader(framework: str) -> Reader:
    """The read function of the frontend for `framework`, imported now; a missing framework
    library names the extra that installs it."""
    fmt = FORMATS.get(framework)
    if fmt is None:
        known = ", ".join(f.framework for f in FORMATS)
        raise UsageError(f"no frontend reads {framework} models", f"zooprof reads: {known}")
    module, _, attr = fmt.reader.partition(":")
    try:
        fn: Reader = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise MissingDependencyError(f"{fmt.needs} ({exc})", f"pip install 'zooprof[{fmt.extra}]'") from exc
    return fn


def read(ref: ModelRef, shapes: list[Shape] | None, options: ReadOptions | None = None) -> tuple[Graph, list[Shape]]:
    """Read `ref` with the frontend of its framework -> (Graph, the input shapes used)."""
    return reader(ref.framework)(ref, shapes, options or ReadOptions())

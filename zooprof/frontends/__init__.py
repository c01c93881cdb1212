"""Frontends: a resolved model reference -> Graph (IR). The registry below is the only list.

Every frontend is one module with the same entry point

    read(ref: ModelRef, shapes: list[Shape] | None, options: ReadOptions) -> (Graph, shapes used)

and one line in `FRONTENDS`: the framework it reads (`ModelRef.framework`, set by
`zooprof.reference.resolve`), where its `read` lives ("module:function", imported only when a
model of that framework is read, so listing imports no framework), the extra that installs
what it needs, and what to tell a user who lacks it. A new frontend is one file plus one line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zooprof.errors import MissingDependencyError, UsageError

if TYPE_CHECKING:
    from zooprof.ir.graph import Graph
    from zooprof.reference.resolve import ModelRef

Shape = tuple[int, ...]


@dataclass(frozen=True)
class ReadOptions:
    """What a frontend may be told beyond the reference and the input shapes."""

    trust: bool = False  # allow code from the file (pickled modules, Keras Lambda layers)


@dataclass(frozen=True)
class Frontend:
    framework: str  # the ModelRef.framework it reads
    target: str  # "module:function", the read() above
    extra: str  # pip install 'zooprof[extra]'
    needs: str  # what is missing when the module cannot be imported


class FrontendRegistry:
    """Frontends by framework; a duplicate framework is an error."""

    def __init__(self) -> None:
        self._by_framework: dict[str, Frontend] = {}

    def register(self, frontend: Frontend) -> None:
        if frontend.framework in self._by_framework:
            raise ValueError(f"frontend for '{frontend.framework}' registered twice")
        self._by_framework[frontend.framework] = frontend

    def __contains__(self, framework: str) -> bool:
        return framework in self._by_framework

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_framework.values())

    def get(self, framework: str) -> Frontend:
        try:
            return self._by_framework[framework]
        except KeyError:
            known = ", ".join(self._by_framework)
            raise UsageError(f"no frontend reads {framework} models", f"zooprof reads: {known}") from None

    def reader(self, framework: str) -> Callable[..., tuple[Graph, list[Shape]]]:
        """The frontend's read function, imported now; a missing framework names the extra."""
        frontend = self.get(framework)
        module, _, attr = frontend.target.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
        except ImportError as exc:
            raise MissingDependencyError(
                f"{frontend.needs} ({exc})", f"pip install 'zooprof[{frontend.extra}]'"
            ) from exc


FRONTENDS = FrontendRegistry()
for _frontend in (
    Frontend("torch", "zooprof.frontends.torch.read:read", "torch", "PyTorch is needed to read this model"),
    Frontend("onnx", "zooprof.frontends.onnx.read:read", "onnx", "the onnx package is needed to read ONNX files"),
    Frontend("tflite", "zooprof.frontends.tflite.read:read", "tflite", "a TFLite dependency is missing"),
    Frontend("keras", "zooprof.frontends.keras.read:read", "tf", "h5py (or TensorFlow, for keras: builders) is needed"),
    Frontend("tfjs", "zooprof.frontends.tfjs:read", "tf", "a TF.js dependency is missing"),
    Frontend("teachable", "zooprof.frontends.teachable:read", "tf", "a Teachable Machine dependency is missing"),
):
    FRONTENDS.register(_frontend)


def read(ref: ModelRef, shapes: list[Shape] | None, options: ReadOptions | None = None) -> tuple[Graph, list[Shape]]:
    """Read `ref` with the frontend of its framework -> (Graph, the input shapes used)."""
    reader: Any = FRONTENDS.reader(ref.framework)
    return reader(ref, shapes, options or ReadOptions())  # type: ignore[no-any-return]

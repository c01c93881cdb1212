"""The model formats zooprof reads: one line each, the single table behind the frontend registry.

A line says which framework a reference of this format belongs to (`ModelRef.framework`),
which frontend reads it (`"module:function"`, imported only when a model of it is read, so
listing imports no framework), the extra that installs what that frontend needs, and the
file suffixes that resolve to it (kind `<framework>-file`). `zooprof.reference.resolve` reads
the suffixes; `zooprof.frontends` reads the rest. A new frontend is one module with
`read(ref, shapes, options)` plus one line here. Pure data: imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    framework: str  # the ModelRef.framework it reads
    reader: str  # "module:function": read(ref, shapes, options) -> (Graph, shapes)
    extra: str  # pip install 'zooprof[extra]'
    needs: str  # what is missing when the reader cannot be imported
    suffixes: tuple[str, ...] = ()  # files with these suffixes resolve to kind "<framework>-file"


class FormatRegistry:
    """Formats by framework; a duplicate framework or suffix is an error."""

    def __init__(self) -> None:
        self._by_framework: dict[str, Format] = {}
        self._by_suffix: dict[str, Format] = {}

    def register(self, fmt: Format) -> None:
        if fmt.framework in self._by_framework:
            raise ValueError(f"format '{fmt.framework}' registered twice")
        for suffix in fmt.suffixes:
            if suffix in self._by_suffix:
                raise ValueError(
                    f"suffix {suffix} claimed by '{self._by_suffix[suffix].framework}' and '{fmt.framework}'"
                )
        self._by_framework[fmt.framework] = fmt
        self._by_suffix.update(dict.fromkeys(fmt.suffixes, fmt))

    def unregister(self, framework: str) -> None:
        fmt = self._by_framework.pop(framework)
        for suffix in fmt.suffixes:
            self._by_suffix.pop(suffix, None)

    def __contains__(self, framework: str) -> bool:
        return framework in self._by_framework

    def __iter__(self) -> Iterator[Format]:
        return iter(self._by_framework.values())

    def get(self, framework: str) -> Format | None:
        return self._by_framework.get(framework)

    def for_suffix(self, suffix: str) -> Format | None:
        """The format of a file with this (lower-case) suffix, or None."""
        return self._by_suffix.get(suffix)

    def suffixes(self) -> set[str]:
        return set(self._by_suffix)


FORMATS = FormatRegistry()
for _fmt in (
    Format(
        "torch",
        "zooprof.frontends.torch.read:read",
        "torch",
        "PyTorch is needed to read this model",
        (".pt", ".pth", ".pt2", ".ts", ".torchscript", ".jit"),
    ),
    Format(
        "onnx", "zooprof.frontends.onnx.read:read", "onnx", "the onnx package is needed to read ONNX files", (".onnx",)
    ),
    Format("tflite", "zooprof.frontends.tflite.read:read", "tflite", "a TFLite dependency is missing", (".tflite",)),
    Format(
        "keras",
        "zooprof.frontends.keras.read:read",
        "tf",
        "h5py (or TensorFlow, for keras: builders) is needed",
        (".h5", ".hdf5", ".keras"),
    ),
    Format("tfjs", "zooprof.frontends.tfjs:read", "tf", "a TF.js dependency is missing"),  # model.json, folders
    Format("teachable", "zooprof.frontends.teachable:read", "tf", "a Teachable Machine dependency is missing"),  # .zip
):
    FORMATS.register(_fmt)

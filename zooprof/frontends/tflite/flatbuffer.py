"""A bounds-checked flatbuffer decoder (standard library only), for TFLite files.

`FlatBytes` wraps the file's bytes with little-endian reads that check every offset against
the file size; `Table` is one flatbuffer table whose fields are looked up through its vtable
(scalars, strings, numeric vectors, sub-tables and vectors of tables). Neither knows the
TFLite schema: the field indices come from the caller (zooprof.frontends.tflite.schema).

Contract: a read outside the file or a malformed vtable raises TFLiteFormatError with a
message that says where; nothing here reads past the end of the bytes.
"""

from __future__ import annotations

import mmap
import struct
from typing import Any


class TFLiteFormatError(Exception):
    """The bytes are not a well-formed TFLite flatbuffer (the message says where)."""


class FlatBytes:
    """The file's bytes with bounds-checked little-endian reads."""

    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data = data
        self.size = len(data)

    def check(self, pos: int, length: int, what: str) -> None:
        if pos < 0 or length < 0 or pos + length > self.size:
            raise TFLiteFormatError(
                f"{what} at byte {pos} (+{length}) lies beyond the end of the file ({self.size} bytes)"
            )

    def read(self, fmt: str, pos: int, what: str = "a value") -> Any:
        self.check(pos, struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.data, pos)[0]


class Table:
    """One flatbuffer table: fields looked up through its vtable."""

    __slots__ = ("b", "pos", "vt", "vt_len", "what")

    def __init__(self, b: FlatBytes, pos: int, what: str) -> None:
        self.b, self.pos, self.what = b, pos, what
        self.vt = pos - b.read("<i", pos, f"the {what} table")
        self.vt_len = b.read("<H", self.vt, f"the {what} vtable")
        if self.vt_len < 4 or self.vt_len % 2:
            raise TFLiteFormatError(f"the {what} vtable at byte {self.vt} is malformed")
        b.check(self.vt, self.vt_len, f"the {what} vtable")

    def offset(self, index: int) -> int:
        """The offset of field `index` in the table; 0 when the field is absent."""
        o = 4 + 2 * index
        return self.b.read("<H", self.vt + o) if o + 2 <= self.vt_len else 0

    def scalar(self, index: int, fmt: str, default: Any) -> Any:
        off = self.offset(index)
        return self.b.read(fmt, self.pos + off, f"a field of {self.what}") if off else default

    def _target(self, index: int) -> int | None:
        off = self.offset(index)
        if not off:
            return None
        p = self.pos + off
        return p + self.b.read("<I", p, f"a reference in {self.what}")

    def vector(self, index: int, elem_size: int) -> tuple[int, int] | None:
        """(start, length) of a vector field, its bytes checked to lie in the file."""
        p = self._target(index)
        if p is None:
            return None
        n = self.b.read("<I", p, f"a vector in {self.what}")
        self.b.check(p + 4, n * elem_size, f"a vector of {n} elements in {self.what}")
        return p + 4, n

    def numbers(self, index: int, fmt: str) -> list[Any] | None:
        v = self.vector(index, struct.calcsize("<" + fmt))
        if v is None:
            return None
        start, n = v
        return list(struct.unpack_from(f"<{n}{fmt}", self.b.data, start))

    def ints(self, index: int) -> list[int] | None:
        return self.numbers(index, "i")

    def string(self, index: int) -> str | None:
        v = self.vector(index, 1)
        if v is None:
            return None
        start, n = v
        return self.b.data[start : start + n].decode("utf-8", errors="replace")

    def table(self, index: int, what: str) -> Table | None:
        p = self._target(index)
        return None if p is None else Table(self.b, p, what)

    def tables(self, index: int, what: str) -> list[Table]:
        v = self.vector(index, 4)
        if v is None:
            return []
        start, n = v
        return [Table(self.b, start + 4 * i + self.b.read("<I", start + 4 * i), what) for i in range(n)]

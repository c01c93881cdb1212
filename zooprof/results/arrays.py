"""A row's per-sample arrays as packed float64 in its `arrays` BLOB, instead of JSON text.

The timed samples and their time stamps (`timing.samples_ms`, `timing.timestamps_s`, or any other
list under `timing` of at least `MIN_PACKED` floats, or of equal-length lists of floats) are most
of a measured row's text: 13 to 21 characters per full-precision float against 8 bytes packed. A
packed list keeps its key in the row's JSON, with a placeholder string (`"float64[200]"`,
`"float64[200,2]"`) so the key order is kept; the BLOB says where each list goes:

    uint32 (little-endian)  length of the header
    header                  JSON: [[path, shape], ...], path from the document root
                            (["measurements", 0, "timing", "samples_ms"]), shape [n] or [n, width]
    float64 (little-endian) the lists' values, one after the other, rows of a 2-D list in order

A list with anything but floats (an int, a None, a numpy scalar) stays in the JSON as it is, so
what comes back is what went in: the same floats bit for bit, the same types, the same order.
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from itertools import chain
from typing import Any

#: Shorter lists stay in the JSON: a header entry would cost more than it saves.
MIN_PACKED = 16
_LENGTH = struct.Struct("<I")


def pack_timing(m: dict[str, Any], index: int = 0) -> tuple[dict[str, Any], bytes | None]:
    """`m` (measurement `index` of its document) with its `timing` float lists replaced by
    placeholders, and the BLOB that holds them; `m` itself and None when there is nothing to pack.
    `m` is not changed (the placeholders go into copies of it and of its timing)."""
    timing = m.get("timing")
    if type(timing) is not dict:
        return m, None
    entries: list[str] = []
    parts: list[bytes] = []
    placeholders: dict[str, str] = {}
    for key, value in timing.items():
        if type(value) is not list or len(value) < MIN_PACKED:
            continue
        packed = _as_floats(value)
        if packed is None:
            continue
        shape, data = packed
        entries.append(f'[["measurements",{index},"timing",{_json_string(key)}],[{shape}]]')
        parts.append(data)
        placeholders[key] = f"float64[{shape}]"
    if not parts:
        return m, None
    header = f"[{','.join(entries)}]".encode()
    return {**m, "timing": {**timing, **placeholders}}, b"".join([_LENGTH.pack(len(header)), header, *parts])


def unpack(doc: dict[str, Any], blob: bytes) -> None:
    """Put the lists of `blob` back into `doc` (the row's parsed JSON) where their placeholders are.
    A BLOB that does not match its header or its document raises ValueError, struct.error,
    LookupError, TypeError or AttributeError."""
    (length,) = _LENGTH.unpack_from(blob)
    offset = _LENGTH.size + length
    header = json.loads(blob[_LENGTH.size : offset])
    for path, shape in header:
        count = shape[0] * (shape[1] if len(shape) == 2 else 1)
        values: list[Any] = list(struct.unpack_from(f"<{count}d", blob, offset))
        offset += 8 * count
        if len(shape) == 2:
            values = list(map(list, zip(*[iter(values)] * shape[1], strict=True)))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if not isinstance(parent.get(path[-1]), str):
            raise ValueError(f"no placeholder at {'.'.join(map(str, path))}")
        parent[path[-1]] = values
    if offset != len(blob):
        raise ValueError(f"{len(blob) - offset} bytes after the packed arrays")


def _as_floats(value: list[Any]) -> tuple[str, bytes] | None:
    """("n", the floats packed) for a list of floats, ("n,width", the rows' floats in order) for a
    list of equal-length lists of floats, None for anything else. Only `float` itself: an int, a
    bool or a float subclass would not come back as the same type."""
    first = value[0]
    if type(first) is float:
        if set(map(type, value)) != {float}:
            return None
        return str(len(value)), struct.pack(f"<{len(value)}d", *value)
    if type(first) is list and first:
        width = len(first)
        if set(map(type, value)) != {list} or set(map(len, value)) != {width}:
            return None
        flat = list(chain.from_iterable(value))
        if set(map(type, flat)) != {float}:
            return None
        return f"{len(value)},{width}", struct.pack(f"<{len(flat)}d", *flat)
    return None


@lru_cache(maxsize=64)
def _json_string(key: str) -> str:
    return json.dumps(key)

"""A small FlexBuffers reader (standard library only), for TFLite custom-op options.

TFLite stores a custom op's options as a FlexBuffer; TFLite_Detection_PostProcess keeps
its configuration there (max_detections, nms_iou_threshold, num_classes, ...). This reads
scalars, strings, keys, booleans, vectors and maps: what op options use. Format:
https://flatbuffers.dev/flexbuffers/ (the buffer ends with the root value, its packed type
and its byte width; a packed type is (type << 2) | log2 of the child's byte width).
"""

from __future__ import annotations

import struct
from typing import Any

NULL, INT, UINT, FLOAT, KEY, STRING, INDIRECT_INT, INDIRECT_UINT, INDIRECT_FLOAT, MAP, VECTOR = range(11)
VECTOR_INT, VECTOR_UINT, VECTOR_FLOAT, VECTOR_KEY = 11, 12, 13, 14
VECTOR_STRING_DEPRECATED = 15
BLOB, BOOL, VECTOR_BOOL = 25, 26, 36
#: fixed-length typed vectors: type -> (element type, length)
FIXED_VECTORS = {16 + 3 * (n - 2) + k: (t, n) for n in (2, 3, 4) for k, t in enumerate((INT, UINT, FLOAT))}


class FlexBufferError(ValueError):
    """The bytes are not a FlexBuffer this reader understands."""


def _uint(data: bytes, pos: int, width: int) -> int:
    if pos < 0 or pos + width > len(data):
        raise FlexBufferError(f"read of {width} byte(s) at {pos} is outside the {len(data)}-byte buffer")
    return int.from_bytes(data[pos : pos + width], "little", signed=False)


def _int(data: bytes, pos: int, width: int) -> int:
    value = _uint(data, pos, width)
    return value - (1 << (8 * width)) if value >= 1 << (8 * width - 1) else value


def _float(data: bytes, pos: int, width: int) -> float:
    if width == 4:
        return float(struct.unpack_from("<f", data, pos)[0])
    if width == 8:
        return float(struct.unpack_from("<d", data, pos)[0])
    raise FlexBufferError(f"a float of {width} byte(s)")


def _target(data: bytes, pos: int, width: int) -> int:
    return pos - _uint(data, pos, width)


def _cstring(data: bytes, pos: int) -> str:
    end = data.find(b"\x00", pos)
    if pos < 0 or end < 0:
        raise FlexBufferError("a key without its terminating zero")
    return data[pos:end].decode("utf-8", errors="replace")


def _value(data: bytes, pos: int, parent_width: int, packed: int, depth: int = 0) -> Any:
    """The value referenced at `pos` (stored with `parent_width` bytes) of packed type `packed`."""
    if depth > 64:
        raise FlexBufferError("nested too deeply")
    kind, width = packed >> 2, 1 << (packed & 3)
    if kind == NULL:
        return None
    if kind == INT:
        return _int(data, pos, parent_width)
    if kind in (UINT, BOOL):
        value = _uint(data, pos, parent_width)
        return bool(value) if kind == BOOL else value
    if kind == FLOAT:
        return _float(data, pos, parent_width)
    target = _target(data, pos, parent_width)
    if kind == INDIRECT_INT:
        return _int(data, target, width)
    if kind == INDIRECT_UINT:
        return _uint(data, target, width)
    if kind == INDIRECT_FLOAT:
        return _float(data, target, width)
    if kind == KEY:
        return _cstring(data, target)
    if kind in (STRING, BLOB):
        size = _uint(data, target - width, width)
        raw = data[target : target + size]
        return raw.decode("utf-8", errors="replace") if kind == STRING else bytes(raw)
    if kind == MAP:
        return _map(data, target, width, depth)
    if kind == VECTOR:
        size = _uint(data, target - width, width)
        types = target + size * width
        return [_value(data, target + i * width, width, data[types + i], depth + 1) for i in range(size)]
    if kind in (VECTOR_INT, VECTOR_UINT, VECTOR_FLOAT, VECTOR_KEY, VECTOR_BOOL, VECTOR_STRING_DEPRECATED):
        size = _uint(data, target - width, width)
        element = {
            VECTOR_INT: INT,
            VECTOR_UINT: UINT,
            VECTOR_FLOAT: FLOAT,
            VECTOR_KEY: KEY,
            VECTOR_BOOL: BOOL,
            VECTOR_STRING_DEPRECATED: KEY,
        }[kind]
        return [_value(data, target + i * width, width, (element << 2) | (packed & 3), depth + 1) for i in range(size)]
    if kind in FIXED_VECTORS:
        element, size = FIXED_VECTORS[kind]
        return [_value(data, target + i * width, width, (element << 2) | (packed & 3), depth + 1) for i in range(size)]
    raise FlexBufferError(f"value type {kind} is not supported")


def _map(data: bytes, values: int, width: int, depth: int) -> dict[str, Any]:
    size = _uint(data, values - width, width)
    keys_at = _target(data, values - 3 * width, width)
    keys_width = _uint(data, values - 2 * width, width)
    types = values + size * width
    out = {}
    for i in range(size):
        key = _cstring(data, _target(data, keys_at + i * keys_width, keys_width))
        out[key] = _value(data, values + i * width, width, data[types + i], depth + 1)
    return out


def loads(data: bytes) -> Any:
    """The root value of a FlexBuffer (a dict for op options). Raises FlexBufferError."""
    data = bytes(data)
    if len(data) < 3:
        raise FlexBufferError(f"{len(data)} byte(s) is too short for a FlexBuffer")
    width = data[-1]
    if width not in (1, 2, 4, 8):
        raise FlexBufferError(f"root byte width {width}")
    try:
        return _value(data, len(data) - 2 - width, width, data[-2])
    except (struct.error, IndexError) as exc:
        raise FlexBufferError(str(exc)) from None

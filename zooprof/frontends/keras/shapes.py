"""Shape arithmetic in the Keras layout (channels last unless a layer says channels_first):
spatial and channel axes, sliding windows with Keras' padding modes, transposed-conv lengths,
broadcasting, and the per-axis tuples (kernel_size, strides...) of a layer config. Errors
name the layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zooprof.errors import ModelShapeError, UsageError
from zooprof.frontends.keras.constants import Shape


def axis_tuple(value: Any, n: int, what: str, layer: str) -> tuple[int, ...]:
    """A per-axis config value (kernel_size, strides...) as n ints: a scalar or one value is repeated."""
    if value is None:
        raise UsageError(f"Keras layer '{layer}' has no {what} in its config", "the config may be damaged")
    if isinstance(value, (int, float)):
        return (int(value),) * n
    t = tuple(int(v) for v in value)
    if len(t) == 1 and n > 1:
        return t * n
    if len(t) != n:
        raise UsageError(
            f"Keras layer '{layer}': {what} {list(t)} does not fit {n} spatial axes", "the config may be damaged"
        )
    return t


def axes_in_rank(value: Any, rank: int, where: str, key: str = "axis") -> list[int]:
    """An axis config value (one or a list) within a tensor of `rank`, made non-negative and
    sorted; a UsageError naming `where` (file and layer) and the field if one is out of range."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(a, int) and not isinstance(a, bool) and -rank <= a < rank for a in items):
        raise UsageError(
            f"{where}: {key} {value!r} is outside its input of rank {rank}",
            f"an axis is between {-rank} and {rank - 1}",
        )
    return sorted(a % rank for a in items)


def one_axis(value: Any, rank: int, where: str, key: str = "axis") -> int:
    """A single axis (an int, or a list of one) within a tensor of `rank`, made non-negative."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, list):
        raise UsageError(f"{where}: {key} {value!r} is not one axis", f"an axis is between {-rank} and {rank - 1}")
    return axes_in_rank(value, rank, where, key)[0]


def spatial_axes(rank: int, data_format: str | None) -> tuple[list[int], int]:
    """(spatial axes, channel axis) of a Keras-layout tensor for a layer's data_format."""
    if data_format == "channels_first":
        return list(range(2, rank)), 1
    return list(range(1, rank - 1)), rank - 1


def window(size: int, k: int, s: int, d: int, padding: str, layer: str) -> tuple[int, tuple[int, int]]:
    """Output length and (before, after) padding of a Keras sliding window."""
    k_eff = (k - 1) * d + 1
    if padding == "same":
        out = -(-size // s)
        total = max((out - 1) * s + k_eff - size, 0)
        return out, (total // 2, total - total // 2)
    if padding == "causal":
        return -(-size // s), ((k - 1) * d, 0)
    if padding == "valid":
        if size < k_eff:
            raise ModelShapeError(
                f"Keras layer '{layer}': window {k_eff} is larger than its input ({size})",
                "the input is too small for the model; give a larger --input-shape",
            )
        return (size - k_eff) // s + 1, (0, 0)
    raise UsageError(
        f"Keras layer '{layer}' has padding '{padding}', which zooprof does not know",
        "expected 'valid', 'same' or 'causal'",
    )


def pad_attr(pairs: Sequence[tuple[int, int]]) -> Any:
    """Per-axis ints when symmetric, else per-axis (before, after) pairs (zooprof.rules.base.pads)."""
    if all(a == b for a, b in pairs):
        return tuple(a for a, _ in pairs)
    return tuple((a, b) for a, b in pairs)


def broadcast(shapes: Sequence[Shape], layer: str) -> Shape:
    """The broadcast shape of a merge layer's inputs; a ModelShapeError when they do not broadcast."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for dims in zip(*padded, strict=True):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ModelShapeError(
                f"Keras layer '{layer}': inputs {[list(s) for s in shapes]} do not broadcast",
                "the model does not fit this input shape",
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def deconv_length(size: int, k: int, padding: str, out_pad: int | None, s: int, d: int) -> int:
    """keras.src.utils.conv_utils.deconv_output_length."""
    k = k + (k - 1) * (d - 1)
    if out_pad is None:
        if padding == "valid":
            return size * s + max(k - s, 0)
        if padding == "full":
            return size * s - (s + k - 2)
        return size * s
    pad = {"same": k // 2, "valid": 0, "full": k - 1}.get(padding, 0)
    return (size - 1) * s + k - 2 * pad + out_pad

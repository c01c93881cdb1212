"""Reading values out of ONNX protos: dtypes, node attributes, small tensor values, Constant nodes.

The lowest module of the ONNX frontend (it imports no other module of it): the `Shape` alias,
the small-tensor limit, the ONNX elem_type -> zooprof dtype tables and the helpers that turn
proto fields into Python values. Nothing here reads weights: tensors larger than
`SMALL_TENSOR` elements, or kept in external data, have no values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zooprof.ir.graph import ParamSpec, numel

Shape = tuple[int, ...]

#: Initialisers up to this many elements keep their values (for Clip bounds, axes, pads...);
#: larger ones are only described by shape and dtype.
SMALL_TENSOR = 4096

#: ONNX TensorProto elem_type -> zooprof dtype name (zooprof.ir.graph.DTYPE_BYTES).
DTYPES: dict[int, str] = {
    1: "float32",
    2: "uint8",
    3: "int8",
    5: "int16",
    6: "int32",
    7: "int64",
    9: "bool",
    10: "float16",
    11: "float64",
    16: "bfloat16",
}

#: ONNX types zooprof has no dtype for: counted as a dtype of the same (or nearest larger)
#: element size, and said so in the notes.
DTYPE_APPROX: dict[int, tuple[str, str]] = {
    4: ("uint16", "int16"),
    12: ("uint32", "int32"),
    13: ("uint64", "int64"),
    14: ("complex64", "float64"),
    15: ("complex128", "float64"),
    8: ("string", "int64"),
    17: ("float8e4m3fn", "uint8"),
    18: ("float8e4m3fnuz", "uint8"),
    19: ("float8e5m2", "uint8"),
    20: ("float8e5m2fnuz", "uint8"),
    21: ("uint4", "uint8"),
    22: ("int4", "int8"),
    23: ("float4e2m1", "uint8"),
    24: ("float8e8m0", "uint8"),
    25: ("uint2", "uint8"),
    26: ("int2", "int8"),
    27: ("float6e2m3", "uint8"),
    28: ("float6e3m2", "uint8"),
}


def fmt_shape(shape: Sequence[Any]) -> str:
    """A shape as the messages write it: 1x3x224x224, '?' for an unknown dimension."""
    return "x".join("?" if d is None else str(d) for d in shape)


class Dtypes:
    """elem_type -> dtype name, remembering approximations for the notes."""

    def __init__(self) -> None:
        self.approximated: dict[str, str] = {}

    def __call__(self, elem_type: int) -> str:
        if elem_type in DTYPES:
            return DTYPES[elem_type]
        if elem_type in DTYPE_APPROX:
            theirs, ours = DTYPE_APPROX[elem_type]
            self.approximated[theirs] = ours
            return ours
        return "float32"


#: AttributeProto types read as plain values (FLOAT, INT, STRING, FLOATS, INTS, STRINGS);
#: tensors, graphs and type protos are left out of `attr_values`.
PLAIN_ATTRS = frozenset({1, 2, 3, 6, 7, 8})


def attr_values(node: Any) -> dict[str, Any]:
    """A node's plain attributes as Python values: numbers, and strings decoded to text (so a
    result built from them is JSON whatever bytes the file holds)."""
    out: dict[str, Any] = {}
    for a in node.attribute:
        if a.type == 1:
            out[a.name] = a.f
        elif a.type == 2:
            out[a.name] = a.i
        elif a.type == 3:
            out[a.name] = a.s.decode("utf-8", errors="replace")
        elif a.type == 6:
            out[a.name] = list(a.floats)
        elif a.type == 7:
            out[a.name] = list(a.ints)
        elif a.type == 8:
            out[a.name] = [x.decode("utf-8", errors="replace") for x in a.strings]
    return out


def flat_values(t: Any) -> list[Any] | None:
    """The values of a small tensor stored in the file, flattened; None for a large or external one."""
    from onnx import TensorProto, numpy_helper

    if numel(tuple(t.dims)) > SMALL_TENSOR or t.data_location == TensorProto.EXTERNAL:
        return None
    try:
        return numpy_helper.to_array(t).reshape(-1).tolist()
    except Exception:
        return None


def constant_node(node: Any, dtype: Dtypes) -> tuple[ParamSpec | None, list[Any] | None]:
    """The tensor a Constant node makes, as a ParamSpec (named after its output) and its values."""
    out = node.output[0]
    for a in node.attribute:
        if a.name == "value":
            return ParamSpec(out, tuple(int(d) for d in a.t.dims), dtype(a.t.data_type)), flat_values(a.t)
        if a.name == "value_float":
            return ParamSpec(out, (), "float32"), [a.f]
        if a.name == "value_int":
            return ParamSpec(out, (), "int64"), [a.i]
        if a.name == "value_floats":
            return ParamSpec(out, (len(a.floats),), "float32"), list(a.floats)
        if a.name == "value_ints":
            return ParamSpec(out, (len(a.ints),), "int64"), list(a.ints)
    return None, None

"""Validating an ONNX model before anything is computed from it: the one place that refuses a
malformed or hostile file, with a one-line UsageError naming the file, the node or tensor,
the field and what is allowed.

In the order the reader (read.py) calls them:

- `check_file`: a regular file of at most `MAX_ONNX_BYTES` (2 GiB, protobuf's own limit;
  `ZOOPROF_MAX_ONNX_BYTES` raises it), before a byte is read;
- `normalise_strings`: string fields that are not valid UTF-8 (the protobuf runtime hands
  them over as bytes) decoded with replacement characters, so every name, doc string and
  attribute that reaches a result is text;
- `check_model`: every stored tensor (initialisers, Constant nodes) has dims >= 0 within
  zooprof.frontends.limits and data whose length matches its dims (inline, or an
  external-data span inside its file: `external_span`); every attribute has a known type, the
  type its op's schema gives it, and a value in range (kernel, strides, dilations >= 1,
  pads >= 0, group >= 1 and dividing the weight's channels);
- `order_nodes`: the nodes in topological order (Kahn's algorithm: linear in nodes + edges),
  a self-loop, a cycle or a tensor produced twice refused;
- `check_shapes`, after shape inference: a conv's input channels agree with its weight and
  group, an axis lies within its input's rank.

See docs/onnx.md, "Validation and limits".
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.limits import check_dims, check_model_file

#: The largest .onnx file zooprof reads (a protobuf cannot be larger); ZOOPROF_MAX_ONNX_BYTES overrides.
MAX_ONNX_BYTES = 2**31
MAX_ONNX_ENV = "ZOOPROF_MAX_ONNX_BYTES"

BAD_FILE_HINT = "the file is malformed (corrupt or hand-edited); re-export or re-download the model"

#: elem_type -> bits per element (types zooprof knows the storage size of).
BITS: dict[int, int] = {
    **{1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64},
    **{14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8, 25: 2, 26: 2},
}
#: elem_type -> the TensorProto field typed (not raw) data is kept in, and values per element.
TYPED_FIELD: dict[int, tuple[str, int]] = {
    **{t: ("int32_data", 1) for t in (2, 3, 4, 5, 6, 9, 10, 16, 17, 18, 19, 20, 24)},
    **{1: ("float_data", 1), 14: ("float_data", 2), 7: ("int64_data", 1), 8: ("string_data", 1)},
    **{11: ("double_data", 1), 15: ("double_data", 2), 12: ("uint64_data", 1), 13: ("uint64_data", 1)},
}
LAST_ELEM_TYPE = 28
#: AttributeProto types zooprof reads (UNDEFINED, 0, is not one).
ATTR_TYPES = frozenset(range(1, 15))

#: ops with a sliding window: kernel_shape, strides, dilations >= 1, pads >= 0.
WINDOW_OPS = frozenset(
    {"Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool", "DeformConv"}
)
#: ops with a `group` attribute and the index of their weight input.
GROUP_WEIGHT = {"Conv": 1, "ConvTranspose": 1, "ConvInteger": 1, "QLinearConv": 3, "DeformConv": 1}
#: (op, attribute) -> smallest value allowed, for single int attributes.
MIN_INT = {
    ("LRN", "size"): 1,
    ("SpaceToDepth", "blocksize"): 1,
    ("DepthToSpace", "blocksize"): 1,
    ("GroupNormalization", "num_groups"): 1,
    ("LSTM", "hidden_size"): 1,
    ("GRU", "hidden_size"): 1,
    ("RNN", "hidden_size"): 1,
}
#: ops whose `axis` indexes input 0's axes: -r <= axis < r (Flatten: -r <= axis <= r).
AXIS_OPS = frozenset(
    {
        "Softmax",
        "LogSoftmax",
        "Hardmax",
        "Concat",
        "Gather",
        "GatherElements",
        "Split",
        "ArgMax",
        "ArgMin",
        "LpNormalization",
        "TopK",
        "ScatterElements",
        "Flatten",
    }
)


def fail(fname: str, what: str) -> UsageError:
    return UsageError(f"{fname}: {what}", BAD_FILE_HINT)


def check_file(path: Path) -> int:
    """The file's size, once it is known to be a regular file within the cap."""
    return check_model_file(path, "an ONNX file", MAX_ONNX_ENV, MAX_ONNX_BYTES)


# --------------------------------------------------------------------------------------
# strings


def normalise_strings(model: Any) -> None:
    """Decode every string field the protobuf runtime left as bytes (not valid UTF-8)."""
    stack = [model]
    while stack:
        msg = stack.pop()
        for fd, value in msg.ListFields():
            repeated = getattr(fd, "is_repeated", None)
            if repeated is None:
                repeated = fd.label == fd.LABEL_REPEATED
            if fd.type == fd.TYPE_STRING:
                if repeated:
                    for i, v in enumerate(value):
                        if isinstance(v, bytes):
                            value[i] = v.decode("utf-8", errors="replace")
                elif isinstance(value, bytes):
                    setattr(msg, fd.name, value.decode("utf-8", errors="replace"))
            elif fd.type == fd.TYPE_MESSAGE:
                if repeated:
                    stack.extend(value.values() if hasattr(value, "values") else value)
                else:
                    stack.append(value)


# --------------------------------------------------------------------------------------
# tensors


def data_bytes(t: Any) -> int | None:
    """How many bytes a tensor's data takes in raw form, or None for a type of no fixed size."""
    bits = BITS.get(t.data_type)
    n = math.prod(int(d) for d in t.dims)
    return None if bits is None else -(-n * bits // 8)


def external_span(t: Any, base: Path, fname: str) -> tuple[Path, int, int] | None:
    """(file, offset, length) of an external tensor's data, checked to lie inside the file
    next to the model; None when that file is missing (the caller lists those)."""
    entries = {e.key: e.value for e in t.external_data}
    loc = entries.get("location", "")
    target = (base / loc).resolve() if loc else base
    if not loc or Path(loc).is_absolute() or base not in target.parents:
        raise UsageError(
            f"{fname} points its tensor '{t.name}' at external data '{loc}' outside its folder",
            "keep external-data files in the model's folder, named relative to it",
        )
    if not target.exists():
        return None
    if not target.is_file():
        raise fail(fname, f"tensor '{t.name}': external data '{loc}' is not a file")
    numbers = {}
    for key in ("offset", "length"):
        text = entries.get(key)
        if text is None:
            continue
        if not text.strip().isdigit():
            raise fail(fname, f"tensor '{t.name}': external data {key} '{text[:40]}' is not a number of bytes >= 0")
        numbers[key] = int(text)
    size = target.stat().st_size
    offset = numbers.get("offset", 0)
    expected = data_bytes(t)
    length = numbers.get("length", expected if expected is not None else size - offset)
    if expected is not None and length != expected:
        raise fail(
            fname,
            f"tensor '{t.name}' (dims {list(t.dims)}) needs {expected:,} bytes, its external data says {length:,}",
        )
    if offset + length > size:
        raise fail(
            fname,
            f"tensor '{t.name}': external data bytes {offset:,}-{offset + length:,} lie beyond the end of "
            f"'{loc}' ({size:,} bytes)",
        )
    return target, offset, length


def check_tensor(t: Any, where: str, fname: str) -> None:
    """A stored tensor's dims, type and inline data length (external spans: `external_span`)."""
    from onnx import TensorProto

    why = check_dims([int(d) for d in t.dims], where)
    if why:
        raise fail(fname, why)
    if not 1 <= t.data_type <= LAST_ELEM_TYPE:
        raise fail(fname, f"{where} has the data type {t.data_type}, which is no ONNX type")
    if t.data_location == TensorProto.EXTERNAL or t.HasField("segment"):
        return
    n = math.prod(int(d) for d in t.dims)
    expected = data_bytes(t)
    if t.HasField("raw_data"):
        have = len(t.raw_data)
        if expected is not None and have != expected:
            raise fail(fname, f"{where} (dims {list(t.dims)}) needs {expected:,} bytes of data, it holds {have:,}")
        return
    field, per = TYPED_FIELD.get(t.data_type, ("", 0))
    typed = ("float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data")
    count = len(getattr(t, field)) if field else sum(len(getattr(t, f)) for f in typed)
    if field and BITS.get(t.data_type, 8) >= 8 and count != n * per and (count or n):
        raise fail(fname, f"{where} (dims {list(t.dims)}) needs {n * per:,} values in {field}, it holds {count:,}")
    if n and not count and not field:
        raise fail(fname, f"{where} (dims {list(t.dims)}) holds no data")


def stored_tensors(model: Any) -> Iterator[tuple[Any, str]]:
    """(tensor, description) for the initialisers and Constant-node tensors of the main graph."""
    for t in model.graph.initializer:
        yield t, f"initialiser '{t.name}'"
    for node in model.graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.HasField("t"):
                    yield a.t, f"the tensor of Constant node '{node.name or ','.join(node.output)}'"


# --------------------------------------------------------------------------------------
# nodes and attributes


def _node_label(node: Any, idx: int) -> str:
    return f"node '{node.name}' ({node.op_type})" if node.name else f"node {idx} ({node.op_type})"


def _all_graph_nodes(model: Any) -> Iterator[Any]:
    """Every node of the main graph and of the subgraphs below it (iteratively)."""
    stack = [model.graph]
    while stack:
        g = stack.pop()
        for node in g.node:
            yield node
            for a in node.attribute:
                if a.HasField("g"):
                    stack.append(a.g)
                stack.extend(a.graphs)


class _Schemas:
    """onnx op schemas by (op, domain), looked up once each."""

    def __init__(self, opsets: dict[str, int]) -> None:
        self.opsets = opsets
        self.cache: dict[tuple[str, str], Any] = {}

    def __call__(self, node: Any) -> Any:
        import onnx.defs

        domain = "" if node.domain == "ai.onnx" else node.domain
        key = (node.op_type, domain)
        if key not in self.cache:
            try:
                version = self.opsets.get("", self.opsets.get("ai.onnx", 1))
                self.cache[key] = onnx.defs.get_schema(node.op_type, version, domain)
            except Exception:  # no schema: a custom or unknown op, checked by type only
                self.cache[key] = None
        return self.cache[key]


def _ints(a: Any) -> list[int]:
    return list(a.ints) if a.type == a.INTS else [a.i]


def _check_window(node: Any, label: str, fname: str, attrs: dict[str, Any], weights: dict[str, Any]) -> None:
    """kernel_shape, strides, dilations >= 1, pads >= 0 (even count), group >= 1 dividing the weight."""
    for name, low in (("kernel_shape", 1), ("strides", 1), ("dilations", 1), ("pads", 0), ("output_padding", 0)):
        a = attrs.get(name)
        if a is None:
            continue
        values = _ints(a)
        if any(v < low for v in values):
            raise fail(fname, f"{label}: attribute '{name}' is {values}; each value must be >= {low}")
        if name == "pads" and len(values) % 2:
            raise fail(fname, f"{label}: attribute 'pads' has {len(values)} values (a begin and an end per axis)")
    kernel = list(attrs["kernel_shape"].ints) if "kernel_shape" in attrs else None
    for name in ("strides", "dilations", "pads"):
        a = attrs.get(name)
        want = None if kernel is None else len(kernel) * (2 if name == "pads" else 1)
        if a is not None and want is not None and len(a.ints) != want:
            raise fail(fname, f"{label}: attribute '{name}' has {len(a.ints)} values for a {len(kernel)}-d kernel")
    if node.op_type not in GROUP_WEIGHT:
        return
    group = attrs["group"].i if "group" in attrs else 1
    if group < 1:
        raise fail(fname, f"{label}: attribute 'group' is {group}; it must be >= 1")
    wi = GROUP_WEIGHT[node.op_type]
    w = weights.get(node.input[wi]) if len(node.input) > wi else None
    if w is None:
        return
    dims = [int(d) for d in w.dims]
    if len(dims) < 3 or (kernel is not None and len(dims) != len(kernel) + 2):
        raise fail(fname, f"{label}: weight '{w.name}' has dims {dims}, not (out, in / group, *kernel)")
    if kernel is not None and dims[2:] != kernel:
        raise fail(fname, f"{label}: weight '{w.name}' has the kernel {dims[2:]}, attribute 'kernel_shape' {kernel}")
    channels = dims[0]  # Conv: out channels; ConvTranspose: in channels; both a multiple of group
    if channels % group:
        raise fail(
            fname,
            f"{label}: group {group} does not divide the {channels} channels of weight '{w.name}' (dims {dims})",
        )


def check_nodes(model: Any, fname: str) -> None:
    """Attribute types (known, and as the op's schema has them) and ranges of every node."""
    for node in _all_graph_nodes(model):
        for a in node.attribute:
            if a.type not in ATTR_TYPES or a.ref_attr_name:
                raise fail(fname, f"node '{node.name}' ({node.op_type}): attribute '{a.name}' has no readable value")
            floats = [a.f] if a.type == 1 else list(a.floats) if a.type == 6 else []  # FLOAT, FLOATS
            if not all(math.isfinite(x) for x in floats):
                raise fail(fname, f"node '{node.name}' ({node.op_type}): attribute '{a.name}' is not a finite number")
    opsets = {o.domain: int(o.version) for o in model.opset_import}
    schemas = _Schemas(opsets)
    weights = {t.name: t for t in model.graph.initializer}
    for idx, node in enumerate(model.graph.node):
        label = _node_label(node, idx)
        attrs = {a.name: a for a in node.attribute}
        schema = schemas(node) if node.domain in ("", "ai.onnx") else None
        if schema is not None:
            for name, a in attrs.items():
                spec = schema.attributes.get(name)
                if spec is not None and int(spec.type.value) != a.type:
                    raise fail(
                        fname,
                        f"{label}: attribute '{name}' is a {_type_name(a.type)}, the op takes a "
                        f"{_type_name(int(spec.type.value))}",
                    )
        if node.domain not in ("", "ai.onnx"):
            continue
        if node.op_type in WINDOW_OPS:
            _check_window(node, label, fname, attrs, weights)
        for (op, name), low in MIN_INT.items():
            if node.op_type == op and name in attrs and attrs[name].i < low:
                raise fail(fname, f"{label}: attribute '{name}' is {attrs[name].i}; it must be >= {low}")


def _type_name(code: int) -> str:
    from onnx import AttributeProto

    try:
        return AttributeProto.AttributeType.Name(code).lower()
    except ValueError:
        return f"type {code}"


def check_model(model: Any, fname: str) -> None:
    """Stored tensors, graph inputs and node attributes (see the module docstring)."""
    for t, where in stored_tensors(model):
        check_tensor(t, where, fname)
    for vi in model.graph.input:
        tt = vi.type.tensor_type
        if vi.type.WhichOneof("value") == "tensor_type" and tt.HasField("shape"):
            dims = [d.dim_value for d in tt.shape.dim if d.HasField("dim_value")]
            why = check_dims(dims, f"input '{vi.name}'")
            if why:
                raise fail(fname, why)
    check_nodes(model, fname)


# --------------------------------------------------------------------------------------
# order


def order_nodes(nodes: list[Any], available: set[str], fname: str) -> tuple[list[Any], bool]:
    """Nodes in topological order (the file's order among nodes ready at once), and whether it
    changed; a tensor produced by two nodes, a node reading its own output or a cycle is a
    UsageError. Inputs nobody produces (graph inputs, initialisers, dangling names) are ready."""
    producer: dict[str, int] = {}
    for idx, node in enumerate(nodes):
        for o in node.output:
            if not o:
                continue
            if o in producer:
                raise fail(fname, f"tensor '{o}' is produced by two nodes ({_node_label(node, idx)} and another)")
            if o in node.input:
                raise fail(fname, f"{_node_label(node, idx)} reads its own output '{o}' (a self-loop)")
            producer[o] = idx
    readers: list[list[int]] = [[] for _ in nodes]
    waiting = [0] * len(nodes)
    for idx, node in enumerate(nodes):
        deps = {producer[i] for i in node.input if i and i in producer and i not in available}
        waiting[idx] = len(deps)
        for d in deps:
            readers[d].append(idx)
    ready = [idx for idx, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        idx = heapq.heappop(ready)
        order.append(idx)
        for r in readers[idx]:
            waiting[r] -= 1
            if waiting[r] == 0:
                heapq.heappush(ready, r)
    if len(order) < len(nodes):
        stuck = next(idx for idx, w in enumerate(waiting) if w)
        raise fail(fname, f"{_node_label(nodes[stuck], stuck)} is in a cycle: its inputs depend on its own outputs")
    return [nodes[i] for i in order], order != list(range(len(nodes)))


# --------------------------------------------------------------------------------------
# after shape inference


def check_shapes(model: Any, nodes: list[Any], info: dict[str, tuple[Any, int]], fname: str) -> None:
    """Conv input channels == weight channels x group; `axis` within its input's rank."""
    weights = {t.name: t for t in model.graph.initializer}
    for idx, node in enumerate(nodes):
        if node.domain not in ("", "ai.onnx") or not node.input:
            continue
        x = info.get(node.input[0], (None, 0))[0]
        attrs = {a.name: a for a in node.attribute}
        label = _node_label(node, idx)
        if node.op_type in ("Conv", "ConvTranspose") and x is not None and len(node.input) > 1:
            w = weights.get(node.input[1])
            group = attrs["group"].i if "group" in attrs else 1
            if w is not None and len(w.dims) == len(x) and len(x) >= 3:
                need = int(w.dims[1]) * group if node.op_type == "Conv" else int(w.dims[0])
                if x[1] != need:
                    raise fail(
                        fname,
                        f"{label}: input '{node.input[0]}' has {x[1]} channels, weight '{w.name}' "
                        f"(dims {list(w.dims)}) with group {group} takes {need}",
                    )
        if node.op_type in AXIS_OPS and "axis" in attrs and x is not None:
            r, axis = len(x), attrs["axis"].i
            high = r if node.op_type == "Flatten" else r - 1
            if not -r <= axis <= high and not (r == 0 and axis in (0, -1)):
                raise fail(fname, f"{label}: attribute 'axis' is {axis}; its input has rank {r} ({-r}..{high})")

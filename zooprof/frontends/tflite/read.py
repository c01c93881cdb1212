"""TFLite frontend: a .tflite file -> Graph, by reading the flatbuffer directly.

No TensorFlow, LiteRT or flatbuffers package is needed: the few tables zooprof reads
(Model, OperatorCode, SubGraph, Tensor, QuantizationParameters, Operator, Buffer and the
options of the mapped ops) are decoded here with `struct`, every offset checked against the
file size, so a truncated or foreign file is a one-line UsageError, never a crash. That also
reads Edge TPU files, which no stock interpreter can load.

1. Subgraph 0 is the model (further subgraphs are control-flow bodies: noted, not read).
2. Every operator, in the order the file lists them (the execution order), becomes a Layer
   named after its output tensor; the op mapping is in tflite_ops.py. An op with a fused
   activation (CONV_2D ... RELU6) is followed by a separate activation layer that works in
   place, so FLOPs count the activation as docs/counting.md does for every framework.
3. Tensors keep their stored dtype and quantisation (QuantSpec: scale, zero point,
   quantized dimension). NHWC image tensors (the rank-4 tensors that conv/pool ops read or
   write, and those joined to them through element-wise ops) are shown in the logical
   N, C, H, W order, axes converted with them, so the same model read from PyTorch, Keras
   or TFLite compares equal.
4. Constant tensors an op reads as weights are its ParamSpecs, at their stored dtype (int8
   weights: 1 byte each, int32 biases: 4), so weight_bytes is what the file stores.

See docs/keras-tflite.md.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends import ReadOptions
from zooprof.frontends.tflite import ops as tflite_ops
from zooprof.frontends.tflite.ops import CUSTOM, OpView, builtin_name
from zooprof.ir.graph import Graph, Layer, ParamSpec, QuantSpec, TensorSpec, numel
from zooprof.ir.ops import OpKind

Shape = tuple[int, ...]

#: constant tensors up to this many elements have their values read (axes, paddings, shapes)
SMALL_TENSOR = 4096

EDGETPU_OP = "edgetpu-custom-op"
DETECTION_POSTPROCESS_OP = "TFLite_Detection_PostProcess"

BAD_FILE_HINT = "the file may be truncated or not a TFLite model; re-export or re-download it"


class TFLiteFormatError(Exception):
    """The bytes are not a well-formed TFLite flatbuffer (the message says where)."""


# --------------------------------------------------------------------------------------
# flatbuffer decoding


class _Bytes:
    """The file's bytes with bounds-checked little-endian reads."""

    def __init__(self, data: bytes) -> None:
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


class _Table:
    """One flatbuffer table: fields looked up through its vtable."""

    __slots__ = ("b", "pos", "vt", "vt_len", "what")

    def __init__(self, b: _Bytes, pos: int, what: str) -> None:
        self.b, self.pos, self.what = b, pos, what
        self.vt = pos - b.read("<i", pos, f"the {what} table")
        self.vt_len = b.read("<H", self.vt, f"the {what} vtable")
        if self.vt_len < 4 or self.vt_len % 2:
            raise TFLiteFormatError(f"the {what} vtable at byte {self.vt} is malformed")
        b.check(self.vt, self.vt_len, f"the {what} vtable")

    def _offset(self, index: int) -> int:
        o = 4 + 2 * index
        return self.b.read("<H", self.vt + o) if o + 2 <= self.vt_len else 0

    def scalar(self, index: int, fmt: str, default: Any) -> Any:
        off = self._offset(index)
        return self.b.read(fmt, self.pos + off, f"a field of {self.what}") if off else default

    def _target(self, index: int) -> int | None:
        off = self._offset(index)
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

    def table(self, index: int, what: str) -> _Table | None:
        p = self._target(index)
        return None if p is None else _Table(self.b, p, what)

    def tables(self, index: int, what: str) -> list[_Table]:
        v = self.vector(index, 4)
        if v is None:
            return []
        start, n = v
        return [_Table(self.b, start + 4 * i + self.b.read("<I", start + 4 * i), what) for i in range(n)]


@dataclass
class TflQuant:
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    dim: int


@dataclass
class TflTensor:
    index: int
    name: str
    shape: Shape
    type_code: int
    buffer: int
    quant: TflQuant | None
    signature: Shape | None = None
    sparse: bool = False
    is_variable: bool = False


@dataclass
class TflOp:
    index: int
    opcode: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: _Table | None
    custom_bytes: int
    custom_options: tuple[int, int] | None = None  # (start, length) of the custom options in the file


@dataclass
class TflModel:
    """The parts of a .tflite file zooprof reads (subgraph 0)."""

    version: int
    description: str
    opcodes: list[tuple[int, str]]  # (builtin code, custom code)
    tensors: list[TflTensor]
    ops: list[TflOp]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    buffers: list[tuple[int, int]]  # (start, length) of each buffer's data; (0, 0) if none
    subgraphs: int
    raw: _Bytes = field(repr=False)

    def op_name(self, op: TflOp) -> str:
        code, custom = self.opcodes[op.opcode]
        return (custom or "CUSTOM") if code == CUSTOM else builtin_name(code)

    def is_custom(self, op: TflOp) -> bool:
        return self.opcodes[op.opcode][0] == CUSTOM

    def has_data(self, t: int) -> bool:
        if t < 0:
            return False
        b = self.tensors[t].buffer
        return 0 < b < len(self.buffers) and self.buffers[b][1] > 0

    def values(self, t: int) -> list[Any] | None:
        """The values of a small constant tensor (flattened), or None."""
        tensor = self.tensors[t]
        fmt = tflite_ops.VALUE_FORMATS.get(tensor.type_code)
        n = numel(tensor.shape)
        if not self.has_data(t) or fmt is None or n > SMALL_TENSOR or tensor.sparse:
            return None
        start, length = self.buffers[tensor.buffer]
        if length < n * struct.calcsize("<" + fmt):
            return None
        return list(struct.unpack_from(f"<{n}{fmt}", self.raw.data, start))


def _tensor(b: _Bytes, t: _Table, index: int) -> TflTensor:
    q = t.table(4, "quantization")
    quant = None
    if q is not None:
        scale = q.numbers(2, "f") or []
        zp = q.numbers(3, "q") or []
        if scale:
            quant = TflQuant(
                tuple(float(s) for s in scale),
                tuple(int(z) for z in zp) or (0,) * len(scale),
                int(q.scalar(6, "<i", 0)),
            )
    sig = t.ints(7)
    return TflTensor(
        index,
        t.string(3) or f"tensor_{index}",
        tuple(int(d) for d in (t.ints(0) or [])),
        int(t.scalar(1, "<b", 0)),
        int(t.scalar(2, "<I", 0)),
        quant,
        tuple(int(d) for d in sig) if sig else None,
        t._offset(6) != 0,
        bool(t.scalar(5, "<B", 0)),
    )


def parse(data: bytes) -> TflModel:
    """Decode the Model table and subgraph 0. Raises TFLiteFormatError on malformed bytes."""
    if len(data) < 8:
        raise TFLiteFormatError(f"the file has {len(data)} bytes, too few for a flatbuffer")
    if data[4:8] != b"TFL3":
        raise TFLiteFormatError(f"no TFL3 identifier (bytes 4-8 are {data[4:8]!r})")
    b = _Bytes(data)
    root = _Table(b, b.read("<I", 0, "the root offset"), "Model")
    codes = []
    for oc in root.tables(1, "OperatorCode"):
        deprecated = int(oc.scalar(0, "<b", 0))
        code = max(deprecated, int(oc.scalar(3, "<i", 0)))
        codes.append((code, oc.string(1) or ""))
    buffers = []
    for buf in root.tables(4, "Buffer"):
        v = buf.vector(0, 1)
        if v is not None and v[1] > 0:
            buffers.append(v)
            continue
        offset, size = int(buf.scalar(1, "<Q", 0)), int(buf.scalar(2, "<Q", 0))
        if offset > 1 and size > 0:  # large models keep tensor data after the flatbuffer
            b.check(offset, size, "a tensor buffer")
            buffers.append((offset, size))
        else:
            buffers.append((0, 0))
    subgraphs = root.tables(2, "SubGraph")
    if not subgraphs:
        raise TFLiteFormatError("it holds no subgraph")
    g = subgraphs[0]
    tensors = [_tensor(b, t, i) for i, t in enumerate(g.tables(0, "Tensor"))]
    nt = len(tensors)
    ops = []
    for i, op in enumerate(g.tables(3, "Operator")):
        opcode = int(op.scalar(0, "<I", 0))
        if opcode >= len(codes):
            raise TFLiteFormatError(f"operator {i} uses operator code {opcode}, the file defines {len(codes)}")
        ins, outs = tuple(op.ints(1) or ()), tuple(op.ints(2) or ())
        if any(t >= nt or t < -1 for t in ins + outs):
            raise TFLiteFormatError(f"operator {i} refers to a tensor the subgraph does not have")
        custom = op.vector(5, 1)
        custom_bytes = custom[1] if custom else int(op.scalar(10, "<Q", 0))
        ops.append(TflOp(i, opcode, ins, outs, op.table(4, "options"), custom_bytes, custom))
    for t in tensors:
        if t.buffer >= len(buffers):
            raise TFLiteFormatError(f"tensor '{t.name}' refers to buffer {t.buffer}, the file has {len(buffers)}")
    gin, gout = tuple(g.ints(1) or ()), tuple(g.ints(2) or ())
    if any(not 0 <= t < nt for t in gin + gout):
        raise TFLiteFormatError("the subgraph's inputs or outputs refer to tensors it does not have")
    return TflModel(
        int(root.scalar(0, "<I", 0)), root.string(3) or "", codes, tensors, ops, gin, gout, buffers, len(subgraphs), b
    )


def load(path: Path) -> TflModel:
    """Parse `path`; a missing, truncated or foreign file is a one-line UsageError."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist", "check the path")
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a TFLite file", "give the path of the .tflite file")
    try:
        return parse(path.read_bytes())
    except (TFLiteFormatError, struct.error, UnicodeDecodeError, RecursionError) as exc:
        raise UsageError(f"{path.name} is not a valid TFLite file: {exc}", BAD_FILE_HINT) from None


def detection_postprocess_attrs(m: TflModel, op: TflOp, in_shapes: list[Shape | None]) -> dict[str, Any]:
    """TFLite_Detection_PostProcess (SSD box decoding + NMS): its FlexBuffer options and the
    anchor and class counts of its inputs (box encodings [1, A, 4], class scores [1, A, C+1])."""
    from zooprof.frontends.tflite.flexbuffers import FlexBufferError, loads

    attrs: dict[str, Any] = {}
    if op.custom_options is not None:
        start, length = op.custom_options
        try:
            options = loads(m.raw.data[start : start + length])
        except FlexBufferError as exc:
            attrs["options_unreadable"] = str(exc)
        else:
            if isinstance(options, dict):
                attrs.update(
                    {
                        k: round(v, 6) if isinstance(v, float) else v
                        for k, v in options.items()
                        if isinstance(v, (int, float, str, bool))
                    }
                )
    boxes = in_shapes[0] if in_shapes else None
    if boxes and len(boxes) == 3:
        attrs["anchors"] = int(boxes[1])
    return attrs


def edgetpu_ops(path: Path) -> int:
    """How many Edge TPU custom ops the (valid) .tflite file at `path` has; 0 if unreadable."""
    try:
        model = parse(Path(path).read_bytes())
    except (OSError, TFLiteFormatError, struct.error):
        return 0
    return sum(1 for op in model.ops if model.is_custom(op) and model.op_name(op) == EDGETPU_OP)


def edgetpu_note(count: int) -> str:
    return (
        f"Edge TPU model: {count} op(s) compiled for the Edge TPU ({EDGETPU_OP}); their layers, params and "
        "MACs cannot be read; running it needs an Edge TPU and the libedgetpu delegate"
    )


# --------------------------------------------------------------------------------------
# the graph


class _Dtypes:
    """TensorType -> dtype name, remembering approximations for the notes."""

    def __init__(self) -> None:
        self.approximated: dict[str, str] = {}

    def __call__(self, code: int) -> str:
        if code in tflite_ops.DTYPES:
            return tflite_ops.DTYPES[code]
        theirs, ours = tflite_ops.DTYPE_APPROX.get(code, (f"type {code}", "float32"))
        self.approximated[theirs] = ours
        return ours


def _fmt(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def to_logical(shape: Shape) -> Shape:
    """NHWC -> N, C, H, W."""
    n, h, w, c = shape
    return (n, c, h, w)


class _Reader:
    """Builds the Graph from a parsed TflModel."""

    def __init__(self, model: TflModel, fname: str) -> None:
        self.m = model
        self.fname = fname
        self.dtype = _Dtypes()
        self.names = [model.op_name(op) for op in model.ops]
        self.const = {t.index for t in model.tensors if model.has_data(t.index)}
        self.weight_derived = self._weight_derived()
        self.image = self._images()
        self.batch: tuple[int, int] | None = None
        self.measured: dict[int, Shape] = {}
        self.resize: list[Shape] | None = None
        self.used: dict[str, int] = {}
        self.tensor_names = self._tensor_names()

    # -- which tensors are what

    def _weight_derived(self) -> set[int]:
        """Outputs of ops that read only stored constants (a DEQUANTIZE of float16 weights)."""
        derived: set[int] = set()
        for op in self.m.ops:
            ins = [t for t in op.inputs if t >= 0]
            if ins and not self.m.is_custom(op) and all(t in self.const or t in derived for t in ins):
                derived.update(op.outputs)
        return derived

    def _activation4(self, t: int) -> bool:
        return t >= 0 and t not in self.const and t not in self.weight_derived and len(self.m.tensors[t].shape) == 4

    def _images(self) -> set[int]:
        """Rank-4 tensors in NHWC image layout: those spatial ops read or write, and those
        joined to them through layout-preserving ops (element-wise, activations, pad, concat)."""
        image: set[int] = set()
        for op, name in zip(self.m.ops, self.names, strict=True):
            if name in tflite_ops.SPATIAL_OPS:
                d = tflite_ops.DATA_INPUT.get(name, 0)
                for t in ([op.inputs[d]] if d < len(op.inputs) else []) + list(op.outputs[:1]):
                    if self._activation4(t):
                        image.add(t)
        for t in self.m.inputs:
            readers = [op for op in self.m.ops if t in op.inputs]
            if self._activation4(t) and readers and all(self.m.is_custom(op) for op in readers):
                image.add(t)  # an image fed to a custom op (an Edge TPU program): TFLite is NHWC
        preserving = [
            [t for t in op.inputs + op.outputs if self._activation4(t)]
            for op, name in zip(self.m.ops, self.names, strict=True)
            if name in tflite_ops.LAYOUT_PRESERVING
        ]
        changed = True
        while changed:
            changed = False
            for ts in preserving:
                if any(t in image for t in ts) and not all(t in image for t in ts):
                    image.update(ts)
                    changed = True
        return image

    def _tensor_names(self) -> list[str]:
        """Tensor names, made unique (a name used twice gets #index)."""
        counts = Counter(t.name for t in self.m.tensors)
        return [t.name if counts[t.name] == 1 else f"{t.name}#{t.index}" for t in self.m.tensors]

    # -- shapes

    def raw_shape(self, t: int) -> Shape:
        if t in self.measured:
            return self.measured[t]
        if self.resize is not None and t in self.m.inputs:
            return self.resize[self.m.inputs.index(t)]
        shape = self.m.tensors[t].shape
        if self.batch and shape and shape[0] == self.batch[0] and t not in self.const and t not in self.weight_derived:
            return (self.batch[1], *shape[1:])
        return shape

    def shape(self, t: int) -> Shape:
        s = self.raw_shape(t)
        return to_logical(s) if t in self.image else s

    def spec(self, t: int, name: str | None = None) -> TensorSpec:
        tensor = self.m.tensors[t]
        quant = None
        if tensor.quant is not None:
            q = tensor.quant
            axis = None
            if len(q.scale) > 1:
                axis = tflite_ops.logical_axis(q.dim, 4, True) if t in self.image else q.dim
            quant = QuantSpec(q.scale, q.zero_point, axis)
        return TensorSpec(name or self.tensor_names[t], self.shape(t), self.dtype(tensor.type_code), quant)

    def dynamic_tensors(self) -> list[int]:
        """Activations whose shape signature has a dynamic (-1) dimension after the batch: the
        converter could not size them, and their stored shape is a placeholder."""
        return [
            t.index
            for t in self.m.tensors
            if t.index not in self.const and t.signature and any(d < 0 for d in t.signature[1:])
        ]

    def set_input_shapes(self, shapes: list[Shape] | None, notes: list[str]) -> list[Shape]:
        """The input shapes to analyse, in logical order. The file fixes every dimension its
        shape signature does not mark dynamic (-1); --input-shape may change the batch and
        the dynamic dimensions, in logical or file order. A dynamic dimension other than the
        batch needs --input-shape (the stored shape is a placeholder)."""
        ins = self.m.inputs
        stored = [self.m.tensors[t].shape for t in ins]
        sigs = [self.m.tensors[t].signature or self.m.tensors[t].shape for t in ins]
        if shapes is None:
            for t, sig in zip(ins, sigs, strict=True):
                dynamic = [i for i, d in enumerate(sig) if i > 0 and d < 0]
                if dynamic:
                    example = tuple(d if d > 0 else 224 for d in sig[1:])
                    example = to_logical((1, *example)) if t in self.image else (1, *example)
                    raise UsageError(
                        f"{self.fname}: input '{self.tensor_names[t]}' has dynamic dimension(s) "
                        f"{', '.join(map(str, dynamic))} (file order, signature {list(sig)}) and no "
                        "--input-shape was given",
                        f"give a size for each, e.g. --input-shape {_fmt(example)}",
                    )
            return [self.shape(t) for t in ins]
        if len(shapes) != len(ins):
            names = ", ".join(f"'{self.tensor_names[t]}'" for t in ins)
            raise UsageError(
                f"{self.fname} has {len(ins)} input(s) ({names}) but --input-shape gives {len(shapes)}",
                "give one shape per input, separated by commas, in that order",
            )
        chosen: list[Shape] = []
        for t, raw, sig, given in zip(ins, stored, sigs, shapes, strict=True):
            given = tuple(int(d) for d in given)
            candidates = [given]
            if t in self.image and len(given) == 4:
                n, c, h, w = given
                candidates.insert(0, (n, h, w, c))  # logical N, C, H, W first
            match = next(
                (
                    g
                    for g in candidates
                    if len(g) == len(raw)
                    and len(g) > 0
                    and all(i == 0 or g[i] == raw[i] or sig[i] < 0 for i in range(len(g)))
                ),
                None,
            )
            if match is None:
                log = self.shape(t)
                stored_note = f" (stored NHWC {_fmt(raw)})" if t in self.image else ""
                raise UsageError(
                    f"{self.fname} fixes the shape of input '{self.tensor_names[t]}' to "
                    f"{_fmt(log)}{stored_note}; --input-shape gives {_fmt(given)}",
                    "a TFLite file's shapes are fixed when it is converted (only dimensions its shape "
                    f"signature marks -1 can change) and the batch, e.g. --input-shape "
                    f"{_fmt((2, *log[1:]))}",
                )
            chosen.append(match)
        if any(g[1:] != raw[1:] for g, raw in zip(chosen, stored, strict=True)):
            self.resize = chosen  # sized by the interpreter: see _read
            notes.append(
                "input shape(s) " + ", ".join(_fmt(g) for g in chosen) + " (file order) set where the "
                "file leaves dimensions dynamic"
            )
        else:
            batches = {g[0] for g in chosen}
            old = stored[0][0] if stored and stored[0] else 1
            if batches != {old}:
                if len(batches) > 1 or any(raw and raw[0] != old for raw in stored):
                    raise UsageError(
                        f"{self.fname}: the inputs would get different batch sizes", "give every input the same batch"
                    )
                new = batches.pop()
                self.batch = (old, new)
                notes.append(
                    f"batch {new}: every activation whose first dimension is the stored batch ({old}) "
                    f"is taken with batch {new} (the file stores batch {old})"
                )
        return [to_logical(g) if t in self.image else g for t, g in zip(ins, chosen, strict=True)]

    # -- layers

    def unique(self, name: str) -> str:
        n = self.used.get(name, 0)
        self.used[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def label(self, op: TflOp, name: str) -> str:
        """A layer's name: the part of its output tensor's name that names the op (the
        converter joins the names of fused ops with ';'), or OPNAME_index."""
        if not op.outputs or op.outputs[0] < 0:
            return f"{name.lower()}_{op.index}"
        parts = [p for p in self.tensor_names[op.outputs[0]].split(";") if p]
        if not parts:
            return f"{name.lower()}_{op.index}"
        for hint in NAME_HINTS.get(name, ()):
            for p in parts:
                if hint in p.rsplit("/", 1)[-1].lower():
                    return p
        if len(parts) > 1:  # a fused activation's name comes first: name the op itself
            rest = [p for p in parts if p.rsplit("/", 1)[-1].lower().rstrip("0123456789_") not in ACTIVATION_WORDS]
            if rest:
                return rest[0]
        return parts[0]

    def param_shape(self, name: str, i: int, shape: Shape) -> Shape:
        """Conv weights in the logical O, I, kH, kW order (stored OHWI / 1HWC)."""
        if len(shape) == 4 and i == 1:
            o, h, w, c = shape
            if name in ("CONV_2D", "TRANSPOSE_CONV"):
                return (o, c, h, w)
            if name == "DEPTHWISE_CONV_2D":
                return (c, o, h, w)
        return shape

    def layers(self) -> tuple[list[Layer], dict[str, Any]]:
        stats: dict[str, Any] = {
            "fused": Counter(),
            "unknown": Counter(),
            "custom": Counter(),
            "edgetpu": 0,
            "edgetpu_bytes": 0,
            "dequantized_weights": 0,
        }
        out: list[Layer] = []
        for op, name in zip(self.m.ops, self.names, strict=True):
            out.extend(self.layer(op, name, stats))
        return out, stats

    def layer(self, op: TflOp, name: str, stats: dict[str, Any]) -> list[Layer]:
        m = self.m
        custom = m.is_custom(op)
        in_shapes = [self.raw_shape(t) if t >= 0 else None for t in op.inputs]
        view = OpView(
            name=name,
            options=op.options or tflite_ops.NO_OPTIONS,
            in_shapes=in_shapes,
            in_values=[m.values(t) if t in self.const else None for t in op.inputs],
            out_shapes=[self.raw_shape(t) for t in op.outputs if t >= 0],
        )
        d = tflite_ops.DATA_INPUT.get(name, 0)
        view.image_in = d < len(op.inputs) and op.inputs[d] in self.image
        view.image_out = bool(op.outputs) and op.outputs[0] in self.image
        if op.inputs and op.outputs and op.inputs[0] >= 0:
            view.extra = {
                "in_dtype": self.dtype(m.tensors[op.inputs[0]].type_code),
                "out_dtype": self.dtype(m.tensors[op.outputs[0]].type_code),
            }
        if custom:
            kind, attrs = OpKind.UNKNOWN, {"unmapped": f"custom op '{name}'"}
            stats["custom"][name] += 1
            if name == EDGETPU_OP:
                stats["edgetpu"] += 1
                stats["edgetpu_bytes"] += op.custom_bytes
                attrs = {
                    "unmapped": "compiled for the Edge TPU: its layers cannot be read",
                    "custom_options_bytes": op.custom_bytes,
                }
            elif name == DETECTION_POSTPROCESS_OP:
                kind, attrs = OpKind.DETECTION_POSTPROCESS, detection_postprocess_attrs(m, op, in_shapes)
                stats["custom"].pop(name)  # recognised: reported as post-processing, not as an unknown custom op
        else:
            kind, attrs = tflite_ops.map_op(view)
        if kind is OpKind.UNKNOWN:
            stats["unknown"][name] += 1

        all_const = bool(op.inputs) and all(t < 0 or t in self.const or t in self.weight_derived for t in op.inputs)
        inputs: list[TensorSpec] = []
        params: list[ParamSpec] = []
        for i, t in enumerate(op.inputs):
            if t < 0:
                continue
            if t in self.const:
                tensor = m.tensors[t]
                n = numel(tensor.shape)
                if tflite_ops.param_role(name, i, n) and all(p.name != self.tensor_names[t] for p in params):
                    role = "buffer" if name == DETECTION_POSTPROCESS_OP else "trainable"  # anchors: stored, not learned
                    params.append(
                        ParamSpec(
                            self.tensor_names[t],
                            self.param_shape(name, i, tensor.shape),
                            self.dtype(tensor.type_code),
                            role,
                        )
                    )
                if all_const:
                    inputs.append(self.spec(t))
                continue
            inputs.append(self.spec(t))
        if name == "DEQUANTIZE" and all_const:
            stats["dequantized_weights"] += 1
        outputs = [self.spec(t) for t in op.outputs if t >= 0]
        if not outputs:
            return []
        label = self.unique(self.label(op, name))
        scope = ".".join(label.split("/")[:-1]) if "/" in label else ""
        fused = None
        if not custom and name in tflite_ops.FUSED_FIELD and op.options is not None:
            fused = tflite_ops.FUSED.get(int(op.options.scalar(tflite_ops.FUSED_FIELD[name], "<b", 0)))
        result: list[Layer] = []
        pre: list[Layer] = []
        if kind is OpKind.DENSE and len(inputs) and len(inputs[0].shape) > 2 and not attrs.get("keep_num_dims"):
            # TFLite flattens the input of FULLY_CONNECTED to (-1, in_features) itself
            x = inputs[0]
            flat = TensorSpec(
                f"{x.name}#flattened",
                (numel(x.shape) // int(attrs["in_features"]), int(attrs["in_features"])),
                x.dtype,
                x.quant,
            )
            pre.append(
                Layer(
                    self.unique(f"{label}/flatten"),
                    OpKind.FLATTEN,
                    f"{name} (implicit flatten)",
                    (x,),
                    (flat,),
                    {"implicit": True},
                    (),
                    scope,
                )
            )
            inputs[0] = flat
        if fused is not None:
            act_name, act_kind = fused
            attrs["fused_activation"] = act_name
            real = outputs[0]
            pre_act = TensorSpec(f"{real.name}#pre_activation", real.shape, real.dtype, real.quant)
            result.append(Layer(label, kind, name, tuple(inputs), (pre_act, *outputs[1:]), attrs, tuple(params), scope))
            act_attrs: dict[str, Any] = {"fused_into": label}
            if act_kind is OpKind.UNKNOWN:
                act_attrs["unmapped"] = f"fused activation {act_name}"
                stats["unknown"][act_name] += 1
            result.append(
                Layer(
                    self.unique(f"{label}/{act_name.lower()}"),
                    act_kind,
                    f"{name} fused {act_name}",
                    (pre_act,),
                    (real,),
                    act_attrs,
                    (),
                    scope,
                    inplace=True,
                )
            )
            stats["fused"][act_name] += 1
        else:
            result.append(Layer(label, kind, name, tuple(inputs), tuple(outputs), attrs, tuple(params), scope))
        return pre + result


#: builtin -> words that mark, in a fused tensor name, the part naming the op itself
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "CONV_2D": ("convolution", "conv2d", "conv"),
    "DEPTHWISE_CONV_2D": ("depthwise",),
    "FULLY_CONNECTED": ("matmul", "tensordot", "dense", "biasadd"),
    "TRANSPOSE_CONV": ("conv2d_transpose", "transpose"),
}


#: last name components that name a (fused) activation, not the op it is fused into
ACTIVATION_WORDS = frozenset({"relu", "relu6", "tanh", "sigmoid", "clip_by_value", "hardtanh"})


def _quant_notes(
    reader: _Reader, layers: list[Layer], input_specs: Sequence[TensorSpec], output_ids: Sequence[int]
) -> list[str]:
    m = reader.m
    quantised = [t for t in m.tensors if t.quant is not None]
    weights = [
        p
        for layer in layers
        if layer.op in (OpKind.CONV, OpKind.DENSE, OpKind.CONV_TRANSPOSE)
        for p in layer.params[:1]
    ]
    w_dtypes = Counter(p.dtype for p in weights)
    act_dtypes = Counter(
        layer.inputs[0].dtype for layer in layers if layer.op in (OpKind.CONV, OpKind.DENSE) and layer.inputs
    )
    by_index = {reader.tensor_names[t.index]: t for t in m.tensors}
    per_channel = sum(1 for p in weights if (t := by_index.get(p.name)) and t.quant and len(t.quant.scale) > 1)
    notes = []
    if not quantised:
        halves = any(p.dtype == "float16" for layer in layers for p in layer.params)
        notes.append(
            "quantisation: none; float16 weights, dequantised to float32 at run time"
            if halves
            else "quantisation: none (float weights and activations)"
        )
        return notes
    int_w = sum(v for k, v in w_dtypes.items() if k in ("int8", "uint8", "int16"))
    int_a = sum(v for k, v in act_dtypes.items() if k in ("int8", "uint8", "int16"))
    if int_w and int_a:
        scheme = f"full integer ({', '.join(sorted(w_dtypes))} weights, {', '.join(sorted(act_dtypes))} activations)"
    elif int_w:
        scheme = "dynamic range (integer weights, float activations: weights dequantised at run time)"
    elif not weights:
        kinds = Counter(reader.dtype(t.type_code) for t in quantised)
        scheme = "integer tensors " + ", ".join(f"{k} x{v}" for k, v in kinds.most_common())
    else:
        scheme = "partial (some tensors quantised)"
    parts = [
        f"quantisation: {len(quantised)} of {len(m.tensors)} tensors carry quantisation parameters; scheme {scheme}"
    ]
    if weights:
        parts.append(f"{per_channel} of {len(weights)} conv/dense weight tensors per-channel")
    io = []
    for spec in input_specs:
        io.append(_io_quant("input", spec))
    for t in output_ids:
        io.append(_io_quant("output", reader.spec(t)))
    notes.append("; ".join(parts) + "; " + "; ".join(io))
    return notes


def _io_quant(role: str, spec: TensorSpec) -> str:
    if spec.quant is None:
        return f"{role} '{spec.name}' {spec.dtype}"
    scale = ", ".join(f"{s:.6g}" for s in spec.quant.scale[:3])
    zp = ", ".join(str(z) for z in spec.quant.zero_point[:3])
    return f"{role} '{spec.name}' {spec.dtype} (scale {scale}, zero point {zp})"


def measure_shapes(
    path: Path, input_shapes: Sequence[Shape] | None, tensors: Sequence[int]
) -> tuple[dict[int, Shape], str | None]:
    """Shapes (file order) of `tensors` after one run of the LiteRT interpreter (no default
    delegates) on zero inputs of `input_shapes` (file order; None: as stored), for shapes the
    file leaves dynamic; ({}, why) when that is not possible."""
    try:
        import numpy as np
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError as exc:
        return {}, f"ai-edge-litert is not installed: {exc}"
    try:
        interp = Interpreter(
            model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
        if input_shapes:
            for d, shape in zip(interp.get_input_details(), input_shapes, strict=True):
                interp.resize_tensor_input(d["index"], list(shape))
        interp.allocate_tensors()
        for d in interp.get_input_details():
            interp.set_tensor(d["index"], np.zeros(tuple(d["shape"]), dtype=d["dtype"]))
        interp.invoke()
        details = {d["index"]: d for d in interp.get_tensor_details()}
        return {t: tuple(int(x) for x in details[t]["shape"]) for t in tensors if t in details}, None
    except Exception as exc:  # the interpreter rejects the model (custom ops, bad shapes)
        text = str(exc).strip()
        return {}, text.splitlines()[0][:200] if text else type(exc).__name__


def read_tflite(path: Path, shapes: list[tuple[int, ...]] | None = None) -> tuple[Graph, list[tuple[int, ...]]]:
    """Read a .tflite file into a Graph (framework "tflite", trace method "tflite-flatbuffer")
    and the input shapes used (logical order). `shapes` may change the batch only."""
    path = Path(path)
    try:
        return _read(path, shapes)
    except (TFLiteFormatError, struct.error) as exc:  # an options table read while building the layers
        raise UsageError(f"{path.name} is not a valid TFLite file: {exc}", BAD_FILE_HINT) from None


def _read(path: Path, shapes: list[tuple[int, ...]] | None) -> tuple[Graph, list[tuple[int, ...]]]:
    model = load(path)
    reader = _Reader(model, path.name)
    notes: list[str] = []
    desc = f" ({model.description.strip()})" if model.description.strip() else ""
    more = (
        f"; {model.subgraphs - 1} more subgraph(s) (control-flow bodies) are not analysed"
        if model.subgraphs > 1
        else ""
    )
    notes.append(f"TFLite schema version {model.version}{desc}: {len(model.ops)} operator(s) in subgraph 0{more}")
    input_shapes = reader.set_input_shapes(shapes, notes)
    dynamic = reader.dynamic_tensors()
    if reader.resize is not None:
        wanted = [t.index for t in model.tensors if t.index not in reader.const]
        measured, why = measure_shapes(path, reader.resize, wanted)
        if not measured:
            raise UsageError(
                f"{path.name}: sizing the model at --input-shape "
                f"{', '.join(_fmt(s) for s in input_shapes)} needs the LiteRT interpreter, which "
                f"failed: {why}",
                "pip install 'zooprof[tflite]', or leave out --input-shape",
            )
        reader.measured = measured
        notes.append("every tensor shape measured with the LiteRT interpreter on zero inputs at that input shape")
    elif dynamic:
        batch = reader.batch[1] if reader.batch else None
        raw_inputs = [(batch, *model.tensors[t].shape[1:]) for t in model.inputs] if batch else None
        measured, why = measure_shapes(path, raw_inputs, dynamic)
        reader.measured = measured
        if measured:
            notes.append(
                f"{len(dynamic)} tensor shape(s) are dynamic in the file (the converter could not size "
                "them): measured with the LiteRT interpreter on zero inputs"
            )
        else:
            notes.append(
                f"{len(dynamic)} tensor shape(s) are dynamic in the file and could not be measured "
                f"({why}): their stored placeholder shapes are used, so counts on them are unreliable"
            )
    layers, stats = reader.layers()
    input_specs = tuple(reader.spec(t) for t in model.inputs)
    if reader.image:
        notes.append(
            "layout: NHWC in the file; image tensors are shown as N, C, H, W, conv weights as "
            "O, I, kH, kW (stored OHWI)"
        )
    if stats["edgetpu"]:
        notes.append(edgetpu_note(stats["edgetpu"]))
        notes.append(
            f"the Edge TPU program and its weights are {stats['edgetpu_bytes']:,} bytes of custom "
            "options, not counted as params"
        )
    notes.extend(_quant_notes(reader, layers, input_specs, model.outputs))
    if stats["fused"]:
        which = ", ".join(f"{k} x{v}" for k, v in stats["fused"].most_common())
        notes.append(
            f"{sum(stats['fused'].values())} fused activation(s) ({which}) shown as their own in-place "
            "layers after the op that fuses them, so FLOPs count them as docs/counting.md does"
        )
    if any(layer.op is OpKind.CONV for layer in layers):
        notes.append(
            "BatchNorm, where the source model had it, is folded into the conv weights and biases by the "
            "TFLite converter: each BN's 4 x C values (gamma, beta, moving mean and variance, all in "
            "Keras' count_params) become C bias values (or nothing, if the conv had a bias), so params "
            "are lower than the Keras model's by 3 x C (or 4 x C) per BN"
        )
    if stats["dequantized_weights"]:
        notes.append(
            f"{stats['dequantized_weights']} DEQUANTIZE op(s) expand stored weights at run time; those "
            "weights are listed on the DEQUANTIZE layers"
        )
    readers = Counter(p.name for layer in layers for p in layer.params)
    shared = [n for n, k in readers.items() if k > 1]
    if shared:
        notes.append(
            f"{len(shared)} constant tensor(s) read by several ops, counted once "
            f"({', '.join(shared[:3])}{' ...' if len(shared) > 3 else ''}): shared weights, or equal "
            "tensors the converter merged (e.g. an untrained model's all-zero biases)"
        )
    custom = {k: v for k, v in stats["custom"].items() if k != EDGETPU_OP}
    if custom:
        notes.append("custom ops are uncounted: " + ", ".join(f"{k} x{v}" for k, v in custom.items()))
    sparse = sum(1 for t in model.tensors if t.sparse)
    if sparse:
        notes.append(f"{sparse} sparse tensor(s): their weight bytes are counted dense")
    if reader.dtype.approximated:
        notes.append(
            "dtypes without a zooprof equivalent, counted at the element size of: "
            + ", ".join(f"{k} as {v}" for k, v in sorted(reader.dtype.approximated.items()))
        )
    notes.append(
        "params: the stored constants each op reads as weights, at their stored dtype; TFLite has no "
        "trainable flag, so all count as trainable"
    )
    graph = Graph(
        path.stem,
        "tflite",
        input_specs,
        tuple(layers),
        tuple(reader.tensor_names[t] for t in model.outputs),
        "tflite-flatbuffer",
        tuple(notes),
    )
    return graph, input_shapes


def read(ref: Any, shapes: list[tuple[int, ...]] | None, options: ReadOptions) -> tuple[Graph, list[tuple[int, ...]]]:
    """Read a resolved reference (zooprof.reference.resolve.ModelRef) whose source is a .tflite path."""
    return read_tflite(Path(ref.source), shapes)

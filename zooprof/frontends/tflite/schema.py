"""The TFLite model tables zooprof reads: Model, OperatorCode, Buffer, SubGraph 0, Tensor,
QuantizationParameters and Operator, decoded from a .tflite file's bytes.

`parse(data) -> TflModel` decodes them with zooprof.frontends.tflite.flatbuffer (field
indices from schema.fbs) and checks every cross-reference (operator codes, tensors,
buffers); `load(path)` does the same for a file and turns any malformed byte into a
one-line UsageError (BAD_FILE_HINT). `TflModel` answers what the graph builder asks: an
op's name, whether it is custom, whether a tensor has stored data, a small constant's values.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.limits import check_model_file
from zooprof.frontends.tflite.codes import CUSTOM, VALUE_FORMATS, builtin_name
from zooprof.frontends.tflite.flatbuffer import FlatBytes, Table, TFLiteFormatError
from zooprof.ir.graph import numel

Shape = tuple[int, ...]

#: constant tensors up to this many elements have their values read (axes, paddings, shapes)
SMALL_TENSOR = 4096

#: The largest .tflite file zooprof reads (mapped, not read into memory); ZOOPROF_MAX_TFLITE_BYTES overrides.
MAX_TFLITE_BYTES = 4 * 2**30
MAX_TFLITE_ENV = "ZOOPROF_MAX_TFLITE_BYTES"

BAD_FILE_HINT = "the file may be truncated or not a TFLite model; re-export or re-download it"


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
    options: Table | None
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
    raw: FlatBytes = field(repr=False)

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
        fmt = VALUE_FORMATS.get(tensor.type_code)
        n = numel(tensor.shape)
        if not self.has_data(t) or fmt is None or n > SMALL_TENSOR or tensor.sparse:
            return None
        start, length = self.buffers[tensor.buffer]
        if length < n * struct.calcsize("<" + fmt):
            return None
        return list(struct.unpack_from(f"<{n}{fmt}", self.raw.data, start))


def _tensor(b: FlatBytes, t: Table, index: int) -> TflTensor:
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
        t.offset(6) != 0,
        bool(t.scalar(5, "<B", 0)),
    )


def parse(data: Any) -> TflModel:
    """Decode the Model table and subgraph 0. Raises TFLiteFormatError on malformed bytes."""
    if len(data) < 8:
        raise TFLiteFormatError(f"the file has {len(data)} bytes, too few for a flatbuffer")
    if data[4:8] != b"TFL3":
        raise TFLiteFormatError(f"no TFL3 identifier (bytes 4-8 are {data[4:8]!r})")
    b = FlatBytes(data)
    root = Table(b, b.read("<I", 0, "the root offset"), "Model")
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
    size = check_model_file(path, "a TFLite file", MAX_TFLITE_ENV, MAX_TFLITE_BYTES)
    try:
        with open(path, "rb") as f:
            data: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path.name} cannot be read: {exc}", "check the file") from None
    try:
        return parse(data)
    except (TFLiteFormatError, struct.error, UnicodeDecodeError, RecursionError) as exc:
        raise UsageError(f"{path.name} is not a valid TFLite file: {exc}", BAD_FILE_HINT) from None

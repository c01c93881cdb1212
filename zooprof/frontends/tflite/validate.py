"""Validating a parsed TFLite model before anything is computed from it: the one place that
refuses a malformed or hostile file (the flatbuffer decoder, flatbuffer.py and schema.py,
already refuses bytes out of range, operator codes, tensors and buffers that do not exist).

Before parsing, `schema.load` checks the file is a regular file of at most
`schema.MAX_TFLITE_BYTES` (4 GiB: large models keep their buffers after the 2 GiB
flatbuffer; `ZOOPROF_MAX_TFLITE_BYTES` raises it) and maps it rather than reading it.
After parsing, `validate`: every tensor shape and shape signature has dimensions >= 0 or -1 (dynamic)
  within zooprof.frontends.limits, a graph input none of size 0; a constant's buffer holds
  at least the bytes its shape and type need; every op reads only tensors that are graph
  inputs, variables, constants or outputs of an earlier op (not its own output: a cycle),
  and no tensor is written by two ops.

Each refusal is a one-line UsageError naming the file, the tensor or operator and the
field. See docs/keras-tflite.md, "Validation and limits".
"""

from __future__ import annotations

from zooprof.errors import UsageError
from zooprof.frontends.limits import check_dims
from zooprof.frontends.tflite.schema import BAD_FILE_HINT, TflModel
from zooprof.ir.graph import numel

#: TensorType -> bits per element, for the types of a fixed size.
BITS: dict[int, int] = {
    **{0: 32, 1: 16, 2: 32, 3: 8, 4: 64, 6: 8, 7: 16, 8: 64, 9: 8, 10: 64, 11: 128, 12: 64},
    **{15: 32, 16: 16, 17: 4, 18: 16, 19: 2, 20: 4, 21: 8, 22: 8},
}


def _fail(fname: str, what: str) -> UsageError:
    return UsageError(f"{fname}: {what}", BAD_FILE_HINT)


def _check_shapes(model: TflModel, fname: str) -> None:
    for t in model.tensors:
        for dims, field in ((t.shape, "shape"), (t.signature or (), "shape signature")):
            why = check_dims(dims, f"tensor '{t.name}' ({field} {list(dims)})", allow=(-1,))
            if why:
                raise _fail(fname, why)
    for i in model.inputs:
        t = model.tensors[i]
        bad = [d for d in (*t.shape, *(t.signature or ())) if d == 0 or d < -1]
        if bad:
            raise _fail(
                fname,
                f"input '{t.name}' has the shape {list(t.shape)} (signature {list(t.signature or t.shape)}); "
                "an input's dimensions are >= 1, or -1 where dynamic",
            )


def _check_buffers(model: TflModel, fname: str) -> None:
    for t in model.tensors:
        if not model.has_data(t.index) or t.sparse:
            continue
        bits = BITS.get(t.type_code)
        if bits is None or any(d < 0 for d in t.shape):
            continue
        need = -(-numel(t.shape) * bits // 8)
        have = model.buffers[t.buffer][1]
        if have < need:
            raise _fail(
                fname,
                f"tensor '{t.name}' (shape {list(t.shape)}) needs {need:,} bytes, its buffer {t.buffer} holds {have:,}",
            )


def _check_ops(model: TflModel, fname: str) -> None:
    """Each op reads graph inputs, variables, constants or earlier ops' outputs only."""
    variable = {t.index for t in model.tensors if t.is_variable}
    producer: dict[int, int] = {}
    for op in model.ops:
        name = model.op_name(op)
        for o in op.outputs:
            if o < 0 or o in variable:
                continue
            if o in op.inputs:
                raise _fail(fname, f"operator {op.index} ({name}) reads its own output '{model.tensors[o].name}'")
            if o in producer:
                raise _fail(
                    fname,
                    f"tensor '{model.tensors[o].name}' is written by operators {producer[o]} and {op.index} ({name})",
                )
            if o in model.inputs or model.has_data(o):
                raise _fail(
                    fname, f"operator {op.index} ({name}) writes '{model.tensors[o].name}', an input or constant"
                )
            producer[o] = op.index
    inputs = set(model.inputs)
    for op in model.ops:
        name = model.op_name(op)
        for i in op.inputs:
            if i < 0 or i in variable or i in inputs or model.has_data(i):
                continue
            t = model.tensors[i]
            if i not in producer:
                raise _fail(
                    fname,
                    f"operator {op.index} ({name}) reads tensor '{t.name}', which has no data (buffer {t.buffer}) "
                    "and which no operator writes",
                )
            if producer[i] >= op.index:
                raise _fail(
                    fname,
                    f"operator {op.index} ({name}) reads tensor '{t.name}', written by the later operator "
                    f"{producer[i]} (a cycle, or operators out of execution order)",
                )


def validate(model: TflModel, fname: str) -> None:
    """Refuse what the flatbuffer decoder lets through but no figure may be computed from."""
    _check_shapes(model, fname)
    _check_buffers(model, fname)
    _check_ops(model, fname)

"""Opening an .onnx file and fixing its input shapes.

`load_model` parses the protobuf without external data (clear UsageErrors for a missing,
truncated or non-ONNX file, and for external data that is not next to the model) and reads
in the small external tensors; `resolve_input_shapes` gives each graph input a static shape,
the file's own or the user's where the file leaves a dimension dynamic. See docs/onnx.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zooprof.errors import MissingDependencyError, UsageError
from zooprof.frontends.onnx.protos import SMALL_TENSOR, Shape, fmt_shape
from zooprof.frontends.onnx.validate import check_file, check_model, external_span, normalise_strings, stored_tensors
from zooprof.ir.graph import numel

ONNX_HINT = "pip install 'zooprof[onnx]'"


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise MissingDependencyError(
            "reading .onnx files needs the onnx package, which is not installed", ONNX_HINT
        ) from exc
    return onnx


def versions() -> dict[str, str]:
    """Installed ONNX library versions, from package metadata (imports nothing)."""
    import importlib.metadata

    out = {}
    for name in ("onnx", "onnxruntime"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


# --------------------------------------------------------------------------------------
# loading


def load_model(path: Path) -> Any:
    """The ModelProto of `path`, validated (validate.py), with small external tensors read in;
    a clear UsageError for a missing, oversized, truncated, non-ONNX or malformed file and
    for external data that is not next to it or does not hold what the tensor needs."""
    onnx = _import_onnx()
    check_file(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError, or anything the parser raises on bad bytes
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"{path.name} is not a valid ONNX file: {reason[:200]}",
            "the file may be truncated or not an ONNX model; re-export or re-download it",
        ) from None
    if not model.HasField("graph") or not model.opset_import or not (model.graph.node or model.graph.output):
        raise UsageError(
            f"{path.name} is not a valid ONNX file: it holds no model graph",
            "the file may be empty, truncated or not an ONNX model; re-export or re-download it",
        )
    normalise_strings(model)
    check_model(model, path.name)
    _load_small_external(model, path)
    return model


def _load_small_external(model: Any, path: Path) -> None:
    """Check every external tensor's span lies in a file next to the model; read the small ones."""
    from onnx import TensorProto

    base = path.resolve().parent
    missing: list[str] = []
    for t, _ in stored_tensors(model):
        if t.data_location != TensorProto.EXTERNAL:
            continue
        span = external_span(t, base, path.name)
        if span is None:
            loc = next((e.value for e in t.external_data if e.key == "location"), "")
            if loc not in missing:
                missing.append(loc)
            continue
        target, offset, length = span
        if numel(tuple(t.dims)) <= SMALL_TENSOR:
            with open(target, "rb") as f:
                f.seek(offset)
                t.raw_data = f.read(length)
            del t.external_data[:]
            t.data_location = TensorProto.DEFAULT
    if missing:
        raise UsageError(
            f"{path.name} keeps its weights in external data file(s) that are not next to it: {', '.join(missing[:3])}",
            f"copy {missing[0]} (saved with the model) into {base}",
        )


# --------------------------------------------------------------------------------------
# input shapes


def value_dims(value_info: Any) -> list[int | None] | None:
    """Dimensions of a tensor ValueInfo: ints, None where dynamic; None when the rank is unknown."""
    tt = value_info.type.tensor_type
    if not tt.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in tt.shape.dim]


def _dim_label(value_info: Any, i: int) -> str:
    d = value_info.type.tensor_type.shape.dim[i]
    return f" ('{d.dim_param}')" if d.dim_param else ""


def resolve_input_shapes(
    model: Any, shapes: list[Shape] | None, fname: str, notes: list[str] | None = None
) -> list[Shape]:
    """The input shape per graph input: the file's own, or the user's where it is dynamic.

    With no shape given, a dynamic batch axis (dimension 0 only) is taken as 1 and noted;
    any other dynamic dimension needs --input-shape."""
    inputs = graph_inputs(model)
    for vi in inputs:
        if vi.type.WhichOneof("value") != "tensor_type":
            raise UsageError(
                f"{fname}: input '{vi.name}' is a {vi.type.WhichOneof('value') or 'untyped value'}, not a tensor",
                "zooprof reads models whose inputs are tensors",
            )
    declared = [value_dims(vi) for vi in inputs]
    names = ", ".join(f"'{vi.name}'" for vi in inputs)
    if shapes is None:
        out = []
        for vi, dims in zip(inputs, declared, strict=True):
            if dims is None:
                raise UsageError(
                    f"{fname}: input '{vi.name}' has no shape in the file",
                    "give --input-shape, e.g. --input-shape 1x3x224x224",
                )
            dynamic = [i for i, d in enumerate(dims) if d is None]
            if dynamic == [0] and len(dims) > 1:
                if notes is not None:
                    notes.append(
                        f"input '{vi.name}': dynamic batch dimension{_dim_label(vi, 0)} taken as 1 "
                        "(give --input-shape for another batch)"
                    )
                dims = [1, *dims[1:]]
                dynamic = []
            if dynamic:
                which = ", ".join(f"{i}{_dim_label(vi, i)}" for i in dynamic)
                example = ",".join(
                    fmt_shape(
                        [
                            d if d is not None else (1 if i == 0 else 224 if len(ds or []) == 4 else 1)
                            for i, d in enumerate(ds or [])
                        ]
                    )
                    for ds in declared
                )
                raise UsageError(
                    f"{fname}: input '{vi.name}' has dynamic dimension(s) {which} "
                    f"(shape {fmt_shape(dims)}) and no --input-shape was given",
                    f"give a size for each, e.g. --input-shape {example}",
                )
            out.append(tuple(int(d) for d in dims))  # type: ignore[arg-type]
        return out
    if len(shapes) != len(inputs):
        raise UsageError(
            f"{fname} has {len(inputs)} input(s) ({names}) but --input-shape gives {len(shapes)}",
            "give one shape per input, separated by commas, in that order",
        )
    for vi, dims, shape in zip(inputs, declared, shapes, strict=True):
        if dims is None:
            continue
        if len(shape) != len(dims):
            raise UsageError(
                f"{fname}: input '{vi.name}' has rank {len(dims)} (shape {fmt_shape(dims)}), "
                f"--input-shape gives {fmt_shape(shape)} (rank {len(shape)})",
                f"give a shape of rank {len(dims)}, e.g. {fmt_shape([1 if d is None else d for d in dims])}",
            )
        for i, (d, s) in enumerate(zip(dims, shape, strict=True)):
            if d is not None and d != s:
                raise UsageError(
                    f"{fname}: input '{vi.name}' has the fixed size {d} at dimension {i} "
                    f"(shape {fmt_shape(dims)}), --input-shape gives {fmt_shape(shape)}",
                    "the file fixes that size: use it, or re-export the model with that axis dynamic",
                )
    return [tuple(int(d) for d in s) for s in shapes]


def graph_inputs(model: Any) -> list[Any]:
    """Graph inputs that are not initialisers (before IR version 4 initialisers are inputs too)."""
    inits = {t.name for t in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in inits]

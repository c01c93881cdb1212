"""ONNX frontend: an .onnx file -> Graph, by static shape inference (no weights are read).

1. `onnx.load` without external data: only the protobuf (initialiser shapes, not values, are
   needed). External-data files must lie next to the model; small tensors kept there (Clip
   bounds, reduction axes, pad widths) are read, large ones are not.
2. The graph inputs' dimensions are set to the input shape (the file's own static shape,
   or the user's where the file leaves a dimension dynamic), then
   `onnx.shape_inference.infer_shapes(data_prop=True)` gives every tensor a shape. Large
   initialisers are handed to inference as typed inputs, so it never copies the weights.
   Between rounds of inference, shape computations inference cannot follow (Where, Expand
   on a batch size) are constant-folded with the onnx reference evaluator, and ceil-mode
   pools are sized as onnxruntime sizes them. Only if static inference still leaves an
   activation without a shape is onnxruntime run once on zero inputs to measure it (noted
   in `Graph.notes`).
3. Every node, in graph order, becomes a Layer (op mapping in onnx_ops.py), except nodes
   that compute constants: Constant, Shape and anything whose inputs are all initialisers,
   constants or shape computations (like the PyTorch frontend skips ops on weights only).

Tensor names are the ONNX tensor names; initialisers a layer reads as weights are its
ParamSpecs (named after the initialiser, so one shared by several nodes counts once).
See docs/onnx.md.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zooprof.errors import MissingDependencyError, ModelShapeError, UsageError
from zooprof.frontends import ReadOptions
from zooprof.frontends.onnx import ops as onnx_ops
from zooprof.ir.graph import Graph, Layer, ParamSpec, TensorSpec, numel
from zooprof.ir.ops import OpKind

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


def _fmt(shape: Sequence[Any]) -> str:
    return "x".join("?" if d is None else str(d) for d in shape)


class _Dtypes:
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


# --------------------------------------------------------------------------------------
# loading


def load_model(path: Path) -> Any:
    """The ModelProto of `path`, with small external tensors read in; a clear UsageError for
    a missing, truncated or non-ONNX file and for external data that is not next to it."""
    onnx = _import_onnx()
    if not path.exists():
        raise UsageError(f"{path} does not exist", "check the path")
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not an ONNX file", "give the path of the .onnx file")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError, or anything the parser raises on bad bytes
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"{path.name} is not a valid ONNX file: {reason}",
            "the file may be truncated or not an ONNX model; re-export or re-download it",
        ) from None
    if not model.HasField("graph") or not model.opset_import or not (model.graph.node or model.graph.output):
        raise UsageError(
            f"{path.name} is not a valid ONNX file: it holds no model graph",
            "the file may be empty, truncated or not an ONNX model; re-export or re-download it",
        )
    _load_small_external(model, path)
    return model


def _external_location(tensor: Any) -> str:
    return next((e.value for e in tensor.external_data if e.key == "location"), "")


def _load_small_external(model: Any, path: Path) -> None:
    """Check every external-data file exists next to the model; read the small tensors."""
    from onnx import TensorProto
    from onnx.external_data_helper import load_external_data_for_tensor

    base = path.resolve().parent
    missing: list[str] = []
    tensors = list(model.graph.initializer)
    tensors += [a.t for n in model.graph.node if n.op_type == "Constant" for a in n.attribute if a.HasField("t")]
    for t in tensors:
        if t.data_location != TensorProto.EXTERNAL:
            continue
        loc = _external_location(t)
        target = (base / loc).resolve()
        if not loc or os.path.isabs(loc) or base not in target.parents:
            raise UsageError(
                f"{path.name} points its tensor '{t.name}' at external data '{loc}' outside its folder",
                "keep external-data files in the model's folder, named relative to it",
            )
        if not target.is_file():
            if loc not in missing:
                missing.append(loc)
            continue
        if numel(tuple(t.dims)) <= SMALL_TENSOR:
            load_external_data_for_tensor(t, str(base))
    if missing:
        raise UsageError(
            f"{path.name} keeps its weights in external data file(s) that are not next to it: {', '.join(missing[:3])}",
            f"copy {missing[0]} (saved with the model) into {base}",
        )


# --------------------------------------------------------------------------------------
# input shapes


def _dims(value_info: Any) -> list[int | None] | None:
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
    declared = [_dims(vi) for vi in inputs]
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
                    _fmt(
                        [
                            d if d is not None else (1 if i == 0 else 224 if len(ds or []) == 4 else 1)
                            for i, d in enumerate(ds or [])
                        ]
                    )
                    for ds in declared
                )
                raise UsageError(
                    f"{fname}: input '{vi.name}' has dynamic dimension(s) {which} "
                    f"(shape {_fmt(dims)}) and no --input-shape was given",
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
                f"{fname}: input '{vi.name}' has rank {len(dims)} (shape {_fmt(dims)}), "
                f"--input-shape gives {_fmt(shape)} (rank {len(shape)})",
                f"give a shape of rank {len(dims)}, e.g. {_fmt([1 if d is None else d for d in dims])}",
            )
        for i, (d, s) in enumerate(zip(dims, shape, strict=True)):
            if d is not None and d != s:
                raise UsageError(
                    f"{fname}: input '{vi.name}' has the fixed size {d} at dimension {i} "
                    f"(shape {_fmt(dims)}), --input-shape gives {_fmt(shape)}",
                    "the file fixes that size: use it, or re-export the model with that axis dynamic",
                )
    return [tuple(int(d) for d in s) for s in shapes]


def graph_inputs(model: Any) -> list[Any]:
    """Graph inputs that are not initialisers (before IR version 4 initialisers are inputs too)."""
    inits = {t.name for t in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in inits]


# --------------------------------------------------------------------------------------
# shapes


def _skeleton(model: Any, input_shapes: list[Shape], keep_declared: bool) -> Any:
    """A copy of the model for shape inference: inputs fixed to `input_shapes`, large
    initialisers replaced by typed graph inputs (no weight copies). The shapes the file
    declares for its intermediate tensors and outputs are kept only if `keep_declared` (the
    input shapes are the file's own), else they may be stale (a dynamic batch of 1)."""
    import onnx
    from onnx import TensorProto, helper

    g = model.graph
    sk = onnx.ModelProto()
    sk.ir_version = model.ir_version
    sk.opset_import.extend(model.opset_import)
    sk.functions.extend(model.functions)
    sg = sk.graph
    sg.name = g.name
    sg.node.extend(g.node)
    real = graph_inputs(model)
    for vi, shape in zip(real, input_shapes, strict=True):
        new = sg.input.add()
        new.CopyFrom(vi)
        tt = new.type.tensor_type
        tt.ClearField("shape")
        for d in shape:
            tt.shape.dim.add().dim_value = int(d)
    declared = {vi.name for vi in sg.input}
    for t in g.initializer:
        if numel(tuple(t.dims)) <= SMALL_TENSOR and t.data_location != TensorProto.EXTERNAL:
            sg.initializer.append(t)
        elif t.name not in declared:
            sg.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    sg.sparse_initializer.extend(g.sparse_initializer)
    for o in g.output:
        new = sg.output.add()
        new.CopyFrom(o)
        if not keep_declared and new.type.HasField("tensor_type"):
            new.type.tensor_type.ClearField("shape")
    if keep_declared:
        sg.value_info.extend(g.value_info)
    return sk


def _collect(value_infos: Any, into: dict[str, tuple[Shape | None, int]]) -> None:
    for vi in value_infos:
        if vi.type.WhichOneof("value") != "tensor_type":
            continue
        tt = vi.type.tensor_type
        shape: Shape | None = None
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            shape = tuple(int(d.dim_value) for d in tt.shape.dim)
        old = into.get(vi.name)
        if old is None or (old[0] is None and shape is not None):
            into[vi.name] = (shape, tt.elem_type)


def _infer_shapes(sk: Any) -> tuple[Any, str | None]:
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(sk, check_type=False, strict_mode=False, data_prop=True), None
    except Exception as exc:  # a declared shape contradicts inference, or a node's inference fails
        return sk, str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _shape_info(inferred: Any, model: Any) -> dict[str, tuple[Shape | None, int]]:
    info: dict[str, tuple[Shape | None, int]] = {}
    g = inferred.graph
    _collect(g.input, info)
    _collect(g.output, info)
    _collect(g.value_info, info)
    for t in list(g.initializer) + list(model.graph.initializer):  # the first are folded constants
        info[t.name] = (tuple(int(d) for d in t.dims), t.data_type)
    return info


#: Ops never folded: random values, and ops whose output is not a function of the inputs' values.
NO_FOLD = frozenset(
    {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout"}
)


def _fold_constants(sk: Any, info: dict[str, tuple[Shape | None, int]], opset_imports: Any) -> int:
    """Constant-fold the shape computations of the inference copy, so that onnx shape inference
    sees the values it cannot propagate itself (e.g. Where/Expand on a batch size: the class
    token of a ViT). Shape and Size read the shapes inferred so far; other nodes whose inputs
    are all small known values run in the onnx reference evaluator (numpy, no weights). Folded
    nodes become initialisers of the copy; returns how many."""
    import numpy as np
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    g = sk.graph
    vals: dict[str, Any] = {}
    for t in g.initializer:
        try:
            vals[t.name] = numpy_helper.to_array(t)
        except Exception:
            pass
    keep, folded = [], []
    for node in g.node:
        outs = [o for o in node.output if o]
        ins = [i for i in node.input if i]
        result: list[Any] | None = None
        if (
            node.domain in ("", "ai.onnx")
            and outs
            and not any(a.HasField("g") or a.graphs for a in node.attribute)
            and node.op_type not in NO_FOLD
        ):
            x = info.get(ins[0], (None, 0))[0] if ins else None
            if node.op_type == "Shape" and x is not None:
                attrs = _attr_values(node)
                result = [np.array(x[attrs.get("start", 0) : attrs.get("end", len(x))], dtype=np.int64)]
            elif node.op_type == "Size" and x is not None:
                result = [np.array(numel(x), dtype=np.int64)]
            elif all(i in vals for i in ins):
                try:
                    tiny = helper.make_model(
                        helper.make_graph(
                            [node],
                            "fold",
                            [
                                helper.make_tensor_value_info(
                                    i, helper.np_dtype_to_tensor_dtype(vals[i].dtype), vals[i].shape
                                )
                                for i in dict.fromkeys(ins)
                            ],
                            [helper.make_empty_tensor_value_info(o) for o in outs],
                        ),
                        opset_imports=opset_imports,
                    )
                    result = list(ReferenceEvaluator(tiny).run(None, {i: vals[i] for i in ins}))
                except Exception:  # an op the reference evaluator lacks, or bad values: leave it to inference
                    result = None
        if (
            result is not None
            and len(result) == len(outs)
            and all(isinstance(r, np.ndarray) and r.size <= SMALL_TENSOR for r in result)
        ):
            for o, r in zip(outs, result, strict=True):
                vals[o] = r
                folded.append(numpy_helper.from_array(r, o))
            continue
        keep.append(node)
    if not folded:
        return 0
    del g.node[:]
    g.node.extend(keep)
    g.initializer.extend(folded)
    return len(folded)


POOL_OPS = ("MaxPool", "AveragePool", "LpPool")


def pool_out(size: int, k: int, s: int, lo: int, hi: int, d: int, ceil_mode: bool) -> int:
    """Pooling output length as onnxruntime (and PyTorch) compute it: in ceil mode a last
    window that would start in the end padding is dropped."""
    span = size + lo + hi - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + lo:
        out -= 1
    return out


def _fix_ceil_pools(sk: Any, info: dict[str, tuple[Shape | None, int]]) -> int:
    """onnx shape inference before opset 22 keeps, in ceil mode, a last pooling window that
    starts in the end padding; onnxruntime and PyTorch drop it. Rewrite such pools in the
    inference copy (floor mode, end padding that gives the runtime's size); how many."""
    from onnx import helper

    fixed = 0
    for node in sk.graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in POOL_OPS or not node.input or not node.output:
            continue
        attrs = _attr_values(node)
        if not attrs.get("ceil_mode") or attrs.get("auto_pad", "NOTSET") != "NOTSET":
            continue
        x, y = info.get(node.input[0], (None, 0))[0], info.get(node.output[0], (None, 0))[0]
        kernel = list(attrs.get("kernel_shape", []))
        if x is None or y is None or len(x) != len(kernel) + 2:
            continue
        r = len(kernel)
        strides = list(attrs.get("strides", [1] * r))
        dil = list(attrs.get("dilations", [1] * r))
        pads = list(attrs.get("pads", [0] * (2 * r)))
        want = [pool_out(x[2 + i], kernel[i], strides[i], pads[i], pads[r + i], dil[i], True) for i in range(r)]
        if list(y[2:]) == want:
            continue
        ends = [
            max(0, (want[i] - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1 - x[2 + i] - pads[i]) for i in range(r)
        ]
        keep = [a for a in node.attribute if a.name not in ("ceil_mode", "pads")]
        del node.attribute[:]
        node.attribute.extend(keep)
        node.attribute.append(helper.make_attribute("pads", pads[:r] + ends))
        fixed += 1
    return fixed


def infer(model: Any, input_shapes: list[Shape], notes: list[str]) -> dict[str, tuple[Shape | None, int]]:
    """tensor name -> (shape or None, elem_type), by onnx.shape_inference on the skeleton."""
    own = [_dims(vi) for vi in graph_inputs(model)]
    keep = all(d is not None and tuple(d) == s for d, s in zip(own, input_shapes, strict=True))
    sk = _skeleton(model, input_shapes, keep)
    inferred, error = _infer_shapes(sk)
    if error and keep:
        sk = _skeleton(model, input_shapes, False)
        inferred, error = _infer_shapes(sk)
    if error:
        notes.append(f"onnx shape inference: {error}")
    patched = 0
    for _ in range(64):  # each round folds or fixes what the previous round's shapes allow
        info = _shape_info(inferred, model)
        fixed = _fix_ceil_pools(sk, info)
        if not _fold_constants(sk, info, model.opset_import) and not fixed:
            break
        patched += fixed
        inferred, error = _infer_shapes(sk)
        if error:  # the file's declared shapes disagree with the fix: drop them
            del sk.graph.value_info[:]
            for o in sk.graph.output:
                o.type.tensor_type.ClearField("shape")
            inferred, _ = _infer_shapes(sk)
    if patched:
        notes.append(
            f"{patched} ceil-mode pooling output(s) sized as onnxruntime and PyTorch do (a last window "
            "starting in the padding is dropped); onnx shape inference before opset 22 keeps it"
        )
    return _shape_info(inferred, model)


def _ort_shapes(
    path: Path, input_shapes: list[Shape], names: list[str], dtypes: list[int]
) -> tuple[dict[str, tuple[Shape, int]], str | None]:
    """Measure the shapes of `names` by running onnxruntime once on zero inputs; ({}, why) if it cannot."""
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
        from onnx import helper
    except ImportError:
        return {}, "onnxruntime is not installed"
    try:
        full = onnx.load(str(path))
        g = full.graph
        for vi, shape in zip(graph_inputs(full), input_shapes, strict=True):
            tt = vi.type.tensor_type
            tt.ClearField("shape")
            for d in shape:
                tt.shape.dim.add().dim_value = int(d)
        have = {o.name for o in g.output}
        g.output.extend(helper.make_empty_tensor_value_info(n) for n in names if n not in have)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: no shape-merge warnings on stderr
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(full.SerializeToString(), options, providers=["CPUExecutionProvider"])
        feeds = {}
        for vi, shape in zip(graph_inputs(full), input_shapes, strict=True):
            np_dtype = helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
            feeds[vi.name] = np.zeros(shape, dtype=np_dtype)
        values = sess.run(names, feeds)
    except Exception as exc:
        return {}, str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    out = {}
    for n, v, old in zip(names, values, dtypes, strict=True):
        if hasattr(v, "shape"):
            out[n] = (tuple(int(d) for d in v.shape), old or helper.np_dtype_to_tensor_dtype(v.dtype))
    return out, None


# --------------------------------------------------------------------------------------
# constants and parameters


def _subgraph_nms(node: Any, consts: Constants) -> list[dict[str, Any]]:
    """The NonMaxSuppression nodes inside a control-flow node's subgraphs (recursively), with
    their configuration where it is constant (in the subgraph or the outer graph)."""
    found = []
    for a in node.attribute:
        for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
            values = {t.name: _flat_values(t) for t in g.initializer}
            for n in g.node:
                if n.op_type == "Constant":
                    values[n.output[0]] = _constant_node(n, _Dtypes())[1]
            for n in g.node:
                if n.op_type == "NonMaxSuppression":

                    def value(i: int, n: Any = n, values: dict[str, Any] = values) -> Any:
                        if len(n.input) <= i or not n.input[i]:
                            return None
                        v = values.get(n.input[i]) or consts.values.get(n.input[i])
                        return v[0] if v else None

                    found.append(
                        onnx_ops.nms_attrs(
                            _attr_values(n).get("center_point_box", 0), value(2), value(3), value(4), None, None
                        )
                    )
                if any(x.HasField("g") or x.graphs for x in n.attribute):
                    found.extend(_subgraph_nms(n, consts))
    return found


def _attr_values(node: Any) -> dict[str, Any]:
    from onnx import helper

    out = {}
    for a in node.attribute:
        if a.HasField("g") or a.graphs:
            continue
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode(errors="replace")
        out[a.name] = v
    return out


def _flat_values(t: Any) -> list[Any] | None:
    from onnx import TensorProto, numpy_helper

    if numel(tuple(t.dims)) > SMALL_TENSOR or t.data_location == TensorProto.EXTERNAL:
        return None
    try:
        return numpy_helper.to_array(t).reshape(-1).tolist()
    except Exception:
        return None


def _constant_node(node: Any, dtype: _Dtypes) -> tuple[ParamSpec | None, list[Any] | None]:
    """The tensor a Constant node makes, as a ParamSpec (named after its output) and its values."""
    out = node.output[0]
    for a in node.attribute:
        if a.name == "value":
            return ParamSpec(out, tuple(int(d) for d in a.t.dims), dtype(a.t.data_type)), _flat_values(a.t)
        if a.name == "value_float":
            return ParamSpec(out, (), "float32"), [a.f]
        if a.name == "value_int":
            return ParamSpec(out, (), "int64"), [a.i]
        if a.name == "value_floats":
            return ParamSpec(out, (len(a.floats),), "float32"), list(a.floats)
        if a.name == "value_ints":
            return ParamSpec(out, (len(a.ints),), "int64"), list(a.ints)
    return None, None


# --------------------------------------------------------------------------------------
# scopes and names


def scope_of(node: Any) -> str:
    """Module path of the PyTorch module a node came from, where the exporter says.

    torch.onnx.export (TorchScript) names nodes '/features/features.1/conv/conv.0/Conv': each
    segment is a child name, Sequential children carry their parent's name as a prefix
    ('conv.0' under 'conv'), so the path is rebuilt as 'features.1.conv.0'. The dynamo
    exporter stores the path list in the node's metadata 'pkg.torch.onnx.name_scopes'.
    """
    meta = {p.key: p.value for p in node.metadata_props}
    scopes = meta.get("pkg.torch.onnx.name_scopes")
    if scopes:
        try:
            entries = [s for s in ast.literal_eval(scopes)[:-1] if s]
            return str(entries[-1]) if entries else ""
        except (ValueError, SyntaxError, TypeError):
            pass
    name = node.name
    if not name.startswith("/"):
        return ""
    prefix, rel = "", ""
    for seg in name.split("/")[1:-1]:
        if not seg:
            continue
        if rel and seg.startswith(rel + "."):
            rel = seg
        else:
            prefix = f"{prefix}.{rel}" if prefix and rel else (prefix or rel)
            rel = seg
    return f"{prefix}.{rel}" if prefix and rel else (prefix or rel)


# --------------------------------------------------------------------------------------
# the graph


def _toposort(nodes: list[Any], available: set[str]) -> tuple[list[Any], bool]:
    """Nodes in an order where every input is produced before it is read (stable); whether it changed."""
    ready = set(available)
    produced_by = {o for n in nodes for o in n.output if o}
    order: list[Any] = []
    pending = list(nodes)
    while pending:
        rest = []
        for n in pending:
            if all(i in ready or i not in produced_by or not i for i in n.input):
                order.append(n)
                ready.update(o for o in n.output if o)
            else:
                rest.append(n)
        if len(rest) == len(pending):  # a cycle or a dangling name: keep the file's order
            order.extend(rest)
            break
        pending = rest
    changed = any(a is not b for a, b in zip(order, nodes, strict=True))
    return order, changed


@dataclass
class Constants:
    """Which tensors are constants once the input shape is fixed, and what they hold.

    `static`: initialisers, Constant outputs, Shape outputs and whatever is computed from
    those only; `source`: for a static tensor that stands for a stored tensor (an initialiser,
    or a Constant, possibly through Identity/Cast/Transpose...), that tensor's ParamSpec;
    `values`: the values of small constants (flattened).
    """

    static: set[str] = field(default_factory=set)
    source: dict[str, ParamSpec] = field(default_factory=dict)
    values: dict[str, list[Any]] = field(default_factory=dict)


def find_constants(
    model: Any, nodes: list[Any], info: dict[str, tuple[Shape | None, int]], dtype: _Dtypes
) -> tuple[Constants, list[tuple[int, Any]]]:
    """Split the nodes into constant computations (not layers) and layers, in graph order."""
    c = Constants()
    for t in model.graph.initializer:
        c.static.add(t.name)
        c.source[t.name] = ParamSpec(t.name, tuple(int(d) for d in t.dims), dtype(t.data_type))
        v = _flat_values(t)
        if v is not None:
            c.values[t.name] = v
    layer_nodes: list[tuple[int, Any]] = []
    for idx, node in enumerate(nodes):
        ins = [i for i in node.input if i]
        outs = [o for o in node.output if o]
        default_domain = node.domain in ("", "ai.onnx")
        op = node.op_type if default_domain else None
        if op == "Constant":
            c.static.update(outs)
            spec, vals = _constant_node(node, dtype)
            if spec is not None:
                c.source[node.output[0]] = spec
                if vals is not None:
                    c.values[node.output[0]] = vals
            continue
        has_subgraph = any(a.HasField("g") or a.graphs for a in node.attribute)
        if has_subgraph or not (op in onnx_ops.SHAPE_OPS or all(i in c.static for i in ins)):
            layer_nodes.append((idx, node))
            continue
        c.static.update(outs)
        if op in onnx_ops.VALUE_PRESERVING_OPS and ins and ins[0] in c.source:
            for o in outs:
                c.source[o] = c.source[ins[0]]
        if op in ("Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape") and ins and ins[0] in c.values and outs:
            c.values[outs[0]] = c.values[ins[0]]
        elif op == "Shape" and ins and outs and info.get(ins[0], (None, 0))[0] is not None:
            attrs = _attr_values(node)
            full = list(info[ins[0]][0])  # type: ignore[arg-type]
            c.values[outs[0]] = full[attrs.get("start", 0) : attrs.get("end", len(full))]
    return c, layer_nodes


class _LayerBuilder:
    """Turns the layer nodes into Layers: op mapping, tensors, parameters, names, scopes."""

    def __init__(
        self,
        info: dict[str, tuple[Shape | None, int]],
        consts: Constants,
        opset: int,
        dtype: _Dtypes,
        input_shapes: list[Shape],
    ) -> None:
        self.info = info
        self.c = consts
        self.opset = opset
        self.dtype = dtype
        self.input_shapes = input_shapes
        self.used: dict[str, int] = {}
        self.layers: list[Layer] = []
        self.unknown_shapes: list[str] = []
        self.custom: set[str] = set()
        self.fused_bn = 0

    def shape_of(self, name: str) -> Shape | None:
        return self.info.get(name, (None, 0))[0]

    def spec(self, name: str) -> tuple[TensorSpec, bool]:
        s, et = self.info.get(name, (None, 0))
        return TensorSpec(name, s if s is not None else (), self.dtype(et) if et else "float32"), s is not None

    def unique(self, name: str) -> str:
        n = self.used.get(name, 0)
        self.used[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def add(self, idx: int, node: Any) -> None:
        default_domain = node.domain in ("", "ai.onnx")
        c = self.c
        view = onnx_ops.NodeView(
            op_type=node.op_type,
            attrs=_attr_values(node),
            inputs=list(node.input),
            shapes=[self.shape_of(i) if i else None for i in node.input],
            values=[c.values.get(i) if i else None for i in node.input],
            const=[bool(i) and i in c.static for i in node.input],
            out_shape=self.shape_of(node.output[0]) if node.output else None,
            opset=self.opset,
        )
        kind, attrs = onnx_ops.map_node(view, node.domain)
        source_op = node.op_type if default_domain else f"{node.domain}::{node.op_type}"
        if not default_domain:
            self.custom.add(node.domain)
        if any(a.HasField("g") or a.graphs for a in node.attribute):
            attrs["unmapped"] = "control flow: its subgraphs are not analysed"
            nms = _subgraph_nms(node, c)
            if nms:  # e.g. torchvision's batched_nms exported under `if boxes.numel() == 0`
                kind, attrs = OpKind.NMS, {**nms[0], "in_subgraph_of": node.op_type, "nms_nodes": len(nms)}
        inputs: list[TensorSpec] = []
        params: list[ParamSpec] = []
        known = True
        for i, name in enumerate(node.input):
            if not name:
                continue
            if name in c.static:
                p = c.source.get(name)
                role = onnx_ops.param_role(node.op_type, i, p.numel) if p is not None else None
                if p is not None and role is not None and all(q.name != p.name for q in params):
                    params.append(ParamSpec(p.name, p.shape, p.dtype, role))
                if kind is OpKind.MATMUL:  # a constant operand still sets the product's shape
                    inputs.append(self.spec(name)[0])
                continue
            spec, ok = self.spec(name)
            known &= ok
            inputs.append(spec)
        outputs = []
        for name in node.output:
            if name:
                spec, ok = self.spec(name)
                known &= ok
                outputs.append(spec)
        if not outputs:
            return
        fallback = f"{node.op_type}_{idx}"
        if not known and kind is OpKind.NMS:  # how many boxes it selects depends on the data
            attrs["output_shape"] = "data-dependent (unknown without a run)"
        elif not known:
            self.unknown_shapes.append(node.name or fallback)
            kind, attrs = OpKind.UNKNOWN, {**attrs, "unmapped": "tensor shape unknown"}
        label = self.unique(node.name or fallback)
        if kind in (OpKind.CONV, OpKind.MAXPOOL, OpKind.AVGPOOL) and any(d <= 0 for d in outputs[0].shape):
            raise ModelShapeError(
                f"input shape {', '.join(map(_fmt, self.input_shapes))} does not fit the model: it breaks at layer "
                f"'{label}' ({node.op_type}, input {_fmt(inputs[0].shape) if inputs else '?'}): "
                f"output {_fmt(outputs[0].shape)}",
                "try a larger or different --input-shape",
            )
        meta = {p.key: p.value for p in node.metadata_props}
        if "FuseBatchNorm" in meta.get("pkg.onnxscript.rewriter.rule_name", ""):
            self.fused_bn += 1
        self.layers.append(
            Layer(label, kind, source_op, tuple(inputs), tuple(outputs), attrs, tuple(params), scope_of(node))
        )


def read_onnx(path: Path, shapes: list[tuple[int, ...]] | None) -> tuple[Graph, list[tuple[int, ...]]]:
    """Read an ONNX file into a Graph (framework "onnx", trace_method "onnx") and the input
    shapes used. `shapes` replaces the file's dynamic input dimensions (one shape per input)."""
    path = Path(path)
    model = load_model(path)
    notes: list[str] = []
    input_shapes = resolve_input_shapes(model, shapes, path.name, notes)
    dtype = _Dtypes()
    g = model.graph
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=1)
    producer = f"{model.producer_name} {model.producer_version}".strip()
    notes.append(
        f"ONNX IR version {model.ir_version}, opset {opset}" + (f", produced by {producer}" if producer else "")
    )

    info = infer(model, input_shapes, notes)
    real_inputs = graph_inputs(model)
    available = {vi.name for vi in real_inputs} | {t.name for t in g.initializer}
    nodes, reordered = _toposort(list(g.node), available)
    if reordered:
        notes.append("nodes were not in topological order in the file: sorted")
    consts, layer_nodes = find_constants(model, nodes, info, dtype)

    # activations static inference left without a shape: measure them with onnxruntime
    needed = [t for _, n in layer_nodes for t in list(n.input) + list(n.output) if t and t not in consts.static]
    missing = list(dict.fromkeys(t for t in needed if info.get(t, (None, 0))[0] is None))
    if missing:
        measured, why = _ort_shapes(path, input_shapes, missing, [info.get(t, (None, 0))[1] for t in missing])
        info.update(measured)
        if measured:
            notes.append(
                f"shapes: onnx.shape_inference; {len(measured)} tensor shape(s) it left unknown "
                "measured with onnxruntime on zero inputs"
            )
        if why:
            notes.append(
                f"onnxruntime could not measure {len(missing)} tensor shape(s) static inference left unknown ({why})"
            )
    else:
        notes.append("shapes: onnx.shape_inference (static, no weights read)")

    builder = _LayerBuilder(info, consts, opset, dtype, input_shapes)
    for idx, node in layer_nodes:
        builder.add(idx, node)
    layers = builder.layers

    input_specs = tuple(
        TensorSpec(vi.name, s, dtype(vi.type.tensor_type.elem_type))
        for vi, s in zip(real_inputs, input_shapes, strict=True)
    )
    notes.extend(_bn_notes(layers, builder.fused_bn))
    readers: dict[str, int] = {}
    for layer in layers:
        for p in layer.params:
            readers[p.name] = readers.get(p.name, 0) + 1
    shared = [n for n, k in readers.items() if k > 1]
    if shared:
        notes.append(
            f"{len(shared)} initialiser(s) shared by several layers, counted once "
            f"({', '.join(shared[:3])}{' ...' if len(shared) > 3 else ''}): tied weights, or equal tensors "
            "the exporter merged (e.g. an untrained model's all-zero biases)"
        )
    if builder.unknown_shapes:
        names = builder.unknown_shapes
        notes.append(
            f"{len(names)} layer(s) with an unknown tensor shape are uncounted: "
            f"{', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
        )
    if builder.custom:
        notes.append(f"ops from custom domains ({', '.join(sorted(builder.custom))}) are uncounted")
    if dtype.approximated:
        notes.append(
            "dtypes without a zooprof equivalent, counted at the same element size: "
            + ", ".join(f"{k} as {v}" for k, v in sorted(dtype.approximated.items()))
        )
    notes.append("weights count as trainable (ONNX has no trainable flag); BatchNormalization mean/var as buffers")
    graph = Graph(path.stem, "onnx", input_specs, tuple(layers), tuple(o.name for o in g.output), "onnx", tuple(notes))
    return graph, input_shapes


def _bn_notes(layers: list[Layer], fused: int) -> list[str]:
    """How many BatchNormalization layers the file has, and whether BN was folded into convs."""
    bn = sum(1 for layer in layers if layer.op is OpKind.BATCHNORM)
    notes = [f"{bn} BatchNormalization node(s)"]
    if fused:
        notes.append(
            f"BatchNorm folded into {fused} conv(s) by the exporter (onnxscript FuseBatchNormIntoConv): "
            "BN scale and shift (2 x C per BN) gone, a conv bias (C_out) added"
        )
        return notes
    folded = [
        layer
        for layer in layers
        if layer.op is OpKind.CONV
        and layer.attrs.get("bias")
        and layer.params
        and layer.params[0].name.startswith("onnx::")
    ]
    if folded:
        notes.append(
            f"BatchNorm folded into {len(folded)} conv(s) by the exporter (inferred from their onnx::Conv_* "
            "weights and biases, what torch.onnx.export leaves in eval mode): BN scale and shift (2 x C per "
            "BN) gone, a conv bias (C_out) added"
        )
    return notes


def read(ref: Any, shapes: list[tuple[int, ...]] | None, options: ReadOptions) -> tuple[Graph, list[tuple[int, ...]]]:
    """Read a resolved reference (zooprof.reference.resolve.ModelRef) whose source is an .onnx path."""
    return read_onnx(Path(ref.source), shapes)

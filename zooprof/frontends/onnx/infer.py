"""Static shape inference: tensor name -> (shape, elem_type) for a model with fixed input shapes.

`infer` runs `onnx.shape_inference.infer_shapes(data_prop=True)` on a skeleton copy of the
model (inputs fixed to the input shapes, large initialisers handed over as typed inputs, so
no weight is copied). Between rounds of inference, shape computations inference cannot
follow (Where, Expand on a batch size) are constant-folded with the onnx reference
evaluator, and ceil-mode pools are sized as onnxruntime sizes them. `ort_shapes` is the
last resort for tensors static inference leaves without a shape: one onnxruntime run on
zero inputs. See docs/onnx.md, "Shapes".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zooprof.frontends.onnx.load import graph_inputs, value_dims
from zooprof.frontends.onnx.protos import SMALL_TENSOR, Shape, attr_values
from zooprof.ir.graph import numel


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


def _collect(value_infos: Any, into: dict[str, tuple[Shape | None, int]], only: set[str] | None = None) -> None:
    for vi in value_infos:
        if (only is not None and vi.name not in only) or vi.type.WhichOneof("value") != "tensor_type":
            continue
        tt = vi.type.tensor_type
        shape: Shape | None = None
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            shape = tuple(int(d.dim_value) for d in tt.shape.dim)
        old = into.get(vi.name)
        if old is None or (old[0] is None and shape is not None):
            into[vi.name] = (shape, tt.elem_type)


def _infer_shapes(sk: Any, data_prop: bool = True) -> tuple[Any, str | None]:
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(sk, check_type=False, strict_mode=False, data_prop=data_prop), None
    except Exception as exc:  # a declared shape contradicts inference, or a node's inference fails
        return sk, str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _shape_info(inferred: Any, model: Any, only: set[str] | None = None) -> dict[str, tuple[Shape | None, int]]:
    """tensor name -> (shape or None, elem_type) from an inferred model; with `only`, for those names alone."""
    info: dict[str, tuple[Shape | None, int]] = {}
    g = inferred.graph
    _collect(g.input, info, only)
    _collect(g.output, info, only)
    _collect(g.value_info, info, only)
    for t in list(g.initializer) + list(model.graph.initializer):  # the first are folded constants
        if only is None or t.name in only:
            info[t.name] = (tuple(t.dims), t.data_type)
    return info


def _shapes_needed(sk: Any) -> set[str]:
    """The tensors whose shapes a round of folding and pool fixing reads: the inputs of Shape
    and Size nodes, and the inputs and outputs of pooling nodes."""
    needed: set[str] = set()
    for node in sk.graph.node:
        if node.op_type in ("Shape", "Size") and node.input:
            needed.add(node.input[0])
        elif node.op_type in POOL_OPS and node.input and node.output:
            needed.update((node.input[0], node.output[0]))
    return needed


#: Ops never folded: random values, and ops whose output is not a function of the inputs' values.
NO_FOLD = frozenset(
    {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout"}
)


def _foldable(result: list[Any] | None, n_outputs: int) -> bool:
    """Whether an evaluated node's outputs become constants: one small array per output."""
    import numpy as np

    return (
        result is not None
        and len(result) == n_outputs
        and all(isinstance(r, np.ndarray) and r.size <= SMALL_TENSOR for r in result)
    )


#: The most elements a node may compute while folding (its output, or for ops whose output is
#: not sized by their inputs' values, the product of its inputs' sizes): 16 Mi. A larger
#: result (an Expand to 33000 x 33000, a Range(0, 6e8)) is not computed; it stays a tensor
#: whose shape inference gives.
FOLD_BUDGET = 16 * 2**20

#: Ops whose output size follows from values zooprof does not size here: never folded.
VALUE_SIZED = frozenset(
    {
        "Resize",
        "Upsample",
        "CenterCropPad",
        "Col2Im",
        "DFT",
        "STFT",
        "MelWeightMatrix",
        "BlackmanWindow",
        "HannWindow",
        "HammingWindow",
        "EyeLike",
    }
)


def _value(arrays: list[Any], i: int) -> list[Any] | None:
    return arrays[i].reshape(-1).tolist() if len(arrays) > i and arrays[i].size <= SMALL_TENSOR else None


def fold_size(op: str, arrays: list[Any], attrs: dict[str, Any]) -> int | None:
    """How many elements folding `op` on `arrays` (its inputs' values, in order) computes at most,
    before computing it; None when zooprof cannot tell (then it is not folded)."""
    import numpy as np

    sizes = [max(1, int(a.size)) for a in arrays]
    if op in VALUE_SIZED:
        return None
    try:
        if op == "ConstantOfShape":
            dims = _value(arrays, 0)
            return None if dims is None or any(d < 0 for d in dims) else numel(tuple(int(d) for d in dims))
        if op == "Expand":
            dims = _value(arrays, 1)
            if dims is None:
                return None
            return numel(np.broadcast_shapes(arrays[0].shape, tuple(int(d) for d in dims)))
        if op == "Range":
            start, limit, delta = (float(np.asarray(a).reshape(-1)[0]) for a in arrays[:3])
            return (
                None
                if delta == 0 or not np.isfinite([start, limit, delta]).all()
                else max(0, int(np.ceil((limit - start) / delta)))
            )
        if op == "Tile":
            reps = _value(arrays, 1)
            if reps is None or len(reps) != arrays[0].ndim or any(r < 0 for r in reps):
                return None
            return numel(tuple(int(d) * int(r) for d, r in zip(arrays[0].shape, reps, strict=True)))
        if op == "Pad":
            pads = _value(arrays, 1) if len(arrays) > 1 else attrs.get("pads")
            r = arrays[0].ndim
            if pads is None or len(pads) != 2 * r:
                return None
            return numel(tuple(max(0, int(d) + int(pads[i]) + int(pads[r + i])) for i, d in enumerate(arrays[0].shape)))
        if op == "OneHot":
            depth = _value(arrays, 1)
            return None if not depth else sizes[0] * max(0, int(depth[0]))
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
    return max(numel(tuple(sizes)), sum(sizes))


#: AttributeProto.TENSOR: a Constant node's `value`.
TENSOR_ATTR = 4


class ConstantFolder:
    """Constant-folds the shape computations of the inference copy, round after round, so that
    onnx shape inference sees the values it cannot propagate itself (e.g. Where/Expand on a
    batch size: the class token of a ViT). Shape and Size read the shapes inferred so far;
    other nodes whose inputs are all small known values run in the onnx reference evaluator
    (numpy, no weights). Folded nodes become initialisers of the copy.

    State kept across rounds, since values never change once known: every initialiser is
    converted to numpy once (`vals`, by name); one reference evaluator is built per distinct
    node signature (op, attributes, input dtypes and shapes), and reused with the values of
    each node of that signature; a node that cannot be folded although all its inputs are
    known (an op the evaluator lacks, a result over SMALL_TENSOR) is not tried again.
    """

    def __init__(self, sk: Any, opset_imports: Any) -> None:
        from onnx import helper, numpy_helper
        from onnx.reference import ReferenceEvaluator

        self.helper, self.numpy_helper, self.evaluator_class = helper, numpy_helper, ReferenceEvaluator
        self.sk = sk
        self.opset_imports = opset_imports
        self.vals: dict[str, Any] = {}
        for t in sk.graph.initializer:
            try:
                self.vals[t.name] = numpy_helper.to_array(t)
            except Exception:
                pass
        self.evaluators: dict[tuple[Any, ...], Any] = {}  # signature -> evaluator (None: cannot be built)
        self.tried: set[tuple[str, ...]] = set()

    def _evaluate(self, node: Any, ins: list[str], outs: list[str]) -> list[Any] | None:
        """The node's outputs computed by the reference evaluator from the known values of its
        inputs, or None. Inputs and outputs are renamed by position, so nodes of one signature
        share one evaluator."""
        if node.op_type == "Constant" and [(x.name, x.type) for x in node.attribute] == [("value", TENSOR_ATTR)]:
            return [self.numpy_helper.to_array(node.attribute[0].t)]  # what the evaluator's Constant returns
        helper = self.helper
        distinct = list(dict.fromkeys(ins))
        arrays = [self.vals[i] for i in distinct]
        key = (
            node.op_type,
            node.domain,
            tuple(a.SerializeToString(deterministic=True) for a in node.attribute),
            tuple(distinct.index(i) if i else -1 for i in node.input),
            tuple(bool(o) for o in node.output),
            tuple((a.dtype.str, a.shape) for a in arrays),
        )
        if key in self.evaluators:
            evaluator = self.evaluators[key]
            if evaluator is None:  # building it failed for an earlier node of this signature
                return None
        else:
            self.evaluators[key] = None
            generic = helper.make_node(
                node.op_type,
                [f"i{distinct.index(i)}" if i else "" for i in node.input],
                [f"o{k}" if o else "" for k, o in enumerate(node.output)],
                domain=node.domain,
            )
            generic.attribute.extend(node.attribute)
            tiny = helper.make_model(
                helper.make_graph(
                    [generic],
                    "fold",
                    [
                        helper.make_tensor_value_info(f"i{k}", helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
                        for k, a in enumerate(arrays)
                    ],
                    [helper.make_empty_tensor_value_info(f"o{k}") for k, o in enumerate(node.output) if o],
                ),
                opset_imports=self.opset_imports,
            )
            evaluator = self.evaluator_class(tiny)
            self.evaluators[key] = evaluator
        size = fold_size(node.op_type, [self.vals[i] for i in ins], attr_values(node))
        exact = node.op_type in ("ConstantOfShape", "Expand", "Range", "Tile", "Pad", "OneHot")
        if size is None or size > (SMALL_TENSOR if exact else FOLD_BUDGET):
            return None  # too large to fold (or of a size zooprof cannot tell): left to shape inference
        return list(evaluator.run(None, {f"i{k}": a for k, a in enumerate(arrays)}))

    def fold(self, info: dict[str, tuple[Shape | None, int]]) -> int:
        """One round over the copy's nodes with the shapes inferred so far; how many outputs were folded."""
        import numpy as np
        from onnx import numpy_helper

        g = self.sk.graph
        vals = self.vals
        keep, folded = [], []
        for node in g.node:
            ins = [i for i in node.input if i]
            if node.op_type not in ("Shape", "Size") and not all(i in vals for i in ins):
                keep.append(node)  # reads an activation: nothing to fold (yet)
                continue
            outs = [o for o in node.output if o]
            result: list[Any] | None = None
            if (
                node.domain in ("", "ai.onnx")
                and outs
                and not any(a.HasField("g") or a.graphs for a in node.attribute)
                and node.op_type not in NO_FOLD
            ):
                x = info.get(ins[0], (None, 0))[0] if ins else None
                if node.op_type == "Shape" and x is not None:
                    attrs = attr_values(node)
                    result = [np.array(x[attrs.get("start", 0) : attrs.get("end", len(x))], dtype=np.int64)]
                elif node.op_type == "Size" and x is not None:
                    result = [np.array(numel(x), dtype=np.int64)]
                elif all(i in vals for i in ins) and tuple(outs) not in self.tried:
                    try:
                        result = self._evaluate(node, ins, outs)
                    except Exception:  # an op the reference evaluator lacks, or bad values: leave it to inference
                        result = None
                    if not _foldable(result, len(outs)):
                        self.tried.add(tuple(outs))  # the same values next round: the same outcome
            if result is not None and _foldable(result, len(outs)):
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
        attrs = attr_values(node)
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


#: onnx data propagation costs time and memory linear in the length of each 1-D tensor it
#: meets (a Range(0, 6e8), an Add on a 6e8-long input: minutes, gigabytes); with a dimension
#: above this (2^20) anywhere in the model, inference runs without it (and a note says so).
DATA_PROP_MAX_DIM = 2**20


def _largest_dim(sk: Any) -> int:
    """The largest dimension of the copy's tensors, by inference without data propagation."""
    import onnx

    try:
        plain = onnx.shape_inference.infer_shapes(sk, check_type=False, strict_mode=False, data_prop=False)
    except Exception:  # inference fails: the rounds below report it
        plain = sk
    info: dict[str, tuple[Shape | None, int]] = {}
    for part in (plain.graph.input, plain.graph.value_info, plain.graph.output):
        _collect(part, info)
    dims = [d for shape, _ in info.values() if shape for d in shape]
    dims += [int(d) for t in plain.graph.initializer for d in t.dims]
    return max(dims, default=0)


def infer(model: Any, input_shapes: list[Shape], notes: list[str]) -> dict[str, tuple[Shape | None, int]]:
    """tensor name -> (shape or None, elem_type), by onnx.shape_inference on the skeleton."""
    own = [value_dims(vi) for vi in graph_inputs(model)]
    keep = all(d is not None and tuple(d) == s for d, s in zip(own, input_shapes, strict=True))
    sk = _skeleton(model, input_shapes, keep)
    largest = _largest_dim(sk)
    prop = largest <= DATA_PROP_MAX_DIM
    if not prop:
        notes.append(
            f"onnx shape inference without data propagation: a tensor has a dimension of {largest:,} "
            f"(over {DATA_PROP_MAX_DIM:,}), which propagation would spell out value by value"
        )
    inferred, error = _infer_shapes(sk, prop)
    if error and keep:
        sk = _skeleton(model, input_shapes, False)
        inferred, error = _infer_shapes(sk, prop)
    if error:
        notes.append(f"onnx shape inference: {error}")
    patched = 0
    folder = ConstantFolder(sk, model.opset_import)
    for _ in range(64):  # each round folds or fixes what the previous round's shapes allow
        info = _shape_info(inferred, model, _shapes_needed(sk))
        fixed = _fix_ceil_pools(sk, info)
        if not folder.fold(info) and not fixed:
            break
        patched += fixed
        inferred, error = _infer_shapes(sk, prop)
        if error:  # the file's declared shapes disagree with the fix: drop them
            del sk.graph.value_info[:]
            for o in sk.graph.output:
                o.type.tensor_type.ClearField("shape")
            inferred, _ = _infer_shapes(sk, prop)
    if patched:
        notes.append(
            f"{patched} ceil-mode pooling output(s) sized as onnxruntime and PyTorch do (a last window "
            "starting in the padding is dropped); onnx shape inference before opset 22 keeps it"
        )
    return _shape_info(inferred, model)


def ort_shapes(
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

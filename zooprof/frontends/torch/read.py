"""PyTorch frontend: nn.Modules, TorchScript and torch.export files -> Graph, on the meta device.

Two ways to read a model, best first:

1. `fx`: torch.fx symbolic tracing, then the traced graph runs on meta tensors. Every
   leaf module and every functional op (residual add, cat, flatten, mean, matmul, view)
   becomes a layer. torch.export files take this path too (their graph is already FX).
2. `hooks+dispatch`: for models that cannot be traced symbolically (data-dependent
   control flow) and for TorchScript files. The model runs on meta tensors under a
   TorchDispatchMode that records every aten op; forward hooks give module names, and
   a module zooprof has a rule for (Conv2d, Linear, ...) is recorded as one layer.

Meta tensors carry shapes and dtypes but no data: no weight memory, no compute.
"""

from __future__ import annotations

import importlib
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn
from torch.utils._python_dispatch import TorchDispatchMode

from zooprof.errors import ModelShapeError, UsageError, ZooprofError
from zooprof.frontends import ReadOptions
from zooprof.frontends.compat import block_triton_after_tensorflow
from zooprof.frontends.torch import ops as torch_ops
from zooprof.ir.graph import Graph, Layer, ParamSpec, TensorSpec
from zooprof.ir.ops import OpKind

Shape = tuple[int, ...]


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


class GraphBuilder:
    """Collects layers while a model runs; tensors are identified by their TensorImpl."""

    def __init__(self, model: Any) -> None:
        self.layers: list[Layer] = []
        self.names: dict[int, str] = {}
        self.specs: dict[int, TensorSpec] = {}
        self.params: dict[int, ParamSpec] = {}
        self.keep: list[Any] = []  # keep tensors alive so TensorImpl addresses are not reused
        self.used_names: dict[str, int] = {}
        self.inputs: list[TensorSpec] = []
        for name, p in model.named_parameters(remove_duplicate=False):
            kind = "trainable" if p.requires_grad else "non_trainable"
            self.params.setdefault(p._cdata, ParamSpec(name, tuple(p.shape), _dtype(p), kind))
            self.keep.append(p)
        for name, b in model.named_buffers(remove_duplicate=False):
            self.params.setdefault(b._cdata, ParamSpec(name, tuple(b.shape), _dtype(b), "buffer"))
            self.keep.append(b)

    def unique(self, name: str) -> str:
        n = self.used_names.get(name, 0)
        self.used_names[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def add_input(self, t: torch.Tensor, name: str) -> None:
        spec = TensorSpec(self.unique(name), tuple(t.shape), _dtype(t))
        self._name(t, spec)
        self.inputs.append(spec)

    def _name(self, t: torch.Tensor, spec: TensorSpec) -> None:
        self.names[t._cdata] = spec.name
        self.specs[t._cdata] = spec
        self.keep.append(t)

    def is_param(self, t: Any) -> bool:
        return isinstance(t, torch.Tensor) and t._cdata in self.params

    def known(self, t: Any) -> bool:
        return isinstance(t, torch.Tensor) and t._cdata in self.specs

    def derive_param(self, out: Any, source: list[torch.Tensor]) -> None:
        """An op on weights only (aten.t(weight)): its result stands for the same weight."""
        for o in flat_tensors(out):
            self.params[o._cdata] = self.params[source[0]._cdata]
            self.keep.append(o)

    def emit(
        self,
        name: str,
        scope: str,
        source_op: str,
        kind: OpKind,
        attrs: dict[str, Any],
        args: Any,
        out: Any,
        extra_params: list[ParamSpec] | None = None,
        inplace: bool = False,
    ) -> None:
        tensors = flat_tensors(args)
        inputs = []
        params: list[ParamSpec] = list(extra_params or [])
        for t in tensors:
            if t._cdata in self.params:
                params.append(self.params[t._cdata])
            elif t._cdata in self.specs:
                inputs.append(self.specs[t._cdata])
        outs = flat_tensors(out)
        name = self.unique(name)
        specs = []
        for i, o in enumerate(outs):
            spec = TensorSpec(name if len(outs) == 1 else f"{name}:{i}", tuple(o.shape), _dtype(o))
            specs.append(spec)
        # register after reading the inputs: an in-place op returns its input tensor
        for o, spec in zip(outs, specs, strict=True):
            self._name(o, spec)
        unique_params = tuple({p.name: p for p in params}.values())  # a weight passed twice counts once
        self.layers.append(
            Layer(name, kind, source_op, tuple(inputs), tuple(specs), attrs, unique_params, scope, inplace)
        )

    def graph(self, name: str, outputs: Any, trace_method: str, notes: list[str]) -> Graph:
        out_names = tuple(self.names[t._cdata] for t in flat_tensors(outputs) if t._cdata in self.names)
        return Graph(name, "pytorch", tuple(self.inputs), tuple(self.layers), out_names, trace_method, tuple(notes))


def flat_tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in flat_tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in flat_tensors(v)]
    return []


def _describe_inputs(args: Any) -> str:
    shapes = ["x".join(str(d) for d in t.shape) for t in flat_tensors(args)]
    return ", ".join(shapes[:2])


def _shape_error(layer: str, op: str, args: Any, exc: Exception, input_shapes: list[Shape]) -> ModelShapeError:
    shape = ", ".join("x".join(map(str, s)) for s in input_shapes)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelShapeError(
        f"input shape {shape} does not fit the model: it breaks at layer '{layer}' ({op}, input {_describe_inputs(args)}): "
        f"{reason}",
        "try a larger or different --input-shape",
    )


# --------------------------------------------------------------------------------------
# path 1: torch.fx


class _FxRecorder(fx.Interpreter):
    """Runs an FX graph node by node, recording each op as a Layer.

    With `timings` given, each node's wall time is added under the name of the layer it
    produced (per-layer latency that maps 1:1 onto the static analysis), or under
    "(not a layer)" for nodes that produce no layer (getitem, size).
    """

    def __init__(
        self,
        gm: fx.GraphModule,
        builder: GraphBuilder,
        input_shapes: list[Shape],
        timings: dict[str, float] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(gm)
        self.builder = builder
        self.input_shapes = input_shapes
        self.modules = dict(gm.named_modules())
        self.timings = timings
        self.clock = clock
        self.node_layer: dict[str, str] = {}  # fx node name -> the layer it produced

    def run_node(self, n: fx.Node) -> Any:
        if n.op in ("call_module", "call_function", "call_method"):
            args, kwargs = self.fetch_args_kwargs_from_env(n)
            start = self.clock() if self.clock else 0.0
            try:
                out = getattr(self, n.op)(n.target, args, kwargs)
            except Exception as exc:
                raise _shape_error(self._label(n), self._source_op(n), args, exc, self.input_shapes) from exc
            elapsed = self.clock() - start if self.clock else 0.0
            before = len(self.builder.layers)
            self._record(n, args, kwargs, out)
            if len(self.builder.layers) > before:
                self.node_layer[n.name] = self.builder.layers[-1].name
            if self.timings is not None:
                key = self.node_layer.get(n.name, "(not a layer)")
                self.timings[key] = self.timings.get(key, 0.0) + elapsed
            return out
        out = super().run_node(n)
        if n.op == "placeholder" and isinstance(out, torch.Tensor):
            single = len(self.input_shapes) == 1
            self.builder.add_input(out, "input" if single else n.name)
        return out

    def _scope(self, n: fx.Node) -> tuple[str, type | None]:
        stack = n.meta.get("nn_module_stack") or {}
        if not stack:
            return "", None
        path, cls = list(stack.values())[-1]
        return path, cls if isinstance(cls, type) else None

    def _label(self, n: fx.Node) -> str:
        if n.op == "call_module":
            return str(n.target)
        scope, _ = self._scope(n)
        return f"{scope}.{n.name}" if scope else n.name

    def _source_op(self, n: fx.Node) -> str:
        if n.op == "call_module":
            return type(self.modules[str(n.target)]).__name__
        return torch_ops.op_name(n.target)[0]

    def _record(self, n: fx.Node, args: tuple, kwargs: dict, out: Any) -> None:
        b = self.builder
        if not flat_tensors(out):
            return
        if n.op == "call_module":
            mod = self.modules[str(n.target)]
            mapped = torch_ops.map_module(mod)
            kind, attrs = mapped if mapped else (OpKind.UNKNOWN, {})
            own = [b.params[p._cdata] for p in mod.parameters() if p._cdata in b.params]
            own += [b.params[t._cdata] for t in mod.buffers() if t._cdata in b.params]
            b.emit(
                str(n.target),
                str(n.target),
                type(mod).__name__,
                kind,
                attrs,
                args,
                out,
                extra_params=own,
                inplace=torch_ops.module_inplace(mod),
            )
            return
        tensors = flat_tensors((args, kwargs))
        name, _ = torch_ops.op_name(n.target)
        if name in torch_ops.SKIP_FUNCTIONS:
            return
        if name == "getitem" and isinstance(args[0], (list, tuple)):
            return  # selecting one output of a multi-output op: already named
        if tensors and all(b.is_param(t) for t in tensors):
            b.derive_param(out, tensors)
            return
        if not any(b.known(t) for t in tensors):
            return  # constants computed from nothing the model reads
        kind, attrs, fname, inplace = torch_ops.map_function(n.target, args, kwargs, set(b.params))
        scope, cls = self._scope(n)
        leaf = cls is not None and cls.__module__.startswith("torch.nn.modules")
        label = scope if (leaf and scope) else (f"{scope}.{n.name}" if scope else n.name)
        b.emit(label, scope, fname, kind, attrs, (args, kwargs), out, inplace=inplace)


def trace_fx(
    model: nn.Module, inputs: list[torch.Tensor], name: str, gm: fx.GraphModule | None = None, method: str = "fx"
) -> Graph:
    if gm is None:
        gm = fx.symbolic_trace(model)
    builder = GraphBuilder(gm)
    rec = _FxRecorder(gm, builder, [tuple(t.shape) for t in inputs])
    with torch.no_grad():
        out = rec.run(*inputs)
    return builder.graph(name, out, method, [])


class LayerTimer:
    """Per-layer wall time of an FX graph, mapped onto the static analysis' layer names.

    A first pass records which node produced which layer (the same code as `trace_fx`, so
    the names match); timed passes then run a lean interpreter that only reads the clock
    around each call, so bookkeeping between nodes does not evict the caches the next
    layer would use.
    """

    def __init__(self, gm: fx.GraphModule, inputs: list[torch.Tensor]) -> None:
        self.gm, self.inputs = gm, inputs
        timings: dict[str, float] = {}
        rec = _FxRecorder(gm, GraphBuilder(gm), [tuple(t.shape) for t in inputs], timings, lambda: 0.0)
        with torch.inference_mode():
            rec.run(*inputs)
        self.layer_of: dict[str, str] = rec.node_layer

    def run(self, clock: Callable[[], float], sync: Callable[[], None] | None = None) -> dict[str, float]:
        """One timed pass: seconds per layer name ("(not a layer)" for the rest)."""
        per_node = _TimedInterpreter(self.gm, clock, sync)
        with torch.inference_mode():
            per_node.run(*self.inputs)
        out: dict[str, float] = {}
        for node, seconds in per_node.seconds.items():
            key = self.layer_of.get(node, "(not a layer)")
            out[key] = out.get(key, 0.0) + seconds
        return out


class _TimedInterpreter(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule, clock: Callable[[], float], sync: Callable[[], None] | None) -> None:
        super().__init__(gm)
        self.clock, self.sync = clock, sync
        self.seconds: dict[str, float] = {}

    def run_node(self, n: fx.Node) -> Any:
        if n.op not in ("call_module", "call_function", "call_method"):
            return super().run_node(n)
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        call = getattr(self, n.op)
        if self.sync:
            self.sync()
        start = self.clock()
        out = call(n.target, args, kwargs)
        if self.sync:
            self.sync()
        self.seconds[n.name] = self.clock() - start
        return out


# --------------------------------------------------------------------------------------
# path 2: module hooks + aten dispatch


class _DispatchRecorder(TorchDispatchMode):
    def __init__(self, builder: GraphBuilder, input_shapes: list[Shape]) -> None:
        super().__init__()
        self.builder = builder
        self.input_shapes = input_shapes
        self.scope: list[str] = []
        self.suppress = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name, _ = torch_ops.op_name(func)
        scope = self.scope[-1] if self.scope else ""
        try:
            out = func(*args, **kwargs)
        except Exception as exc:
            raise _shape_error(f"{scope}.{name}" if scope else name, name, args, exc, self.input_shapes) from exc
        if self.suppress:
            return out
        b = self.builder
        tensors = flat_tensors((args, kwargs))
        if name in torch_ops.SKIP_FUNCTIONS or not flat_tensors(out):
            return out
        if tensors and all(b.is_param(t) for t in tensors):
            b.derive_param(out, tensors)
            return out
        if not any(b.known(t) for t in tensors):
            return out
        kind, attrs, fname, inplace = torch_ops.map_function(func, args, kwargs, set(b.params))
        if scope:
            label = f"{scope}.{fname}"
        else:
            weights = [b.params[t._cdata].name for t in tensors if b.is_param(t)]
            label = weights[0].rsplit(".", 1)[0] if weights else fname
        b.emit(label, scope, f"aten.{fname}", kind, attrs, (args, kwargs), out, inplace=inplace)
        return out


def trace_dispatch(model: Any, inputs: list[torch.Tensor], name: str, method: str, notes: list[str]) -> Graph:
    builder = GraphBuilder(model)
    for i, t in enumerate(inputs):
        builder.add_input(t, "input" if len(inputs) == 1 else f"input_{i}")
    rec = _DispatchRecorder(builder, [tuple(t.shape) for t in inputs])
    handles = []
    if isinstance(model, nn.Module) and not isinstance(model, torch.jit.ScriptModule):
        handles = layer_hooks(model, rec, builder)
    try:
        with rec, torch.no_grad():
            out = model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return builder.graph(name, out, method, notes)


def layer_hooks(model: nn.Module, rec: _DispatchRecorder, builder: GraphBuilder) -> list[Any]:
    """Forward pre/post hooks on every submodule: they keep the module path for the recorder,
    and a leaf module with a rule is recorded as one layer. Returns the handles to remove."""
    handles = []
    for path, mod in model.named_modules():
        if not path:
            continue
        mapped = torch_ops.map_module(mod) if not list(mod.children()) else None
        handles.append(mod.register_forward_pre_hook(_pre_hook(rec, path, mapped is not None)))
        handles.append(mod.register_forward_hook(_post_hook(rec, builder, path, mod, mapped)))
    return handles


def _pre_hook(rec: _DispatchRecorder, path: str, leaf: bool) -> Callable[..., None]:
    def hook(mod: nn.Module, args: Any) -> None:
        rec.scope.append(path)
        if leaf:
            rec.suppress += 1

    return hook


def _post_hook(
    rec: _DispatchRecorder,
    builder: GraphBuilder,
    path: str,
    mod: nn.Module,
    mapped: tuple[OpKind, dict[str, Any]] | None,
) -> Callable[..., None]:
    def hook(module: nn.Module, args: Any, out: Any) -> None:
        rec.scope.pop()
        if mapped is not None:
            rec.suppress -= 1
            if rec.suppress == 0:
                kind, attrs = mapped
                own = [builder.params[p._cdata] for p in mod.parameters() if p._cdata in builder.params]
                own += [builder.params[t._cdata] for t in mod.buffers() if t._cdata in builder.params]
                builder.emit(
                    path,
                    path,
                    type(mod).__name__,
                    kind,
                    attrs,
                    args,
                    out,
                    extra_params=own,
                    inplace=torch_ops.module_inplace(mod),
                )

    return hook


# --------------------------------------------------------------------------------------
# loading


def build_module(builder: Callable[..., Any], kwargs: dict[str, Any] | None = None) -> nn.Module:
    """Call a model builder with the default device set to meta: no weight memory."""
    block_triton_after_tensorflow()
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = builder(**(kwargs or {}))
    if isinstance(obj, type) and issubclass(obj, nn.Module):
        with torch.device("meta"):
            obj = obj()
    if not isinstance(obj, nn.Module):
        raise UsageError(
            f"the builder returned {type(obj).__name__}, not a torch.nn.Module",
            "point MODULE:CALLABLE at a function or class that returns an nn.Module",
        )
    return obj.to("meta").eval()


def import_callable(ref: str) -> Callable[..., Any]:
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"cannot import module '{module_name}': {exc}", "check the name and that its folder is on PYTHONPATH"
        ) from exc
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise UsageError(f"module '{module_name}' has no attribute '{attr}'") from None
    return target


def torchvision_builder(name: str) -> Callable[..., Any]:
    try:
        import torchvision
    except ImportError as exc:
        from zooprof.errors import MissingDependencyError

        raise MissingDependencyError("torchvision is not installed", "pip install 'zooprof[torch]'") from exc
    available = torchvision.models.list_models()
    if name not in available:
        import difflib

        close = difflib.get_close_matches(name, available, n=5)
        hint = f"did you mean: {', '.join(close)}" if close else "see torchvision.models.list_models()"
        raise UsageError(f"torchvision has no model '{name}'", hint)

    import inspect

    takes_backbone = "weights_backbone" in inspect.signature(torchvision.models.get_model_builder(name)).parameters

    def build(**kwargs: Any) -> Any:
        kwargs.setdefault("weights", None)
        if takes_backbone:  # detection models: no ImageNet backbone download either
            kwargs.setdefault("weights_backbone", None)
        return torchvision.models.get_model(name, **kwargs)

    return build


def meta_inputs(shapes: list[Shape]) -> list[torch.Tensor]:
    return [torch.empty(s, device="meta") for s in shapes]


def graph_from_module(model: nn.Module, shapes: list[Shape], name: str) -> Graph:
    """FX first; if symbolic tracing fails, hooks + dispatch, saying why in the notes."""
    inputs = meta_inputs(shapes)
    try:
        gm = fx.symbolic_trace(model)
    except Exception as exc:  # any tracing failure: data-dependent control flow, unsupported Python
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        note = f"symbolic tracing failed ({type(exc).__name__}: {reason}); read with module hooks + aten dispatch"
        return trace_dispatch(model, inputs, name, "hooks+dispatch", [note])
    return trace_fx(model, inputs, name, gm=gm)


def file_kind(path: Path) -> str:
    """'export', 'torchscript' or 'pickle' for a PyTorch file, from its contents."""
    if not zipfile.is_zipfile(path):
        return "pickle"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    if any(n.endswith("archive_format") or "/models/" in n and n.endswith(".json") for n in names):
        return "export"
    if any("/code/" in n for n in names) or any(n.endswith("constants.pkl") for n in names):
        return "torchscript"
    return "pickle"


def graph_from_file(path: Path, shapes: list[Shape] | None, trust: bool) -> tuple[Graph, list[Shape]]:
    block_triton_after_tensorflow()
    kind = file_kind(path)
    name = path.stem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "export":
            try:
                ep = torch.export.load(str(path))
            except Exception as exc:
                raise ZooprofError(f"cannot read torch.export file {path}: {exc}") from exc
            example = (
                [t for t in flat_tensors(ep.example_inputs) if isinstance(t, torch.Tensor)] if ep.example_inputs else []
            )
            if not shapes:
                if not example:
                    raise UsageError(f"{path} stores no example input shape", "give --input-shape")
                shapes = [tuple(t.shape) for t in example]
            gm = ep.module().to("meta")
            return trace_fx(gm, meta_inputs(shapes), name, gm=gm, method="export+fx"), shapes
        if kind == "torchscript":
            if not shapes:
                raise UsageError(
                    f"{path} is a TorchScript file, which stores no input shape",
                    "give --input-shape, e.g. --input-shape 1x3x224x224",
                )
            try:
                ts = torch.jit.load(str(path), map_location="meta")
            except Exception as exc:
                raise ZooprofError(f"cannot read TorchScript file {path}: {exc}") from exc
            ts.eval()
            return trace_dispatch(
                ts,
                meta_inputs(shapes),
                name,
                "torchscript+dispatch",
                ["TorchScript: layers read from aten ops; names from their weights"],
            ), shapes
    if not trust:
        raise UsageError(
            f"{path} is a pickled Python object: loading it can run any code in the file",
            "pass --trust if you trust its source, or save it with torch.export.save / torch.jit.save",
        )
    if not shapes:
        raise UsageError(f"{path} stores no input shape", "give --input-shape")
    obj = torch.load(str(path), map_location="meta", weights_only=False)
    if not isinstance(obj, nn.Module):
        raise UsageError(
            f"{path} holds a {type(obj).__name__}, not a model",
            "a state_dict has no architecture: pass the model's builder as MODULE:CALLABLE",
        )
    return graph_from_module(obj.eval(), shapes, name), shapes


def read(ref: Any, shapes: list[Shape] | None, options: ReadOptions) -> tuple[Graph, list[Shape]]:
    trust = options.trust
    """Read a resolved reference (zooprof.reference.resolve.ModelRef) into a Graph."""
    if ref.kind == "torch-file":
        return graph_from_file(Path(ref.source), shapes, trust)
    if ref.kind in ("zoo", "torchvision") and ref.source.startswith("torchvision:"):
        builder = torchvision_builder(ref.source.split(":", 1)[1])
    else:
        builder = import_callable(ref.source)
    shapes = shapes or ref.input_shapes
    try:
        model = build_module(builder, ref.kwargs)
    except ZooprofError:
        raise
    except Exception as exc:
        raise ZooprofError(f"building {ref.text} failed: {type(exc).__name__}: {exc}") from exc
    from zooprof.frontends.torch import detection

    if detection.is_detector(model):  # list input, resize inside, NMS: read on CPU tensors
        return detection.read(builder, ref.kwargs, model, shapes, ref.name)
    if not shapes:
        raise UsageError(f"{ref.text} needs an input shape", "give --input-shape, e.g. --input-shape 1x3x224x224")
    return graph_from_module(model, shapes, ref.name), shapes

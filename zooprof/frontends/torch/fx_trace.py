"""Path 1 of the PyTorch frontend: torch.fx symbolic tracing, then the traced graph runs on meta
tensors and every leaf module and functional op becomes a layer. Also the per-node timing
interpreter behind `--per-layer` on the torch runtime (`LayerTimer`)."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import torch
from torch import fx, nn

from zooprof.errors import ModelShapeError
from zooprof.frontends.torch import ops as torch_ops
from zooprof.frontends.torch.builder import GraphBuilder, Shape, flat_tensors, shape_error
from zooprof.frontends.torch.dispatch import DispatchRecorder
from zooprof.ir.graph import Graph
from zooprof.ir.ops import OpKind


def mutable(value: Any) -> Any:
    """FX hands a node its list and dict arguments as immutable_list / immutable_dict; a call
    gets plain copies instead, as in eager mode, so a target that mutates an argument
    (torchvision's swin3d `_get_window_and_shift_size`) runs. The graph's own arguments are
    left untouched."""
    if isinstance(value, list):
        return [mutable(v) for v in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(mutable(v) for v in value)
    if isinstance(value, dict):
        return {k: mutable(v) for k, v in value.items()}
    return value


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
            args, kwargs = mutable(args), mutable(kwargs)
            inside = self._inside(n, args, kwargs)
            before = len(self.builder.layers)
            start = self.clock() if self.clock else 0.0
            try:
                if inside is None:
                    out = getattr(self, n.op)(n.target, args, kwargs)
                else:
                    with inside:
                        out = n.target(*args, **kwargs)  # type: ignore[operator]
            except ModelShapeError:
                raise
            except Exception as exc:
                raise shape_error(self._label(n), self._source_op(n), args, exc, self.input_shapes) from exc
            elapsed = self.clock() - start if self.clock else 0.0
            if inside is None or len(self.builder.layers) == before:  # a function that recorded nothing: one layer
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

    def _inside(self, n: fx.Node, args: tuple, kwargs: dict) -> DispatchRecorder | None:
        """A recorder for the aten ops of a plain Python function that FX kept whole
        (torch.fx.wrap) and no rule maps, such as torchvision MViT's `_add_rel_pos`: its
        einsums, matmul and adds become layers named `<node>.<aten op>`. None otherwise."""
        target = n.target
        module = str(getattr(target, "__module__", "") or "")
        if n.op != "call_function" or not isinstance(target, types.FunctionType) or module.split(".")[0] == "torch":
            return None
        if torch_ops.map_function(target, args, kwargs, set(self.builder.params))[0] is not OpKind.UNKNOWN:
            return None
        rec = DispatchRecorder(self.builder, self.input_shapes)
        rec.scope.append(self._label(n))
        return rec

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
            mapped = torch_ops.map_module_call(mod, args, kwargs)
            kind, attrs = mapped if mapped else (OpKind.UNKNOWN, {})
            own = [b.params[p._cdata] for p in mod.parameters() if p._cdata in b.params]
            own += [b.params[t._cdata] for t in mod.buffers() if t._cdata in b.params]
            b.emit(
                str(n.target),
                str(n.target),
                type(mod).__name__,
                kind,
                attrs,
                (args, kwargs),
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
        if b.weights_only(tensors):
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
    builder = GraphBuilder(model, gm)  # the model's tensors: gm holds only what the trace reached
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
        args, kwargs = mutable(self.fetch_args_kwargs_from_env(n))
        call = getattr(self, n.op)
        if self.sync:
            self.sync()
        start = self.clock()
        out = call(n.target, args, kwargs)
        if self.sync:
            self.sync()
        self.seconds[n.name] = self.clock() - start
        return out

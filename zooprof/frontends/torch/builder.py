"""The IR under construction while a PyTorch model runs: layers, tensors (by TensorImpl) and parameters.

Shared by both tracing paths (`fx_trace`, `dispatch`) and by the detection reader.
"""

from __future__ import annotations

from typing import Any

import torch

from zooprof.errors import ModelShapeError
from zooprof.ir.graph import Graph, Layer, ParamSpec, TensorSpec
from zooprof.ir.ops import OpKind

Shape = tuple[int, ...]


def dtype_name(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


class GraphBuilder:
    """Collects layers while a model runs; tensors are identified by their TensorImpl.

    The stored tensors are every parameter and buffer registered in `model`, each once under its
    first name however often it is shared. Those no layer uses become the graph's
    `params_not_in_trace`, so the model's totals are the module's, not the trace's. `traced` (the
    GraphModule of symbolic tracing) may add tensors the trace made: a view of a stored tensor
    (`self.index.view(-1)`, folded while tracing) stands for that tensor; any other constant is
    followed like a weight but counted nowhere, as it is no tensor of the model.
    """

    def __init__(self, model: Any, traced: Any = None) -> None:
        self.layers: list[Layer] = []
        self.names: dict[int, str] = {}
        self.specs: dict[int, TensorSpec] = {}
        self.params: dict[int, ParamSpec] = {}
        self.also: dict[int, tuple[ParamSpec, ...]] = {}  # a tensor derived from several weights: the others
        self.constants: set[str] = set()  # tensors the trace made: not the model's, never counted
        self.keep: list[Any] = []  # keep tensors alive so TensorImpl addresses are not reused
        self.used_names: dict[str, int] = {}
        self.inputs: list[TensorSpec] = []
        for name, p in model.named_parameters(remove_duplicate=False):
            kind = "trainable" if p.requires_grad else "non_trainable"
            self.params.setdefault(p._cdata, ParamSpec(name, tuple(p.shape), dtype_name(p), kind))
            self.keep.append(p)
        for name, b in model.named_buffers(remove_duplicate=False):
            self.params.setdefault(b._cdata, ParamSpec(name, tuple(b.shape), dtype_name(b), "buffer"))
            self.keep.append(b)
        self.stored: tuple[ParamSpec, ...] = tuple({p.name: p for p in self.params.values()}.values())
        if traced is not None and traced is not model:
            for name, t in [*traced.named_parameters(), *traced.named_buffers()]:
                if t._cdata in self.params:
                    continue
                base = t._base
                if base is not None and base._cdata in self.params:
                    self.params[t._cdata] = self.params[base._cdata]
                else:
                    self.params[t._cdata] = ParamSpec(name, tuple(t.shape), dtype_name(t), "buffer")
                    self.constants.add(name)
                self.keep.append(t)

    def unique(self, name: str) -> str:
        n = self.used_names.get(name, 0)
        self.used_names[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def add_input(self, t: torch.Tensor, name: str) -> None:
        spec = TensorSpec(self.unique(name), tuple(t.shape), dtype_name(t))
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

    def weights_of(self, t: torch.Tensor) -> tuple[ParamSpec, ...]:
        """The stored tensors a weight-only tensor stands for (several after `a + b` of two weights)."""
        return (self.params[t._cdata], *self.also.get(t._cdata, ()))

    def weights_only(self, tensors: list[torch.Tensor]) -> bool:
        """Whether an op reads weights and no activation: only stored tensors, or stored tensors
        and constants made from nothing the model reads (mvit's `rel_pos_h[dist]`)."""
        return any(self.is_param(t) for t in tensors) and not any(self.known(t) for t in tensors)

    def derive_param(self, out: Any, source: list[torch.Tensor]) -> None:
        """An op on weights only (aten.t(weight), pos_embedding.add_(spatial_pos)): its result
        stands for the same weights, and the layer that uses it counts all of them."""
        specs = list({p.name: p for t in source if self.is_param(t) for p in self.weights_of(t)}.values())
        for o in flat_tensors(out):
            self.params[o._cdata] = specs[0]
            if len(specs) > 1:
                self.also[o._cdata] = tuple(specs[1:])
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
                params.extend(self.weights_of(t))
            elif t._cdata in self.specs:
                inputs.append(self.specs[t._cdata])
        outs = flat_tensors(out)
        name = self.unique(name)
        specs = []
        for i, o in enumerate(outs):
            spec = TensorSpec(name if len(outs) == 1 else f"{name}:{i}", tuple(o.shape), dtype_name(o))
            specs.append(spec)
        # register after reading the inputs: an in-place op returns its input tensor
        for o, spec in zip(outs, specs, strict=True):
            self._name(o, spec)
        # a weight passed twice counts once; a constant the trace made counts nowhere
        unique_params = tuple({p.name: p for p in params if p.name not in self.constants}.values())
        self.layers.append(
            Layer(name, kind, source_op, tuple(inputs), tuple(specs), attrs, unique_params, scope, inplace)
        )

    def graph(self, name: str, outputs: Any, trace_method: str, notes: list[str]) -> Graph:
        out_names = tuple(self.names[t._cdata] for t in flat_tensors(outputs) if t._cdata in self.names)
        used = {p.name for layer in self.layers for p in layer.params}
        unused = tuple(p for p in self.stored if p.name not in used)
        return Graph(
            name, "pytorch", tuple(self.inputs), tuple(self.layers), out_names, trace_method, tuple(notes), unused
        )


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


def shape_error(layer: str, op: str, args: Any, exc: Exception, input_shapes: list[Shape]) -> ModelShapeError:
    shape = ", ".join("x".join(map(str, s)) for s in input_shapes)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelShapeError(
        f"input shape {shape} does not fit the model: it breaks at layer '{layer}' ({op}, input {_describe_inputs(args)}): "
        f"{reason}",
        "try a larger or different --input-shape",
    )

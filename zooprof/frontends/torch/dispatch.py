"""Path 2 of the PyTorch frontend: the model runs on meta tensors under a TorchDispatchMode that
records every aten op; forward hooks give module names, and a module with a rule is one layer.
Used when symbolic tracing fails, for TorchScript files, and (on CPU tensors) for detectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from zooprof.frontends.torch import ops as torch_ops
from zooprof.frontends.torch.builder import GraphBuilder, Shape, flat_tensors, shape_error
from zooprof.ir.graph import Graph
from zooprof.ir.ops import OpKind


class DispatchRecorder(TorchDispatchMode):
    def __init__(self, builder: GraphBuilder, input_shapes: list[Shape]) -> None:
        super().__init__()
        self.builder = builder
        self.input_shapes = input_shapes
        self.scope: list[str] = []
        self.suppress = 0
        self.error: BaseException | None = None  # the op error raised, kept whole (TorchScript drops its text)

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name, _ = torch_ops.op_name(func)
        scope = self.scope[-1] if self.scope else ""
        try:
            out = func(*args, **kwargs)
        except Exception as exc:
            self.error = shape_error(f"{scope}.{name}" if scope else name, name, args, exc, self.input_shapes)
            raise self.error from exc
        if self.suppress:
            return out
        b = self.builder
        tensors = flat_tensors((args, kwargs))
        if name in torch_ops.SKIP_FUNCTIONS or not flat_tensors(out):
            return out
        if b.weights_only(tensors):
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
    rec = DispatchRecorder(builder, [tuple(t.shape) for t in inputs])
    handles = []
    if isinstance(model, nn.Module) and not isinstance(model, torch.jit.ScriptModule):
        handles = layer_hooks(model, rec, builder)
    try:
        with rec, torch.no_grad():
            out = model(*inputs)
    except Exception as exc:
        if rec.error is not None and rec.error is not exc:  # a ScriptModule re-raised it as a bare RuntimeError
            raise rec.error from None
        raise
    finally:
        for h in handles:
            h.remove()
    return builder.graph(name, out, method, notes)


def layer_hooks(model: nn.Module, rec: DispatchRecorder, builder: GraphBuilder) -> list[Any]:
    """Forward pre/post hooks on every submodule: they keep the module path for the recorder,
    and a leaf module with a rule (or an attention module) is recorded as one layer, with the
    attributes of its call. Returns the handles to remove."""
    handles = []
    for path, mod in model.named_modules():
        if not path:
            continue
        leaf = torch_ops.layer_module(mod)
        handles.append(mod.register_forward_pre_hook(_pre_hook(rec, path, leaf)))
        handles.append(mod.register_forward_hook(_post_hook(rec, builder, path, mod, leaf), with_kwargs=True))
    return handles


def _pre_hook(rec: DispatchRecorder, path: str, leaf: bool) -> Callable[..., None]:
    def hook(mod: nn.Module, args: Any) -> None:
        rec.scope.append(path)
        if leaf:
            rec.suppress += 1

    return hook


def _post_hook(
    rec: DispatchRecorder,
    builder: GraphBuilder,
    path: str,
    mod: nn.Module,
    leaf: bool,
) -> Callable[..., None]:
    def hook(module: nn.Module, args: Any, kwargs: dict[str, Any], out: Any) -> None:
        rec.scope.pop()
        if leaf:
            rec.suppress -= 1
            if rec.suppress == 0:
                kind, attrs = torch_ops.map_module_call(mod, args, kwargs) or (OpKind.UNKNOWN, {})
                own = [builder.params[p._cdata] for p in mod.parameters() if p._cdata in builder.params]
                own += [builder.params[t._cdata] for t in mod.buffers() if t._cdata in builder.params]
                builder.emit(
                    path,
                    path,
                    type(mod).__name__,
                    kind,
                    attrs,
                    (args, kwargs),
                    out,
                    extra_params=own,
                    inplace=torch_ops.module_inplace(mod),
                )

    return hook

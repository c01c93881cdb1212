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
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from zooprof.errors import UsageError, ZooprofError
from zooprof.frontends import ReadOptions
from zooprof.frontends.compat import block_triton_after_tensorflow
from zooprof.frontends.torch.builder import Shape, flat_tensors
from zooprof.frontends.torch.building import CPU_BUILD, build_without_weights
from zooprof.frontends.torch.dispatch import trace_dispatch
from zooprof.frontends.torch.fx_trace import trace_fx
from zooprof.ir.graph import Graph


def build_module(builder: Callable[..., Any], kwargs: dict[str, Any] | None = None) -> nn.Module:
    """Call a model builder so that its weights take no memory (meta device; see `building`)."""
    return build_module_noted(builder, kwargs)[0]


def build_module_noted(
    builder: Callable[..., Any], kwargs: dict[str, Any] | None = None
) -> tuple[nn.Module, str | None]:
    """`build_module`, plus a note when the builder needed real tensors and ran on the CPU."""
    block_triton_after_tensorflow()
    return build_without_weights(builder, kwargs)


def noted(graph: Graph, note: str | None) -> Graph:
    """The graph of a model built on the CPU says so in its trace method and notes."""
    if note is None:
        return graph
    return replace(graph, trace_method=CPU_BUILD + graph.trace_method, notes=(note, *graph.notes))


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
        model, note = build_module_noted(builder, ref.kwargs)
    except ZooprofError:
        raise
    except Exception as exc:
        raise ZooprofError(f"building {ref.text} failed: {type(exc).__name__}: {exc}") from exc
    from zooprof.frontends.torch import detection

    if detection.is_detector(model):  # list input, resize inside, NMS: read on CPU tensors
        graph, shapes = detection.read(builder, ref.kwargs, model, shapes, ref.name)
        return noted(graph, note), shapes
    if not shapes:
        raise UsageError(f"{ref.text} needs an input shape", "give --input-shape, e.g. --input-shape 1x3x224x224")
    return noted(graph_from_module(model, shapes, ref.name), note), shapes

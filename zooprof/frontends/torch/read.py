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

import contextlib
import importlib
import warnings
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
from zooprof.frontends.torch.isolated import no_unsafe_unpickling, run_limited
from zooprof.frontends.torch.validate import check_export_archive, file_kind
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


def _example_shapes(example: Any) -> list[Shape]:
    return [tuple(t.shape) for t in flat_tensors(example) if isinstance(t, torch.Tensor)] if example else []


def load_export(path: Path, trust: bool) -> Any:
    """The ExportedProgram of a .pt2 file. Without `trust`: the archive is checked first
    (`validate.check_export_archive`) and loaded with no unsafe unpickling; the caller must call
    `.module(check_guards=False)` (the file's guards are Python source). Unreadable: UsageError."""
    if not trust:
        check_export_archive(path)
    guard = contextlib.nullcontext() if trust else no_unsafe_unpickling(path)
    try:
        with guard:
            return torch.export.load(str(path))
    except ZooprofError:
        raise
    except Exception as exc:  # any deserialisation failure of a damaged or foreign file
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise UsageError(
            f"cannot read torch.export file {path}: {type(exc).__name__}: {text}".rstrip(": "),
            "the file is damaged, or was saved by another torch version; save it again",
        ) from None


def _read_export(path: Path, shapes: list[Shape] | None, trust: bool) -> tuple[Graph, list[Shape]]:
    """In the isolated child: load, then trace the exported graph on meta tensors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = load_export(path, trust)
        if not shapes:
            shapes = _example_shapes(ep.example_inputs)
            if not shapes:
                raise UsageError(f"{path} stores no example input shape", "give --input-shape")
        gm = ep.module(check_guards=trust).to("meta")
        return trace_fx(gm, meta_inputs(shapes), path.stem, gm=gm, method="export+fx"), shapes


def _read_torchscript(path: Path, shapes: list[Shape]) -> Graph:
    """In the isolated child: load on meta, then run the forward under the dispatch recorder."""
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ts = torch.jit.load(str(path), map_location="meta")
        except Exception as exc:  # a damaged or foreign file
            text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise UsageError(
                f"cannot read TorchScript file {path}: {type(exc).__name__}: {text}".rstrip(": "),
                "the file is damaged, or was saved by another torch version; save it again",
            ) from None
        ts.eval()
        return trace_dispatch(
            ts,
            meta_inputs(shapes),
            path.stem,
            "torchscript+dispatch",
            ["TorchScript: layers read from aten ops; names from their weights"],
        )


def graph_from_file(path: Path, shapes: list[Shape] | None, trust: bool) -> tuple[Graph, list[Shape]]:
    block_triton_after_tensorflow()
    kind = file_kind(path)
    if kind == "export":
        graph, shapes = run_limited(_read_export, (path, shapes, trust), path, "reading the torch.export graph")
        return graph, shapes
    if kind == "torchscript":
        if not shapes:
            raise UsageError(
                f"{path} is a TorchScript file, which stores no input shape",
                "give --input-shape, e.g. --input-shape 1x3x224x224",
            )
        graph = run_limited(_read_torchscript, (path, shapes), path, "running the TorchScript forward")
        return graph, shapes
    if not trust:
        raise UsageError(
            f"{path} is a pickled Python object: loading it can run any code in the file",
            "pass --trust if you trust its source, or save it with torch.export.save / torch.jit.save",
        )
    if not shapes:
        raise UsageError(f"{path} stores no input shape", "give --input-shape")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = torch.load(str(path), map_location="meta", weights_only=False)
    except Exception as exc:  # not a pickle at all, or a damaged one
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise UsageError(f"cannot read {path}: {type(exc).__name__}: {text}".rstrip(": ")) from None
    if not isinstance(obj, nn.Module):
        raise UsageError(
            f"{path} holds a {type(obj).__name__}, not a model",
            "a state_dict has no architecture: pass the model's builder as MODULE:CALLABLE",
        )
    return graph_from_module(obj.eval(), shapes, path.stem), shapes


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

"""Calling a model builder so that its weights take no memory: on the meta device when the
builder allows it, on the CPU with each parameter moved to meta as it is registered when the
builder needs real tensors (RegNet derives its stage widths with torch ops and `.tolist()`).

Tried in order, first success wins:

1. `meta`: the whole builder runs with the default device set to meta. No weight memory,
   no initialisation work. Most builders.
2. `cpu, parameters to meta on registration`: the builder runs on the CPU, so its own
   arithmetic (widths, grids, tables) has data, and a global parameter-registration hook
   swaps every `nn.Parameter` for a meta one the moment a module registers it. Each weight
   is allocated once, never initialised (the module's `reset_parameters` then runs on the
   meta copy) and freed at once; buffers stay real until the model is moved to meta.
3. `cpu`: the builder runs as it is (it reads its own parameters' values while building);
   every weight is allocated and initialised once on the CPU, then the model moves to meta.

The note returned says which way was taken and why, for `Graph.notes`; the trace method of a
CPU build is prefixed with `cpu-build+` (see docs/architecture.md, "The PyTorch frontend").
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import register_module_parameter_registration_hook

from zooprof.errors import UsageError, ZooprofError

#: prefix of `Graph.trace_method` when the builder could not run on the meta device
CPU_BUILD = "cpu-build+"


@contextlib.contextmanager
def parameters_to_meta() -> Iterator[None]:
    """While active, every `nn.Parameter` a module registers is replaced by a meta copy (same
    shape, dtype, requires_grad). A parameter registered twice (tied weights) gets the same
    meta copy both times, so ties survive."""
    moved: dict[int, tuple[weakref.ref[nn.Parameter], nn.Parameter]] = {}

    def hook(module: nn.Module, name: str, param: nn.Parameter | None) -> nn.Parameter | None:
        if param is None or param.is_meta or type(param) is not nn.Parameter:
            return None  # None, already meta, or a special kind (UninitializedParameter): left alone
        hit = moved.get(id(param))
        if hit is not None and hit[0]() is param:
            return hit[1]
        meta = nn.Parameter(param.detach().to("meta"), requires_grad=param.requires_grad)
        moved[id(param)] = (weakref.ref(param), meta)
        return meta

    handle = register_module_parameter_registration_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _call(builder: Callable[..., Any], kwargs: dict[str, Any], context: contextlib.AbstractContextManager[Any]) -> Any:
    with context, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = builder(**kwargs)
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            obj = obj()
    return obj


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def build_without_weights(
    builder: Callable[..., Any], kwargs: dict[str, Any] | None = None
) -> tuple[nn.Module, str | None]:
    """(model on meta in eval mode, note): the note is None for a meta build, else it says
    which CPU build was used and why. A builder that fails every way raises the error of
    its plain CPU run (its own error, not a meta-device artefact)."""
    kwargs = kwargs or {}
    attempts: list[tuple[str, Callable[[], contextlib.AbstractContextManager[Any]]]] = [
        ("meta", lambda: torch.device("meta")),
        ("cpu-meta-params", parameters_to_meta),
        ("cpu", contextlib.nullcontext),
    ]
    first: BaseException | None = None
    note: str | None = None
    obj: Any = None
    for way, context in attempts:
        try:
            obj = _call(builder, kwargs, context())
        except ZooprofError:
            raise
        except Exception as exc:  # any builder failure: try the next way, report the last
            first = first or exc
            if way == "cpu":
                raise
            continue
        if way == "cpu-meta-params":
            note = (
                f"built on the CPU: the builder needs real tensors ({_reason(first)}); "
                "each parameter was moved to the meta device as it was registered (no weight memory)"
            )
        elif way == "cpu":
            note = (
                f"built on the CPU: the builder needs real tensors and reads its own weights ({_reason(first)}); "
                "weights were allocated once on the CPU, then moved to the meta device"
            )
        break
    if not isinstance(obj, nn.Module):
        raise UsageError(
            f"the builder returned {type(obj).__name__}, not a torch.nn.Module",
            "point MODULE:CALLABLE at a function or class that returns an nn.Module",
        )
    return obj.to("meta").eval(), note

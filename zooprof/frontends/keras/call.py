"""One call of a Keras layer, as the layer handlers see it.

A handler is `handler(call: LayerCall, inputs: list[KTensor]) -> KTensor | list[KTensor]`: it
computes the output shape from the layer config (`call.cfg`, Keras layout) and emits one or
more IR layers with `call.emit`, which names them after the layer and records its weights.
`call.activation` adds the built-in `activation=` of a Conv/Dense as a layer of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.keras.builder import GraphBuilder, KTensor, Nesting
from zooprof.frontends.keras.constants import ACTIVATIONS, Shape
from zooprof.ir.ops import OpKind


@dataclass
class LayerCall:
    """One call of a Keras layer: where it sits, its names, class, config, dtypes and call kwargs."""

    b: GraphBuilder
    ctx: Nesting
    shown: str  # IR name of the layer (with #k for a second call)
    name: str  # Keras layer name
    cls: str
    cfg: dict[str, Any]
    dtype: str  # compute dtype
    var_dtype: str
    kwargs: dict[str, Any]

    def emit(
        self,
        op: OpKind,
        inputs: Sequence[KTensor],
        out: Shape,
        attrs: dict[str, Any] | None = None,
        params: Iterable[tuple[str, Shape, str]] = (),
        suffix: str = "",
        source_op: str | None = None,
        dtype: str | None = None,
        extra_outputs: Sequence[Shape] = (),
    ) -> KTensor:
        plist = [
            (
                self.name,
                var,
                shape,
                self.var_dtype if kind != "int64" else "int64",
                "non_trainable" if kind == "int64" else kind,
            )
            for var, shape, kind in params
        ]
        return self.b.emit(
            self.ctx,
            self.shown + suffix,
            op,
            source_op or self.cls,
            inputs,
            out,
            dtype or self.dtype,
            attrs,
            plist,
            keras_name=self.name,
            extra_outputs=extra_outputs,
        )

    def activation(self, t: KTensor, value: Any, suffix: str = "/activation") -> KTensor:
        """The built-in `activation` of a Conv/Dense: a separate layer after it (none for linear)."""
        name = activation_name(value)
        if name is None:
            return t
        op = ACTIVATIONS.get(name, OpKind.UNKNOWN)
        if op is None:
            return t
        attrs: dict[str, Any] = {"activation": name}
        if op is OpKind.SOFTMAX:
            attrs["axis"] = self.b.logical_axis(-1, len(t.shape))
        return self.emit(op, [t], t.shape, attrs, suffix=suffix, source_op=f"activation={name}")

    @property
    def where(self) -> str:
        """The file and the layer, for messages."""
        return f"{self.b.source}: Keras layer '{'/'.join((*self.ctx.names, self.shown))}' ({self.cls})"

    def get(self, key: str, default: Any = None) -> Any:
        v = self.cfg.get(key, default)
        return default if v is None else v


def activation_name(value: Any) -> str | None:
    """The name of an `activation` config value (a string, or a serialised function record)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("config", "registered_name", "class_name"):
            v = value.get(key)
            if isinstance(v, str):
                return v
            if isinstance(v, dict) and isinstance(v.get("name"), str):
                return v["name"]
    return str(value)


def one_input(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    """The single input of a layer that takes one; a UsageError otherwise."""
    if len(inputs) != 1:
        raise UsageError(
            f"Keras layer '{c.shown}' ({c.cls}) takes one input, the config gives {len(inputs)}",
            "the config may be damaged",
        )
    return inputs[0]

"""The Graph under construction while a Keras config is walked.

`KTensor` is a tensor in the Keras layout (batch first, channels last); `Nesting` says where a
(possibly nested) model sits (IR name prefix, weight prefix, trainable); `GraphBuilder`
collects the IR layers, inputs, notes and the weights the config describes (checked later
against a file's by `zooprof.frontends.keras.weights`). `GraphBuilder.emit` is the one place an
IR layer is made: it converts shapes to zooprof's logical order (N, C, spatial...), names
the layer and its weights after the nesting, and refuses unknown or empty output shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zooprof.errors import ModelShapeError
from zooprof.frontends.keras.constants import Shape
from zooprof.frontends.limits import MAX_TENSOR_ELEMENTS
from zooprof.ir.graph import Layer, ParamSpec, TensorSpec, numel
from zooprof.ir.ops import OpKind


@dataclass(frozen=True)
class KTensor:
    """A tensor while the config is read: its IR name, Keras-layout shape (batch first), dtype."""

    name: str
    shape: Shape
    dtype: str = "float32"


@dataclass
class ExpectedWeight:
    """A weight the config describes, to be checked against the file's."""

    layer: str  # Keras layer name (leaf)
    var: str
    shape: Shape
    ir_index: int  # index of the IR layer holding it


@dataclass
class Nesting:
    """Where a (possibly nested) model sits: IR name prefix, scope, weight prefix, trainable."""

    names: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    trainable: bool = True

    def child(self, name: str, call: int, trainable: bool) -> Nesting:
        shown = name if call == 0 else f"{name}#{call}"
        return Nesting((*self.names, shown), (*self.params, name), self.trainable and trainable)


@dataclass
class GraphBuilder:
    """The IR layers, inputs, notes and expected weights collected while a config is walked."""

    trust: bool
    channels_first: bool
    batch: int
    user_shapes: list[Shape] | None  # logical
    source: str = "the model"  # the file, for messages
    layers: list[Layer] = field(default_factory=list)
    inputs: list[TensorSpec] = field(default_factory=list)
    used_shapes: list[Shape] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    expected: list[ExpectedWeight] = field(default_factory=list)
    seen_params: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    unknown_layers: dict[str, list[int]] = field(default_factory=dict)  # keras leaf name -> IR indices
    assumed_shapes: list[str] = field(default_factory=list)
    dense_as_conv: int = 0
    check_recorded: bool = True
    input_notes: list[str] = field(default_factory=list)
    extra_outputs: list[KTensor] = field(default_factory=list)  # of the last emitted layer

    # ---------------------------------------------------------------- layout
    def logical(self, shape: Shape) -> Shape:
        if self.channels_first or len(shape) < 3:
            return tuple(shape)
        return (shape[0], shape[-1], *shape[1:-1])

    def logical_axis(self, axis: int, rank: int) -> int:
        a = axis % rank
        if self.channels_first or rank < 3 or a == 0:
            return a
        return 1 if a == rank - 1 else a + 1

    def spec(self, t: KTensor) -> TensorSpec:
        return TensorSpec(t.name, self.logical(t.shape), t.dtype)

    # ---------------------------------------------------------------- emit
    def emit(
        self,
        ctx: Nesting,
        name: str,
        op: OpKind,
        source_op: str,
        inputs: Sequence[KTensor],
        out_shape: Shape,
        dtype: str,
        attrs: dict[str, Any] | None = None,
        params: Iterable[tuple[str, str, Shape, str, str]] = (),
        keras_name: str | None = None,
        extra_outputs: Sequence[Shape] = (),
    ) -> KTensor:
        """Add one IR layer. `params`: (keras layer, var, shape, dtype, kind) per weight."""
        full = "/".join((*ctx.names, name))
        if any(d is None or d < 0 for d in out_shape):
            raise ModelShapeError(
                f"cannot compute the output shape of Keras layer '{full}' ({source_op}): got {list(out_shape)}",
                "give --input-shape with every dimension",
            )
        if any(d == 0 for d in out_shape):
            raise ModelShapeError(
                f"Keras layer '{full}' ({source_op}) gives an empty output {list(out_shape)} "
                f"for the input {'x'.join(map(str, inputs[0].shape)) if inputs else ''}",
                "the input is too small for the model; give a larger --input-shape",
            )
        if numel(tuple(out_shape)) > MAX_TENSOR_ELEMENTS:  # type: ignore[arg-type]
            raise ModelShapeError(
                f"{self.source}: Keras layer '{full}' ({source_op}) gives an output {list(out_shape)} of more than "
                f"{MAX_TENSOR_ELEMENTS:,} elements",
                "the input shape or the layer's config is out of any real model's range",
            )
        specs: list[ParamSpec] = []
        for keras_layer, var, shape, pdtype, kind in params:
            pname = "/".join((*ctx.params, keras_layer, var))
            if not ctx.trainable and kind == "trainable":
                kind = "non_trainable"
            specs.append(ParamSpec(pname, tuple(int(d) for d in shape), pdtype, kind))  # type: ignore[arg-type]
            if pname not in self.seen_params:
                self.seen_params.add(pname)
                self.expected.append(ExpectedWeight(keras_layer, var, tuple(int(d) for d in shape), len(self.layers)))
        out = KTensor(full, tuple(int(d) for d in out_shape), dtype)  # type: ignore[arg-type]
        extra = [
            KTensor(f"{full}:{i + 1}", tuple(int(d) for d in shape), dtype) for i, shape in enumerate(extra_outputs)
        ]
        self.extra_outputs = extra
        # scope: the dotted path of the Keras layer itself (as PyTorch module paths), so
        # `--depth` groups a layer with its sub-layers (conv + activation) and by nested model
        scope = ".".join(n.replace(".", "_") for n in (*ctx.names, name.split("/")[0]))
        layer = Layer(
            full,
            op,
            source_op,
            tuple(self.spec(t) for t in inputs),
            (self.spec(out), *(self.spec(t) for t in extra)),
            dict(attrs or {}),
            tuple(specs),
            scope,
        )
        if op is OpKind.UNKNOWN:
            self.unknown.append(f"{full} ({source_op})")
            if keras_name is not None:
                self.unknown_layers.setdefault(keras_name, []).append(len(self.layers))
        self.layers.append(layer)
        return out

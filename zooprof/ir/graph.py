"""The framework-neutral layer graph (IR): layers in execution order with their tensors.

A Graph is built once by a frontend and never changed afterwards; analyses read it and
produce their own records. Shapes are in logical order (N, C, spatial...) whatever the
source layout, so NCHW and NHWC models compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from zooprof.ir.ops import OpKind

DTYPE_BYTES: dict[str, int] = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "complex128": 16,
    "complex64": 8,
    "complex32": 4,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "int64": 8,
    "int32": 4,
    "int16": 2,
    "int8": 1,
    "uint8": 1,
    "uint16": 2,
    "uint32": 4,
    "uint64": 8,
    "bool": 1,
}

ParamKind = Literal["trainable", "non_trainable", "buffer"]


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of a dtype name; unknown dtypes are an error, not a guess."""
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}") from None


def numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


@dataclass(frozen=True)
class QuantSpec:
    """Affine quantisation of a tensor: real = scale * (q - zero_point)."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None


@dataclass(frozen=True)
class TensorSpec:
    """A tensor's name, logical shape (N, C, spatial...), dtype and quantisation."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    quant: QuantSpec | None = None

    @property
    def numel(self) -> int:
        return numel(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * dtype_bytes(self.dtype)

    @property
    def spatial(self) -> tuple[int, ...]:
        """Spatial extent (H, W, ...) of an N, C, spatial... tensor; empty for vectors."""
        return self.shape[2:] if len(self.shape) > 2 else ()


@dataclass(frozen=True)
class ParamSpec:
    """One stored tensor of the model: a parameter (trainable or not) or a buffer."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    kind: ParamKind = "trainable"

    @property
    def numel(self) -> int:
        return numel(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * dtype_bytes(self.dtype)


@dataclass(frozen=True)
class Layer:
    """One op in execution order.

    `inputs` are tensor names (graph inputs or earlier layers' outputs); `attrs` holds the
    op's hyper-parameters (kernel, stride, padding, dilation, groups, bias, axis...) as
    plain JSON-friendly values; `scope` is the dotted path of the module (or nested model)
    that owns the layer, used to collapse by depth.
    """

    name: str
    op: OpKind
    source_op: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    params: tuple[ParamSpec, ...] = ()
    scope: str = ""
    inplace: bool = False

    @property
    def output(self) -> TensorSpec:
        return self.outputs[0]


@dataclass(frozen=True)
class Graph:
    """A whole model: its inputs, its layers in execution order, and how it was read.

    `params_not_in_trace` holds the model's registered parameters and buffers that no layer
    uses (a PyTorch submodule its forward never calls in eval, such as inception_v3's
    AuxLogits): they belong to the model's totals but to no layer row. Empty for formats
    whose every stored tensor is an operand of some op (ONNX, TFLite, Keras).
    """

    name: str
    framework: str
    inputs: tuple[TensorSpec, ...]
    layers: tuple[Layer, ...]
    outputs: tuple[str, ...]
    trace_method: str = ""
    notes: tuple[str, ...] = ()
    params_not_in_trace: tuple[ParamSpec, ...] = ()

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

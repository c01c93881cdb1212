"""The framework-neutral layer graph."""

from zooprof.ir.graph import Graph, Layer, ParamSpec, QuantSpec, TensorSpec
from zooprof.ir.ops import OpKind

__all__ = ["Graph", "Layer", "OpKind", "ParamSpec", "QuantSpec", "TensorSpec"]

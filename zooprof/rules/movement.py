"""Data movement: ops that rearrange, copy or select values without arithmetic.

They cost 0 MACs and 0 FLOPs by convention (the cost is memory traffic, which the
activation-memory analysis accounts for). They are counted, not unknown.
"""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import RF, AxisRF, Rule, merge_rf


class MovementRule(Rule):
    kinds = frozenset(
        {
            OpKind.FLATTEN,
            OpKind.RESHAPE,
            OpKind.PERMUTE,
            OpKind.SLICE,
            OpKind.PAD,
            OpKind.DROPOUT,
            OpKind.IDENTITY,
            OpKind.COPY,
        }
    )

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        if layer.op is OpKind.PAD:
            # Padding shifts the field: a later window's effective padding grows by it.
            rf = inputs[0]
            pad = layer.attrs.get("padding")
            if rf.axes and isinstance(pad, (list, tuple)) and len(pad) == len(rf.axes):
                lo = [p[0] if isinstance(p, (list, tuple)) else p for p in pad]
                return RF(
                    tuple(AxisRF(a.size, a.stride, a.padding + p * a.stride) for a, p in zip(rf.axes, lo, strict=True)),
                    rf.is_global,
                    rf.known,
                    rf.aligned,
                    rf.exact,
                )
        return inputs[0] if inputs else RF()


class ConcatRule(Rule):
    """Concatenation: 0 FLOPs; receptive field by the multi-path alignment rule."""

    kinds = frozenset({OpKind.CONCAT})

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        axis = int(layer.attrs.get("axis", 1))
        rank = len(layer.output.shape)
        if rank > 2 and axis % rank >= 2:
            # Joining along a spatial axis: positions come from different inputs.
            return RF(known=False)
        return merge_rf(layer, inputs) if len(inputs) > 1 else inputs[0]

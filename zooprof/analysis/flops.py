"""MACs and FLOPs per layer under the conventions of docs/counting.md."""

from __future__ import annotations

from dataclasses import dataclass

from zooprof.ir.graph import Graph
from zooprof.rules import RULES


@dataclass(frozen=True)
class Cost:
    macs: int
    flops: int
    counted: bool


def analyze_flops(graph: Graph) -> list[Cost]:
    """Layers without a rule get counted=False and 0 in both columns; the totals report
    them as uncounted and give coverage, so a 0 never hides an unknown op."""
    out = []
    for layer in graph.layers:
        rule = RULES.get(layer.op)
        if not rule.counted:
            out.append(Cost(0, 0, False))
        else:
            out.append(Cost(rule.macs(layer), rule.flops(layer), True))
    return out

"""MACs and FLOPs per layer under the conventions of docs/counting.md."""

from __future__ import annotations

from dataclasses import dataclass

from zooprof.analysis.guard import Problems
from zooprof.ir.graph import Graph, Layer
from zooprof.rules import RULES
from zooprof.rules.base import Rule


@dataclass(frozen=True)
class Cost:
    macs: int
    flops: int
    counted: bool


def _cost(rule: Rule, layer: Layer) -> Cost:
    return Cost(rule.macs(layer), rule.flops(layer), True)


def analyze_flops(graph: Graph, problems: Problems | None = None) -> list[Cost]:
    """Layers without a rule get counted=False and 0 in both columns; the totals report
    them as uncounted and give coverage, so a 0 never hides an unknown op. A rule that
    raises on a layer makes that layer uncounted too (noted in `problems`)."""
    problems = problems or Problems()
    out = []
    for layer in graph.layers:
        rule = RULES.get(layer.op)
        if not rule.counted:
            out.append(Cost(0, 0, False))
        else:
            out.append(problems.layer("MACs/FLOPs", layer, Cost(0, 0, False), _cost, rule, layer))
    return out

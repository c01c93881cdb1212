"""Output shapes: check each rule's closed form against the frontend's shape, keep the formula."""

from __future__ import annotations

from dataclasses import dataclass

from zooprof.ir.graph import Graph
from zooprof.rules import RULES


@dataclass(frozen=True)
class ShapeInfo:
    formula: tuple[str, ...]
    mismatch: str | None = None


def analyze_shapes(graph: Graph) -> list[ShapeInfo]:
    """Per layer: the formula behind each spatial output size, and any disagreement with the
    rule's own computation (a frontend or rule bug, reported rather than hidden)."""
    out = []
    for layer in graph.layers:
        rule = RULES.get(layer.op)
        try:
            expected = rule.expected_shape(layer)
            formula = tuple(rule.explain(layer))
        except (KeyError, ValueError, TypeError, IndexError, ZeroDivisionError) as exc:
            out.append(ShapeInfo((), f"attributes incomplete for the {layer.op.value} rule: {exc}"))
            continue
        mismatch = None
        if expected is not None and tuple(expected) != tuple(layer.output.shape):
            mismatch = f"rule expects {list(expected)}, model gives {list(layer.output.shape)}"
        out.append(ShapeInfo(formula, mismatch))
    return out

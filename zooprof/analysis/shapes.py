"""Output shapes: check each rule's closed form against the frontend's shape, keep the formula."""

from __future__ import annotations

from dataclasses import dataclass

from zooprof.analysis.guard import Problems
from zooprof.ir.graph import Graph
from zooprof.rules import RULES


@dataclass(frozen=True)
class ShapeInfo:
    formula: tuple[str, ...]
    mismatch: str | None = None


def analyze_shapes(graph: Graph, problems: Problems | None = None) -> list[ShapeInfo]:
    """Per layer: the formula behind each spatial output size, and any disagreement with the
    rule's own computation (a frontend or rule bug, reported rather than hidden). A layer with
    no graph input (fed by buffers or constants) has no input shape to recompute from: no
    check. A rule that cannot recompute the shape reports why as the layer's mismatch."""
    problems = problems or Problems()
    out = []
    for layer in graph.layers:
        if not layer.inputs:
            out.append(ShapeInfo(()))
            continue
        rule = RULES.get(layer.op)
        try:
            expected = rule.expected_shape(layer)
            formula = tuple(rule.explain(layer))
        except (KeyError, ValueError, TypeError, IndexError, ZeroDivisionError) as exc:
            out.append(ShapeInfo((), f"attributes incomplete for the {layer.op.value} rule: {exc}"))
            continue
        except Exception as exc:  # anything else a rule meets: the check is unknown, the rest stays
            problems.record("shape check", layer, exc)
            out.append(ShapeInfo(()))
            continue
        mismatch = None
        if expected is not None and tuple(expected) != tuple(layer.output.shape):
            mismatch = f"rule expects {list(expected)}, model gives {list(layer.output.shape)}"
        out.append(ShapeInfo(formula, mismatch))
    return out

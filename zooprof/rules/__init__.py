"""Op rules: one per op family, looked up by OpKind through one registry."""

from __future__ import annotations

from zooprof.ir.ops import OpKind
from zooprof.rules.activation import ActivationRule
from zooprof.rules.attention import AttentionRule, EinsumRule
from zooprof.rules.base import RF, Rule
from zooprof.rules.conv import ConvRule, ConvTransposeRule
from zooprof.rules.dense import DenseRule, MatmulRule
from zooprof.rules.detection import PostprocessRule, RoIAlignRule
from zooprof.rules.elementwise import ElementwiseRule
from zooprof.rules.movement import ConcatRule, MovementRule
from zooprof.rules.norm import LRNRule, NormRule
from zooprof.rules.pool import AdaptivePoolRule, PoolRule
from zooprof.rules.reduce import ReduceRule
from zooprof.rules.resize import GridSampleRule, ResizeRule


class UnknownRule(Rule):
    """An op no rule covers: it is listed as uncounted, and its receptive field is unknown."""

    kinds = frozenset({OpKind.UNKNOWN})
    counted = False

    def rf(self, layer, inputs: list[RF]) -> RF:  # type: ignore[no-untyped-def]
        return RF(known=False)


class RuleRegistry:
    """OpKind -> Rule. Registering two rules for one kind is an error."""

    def __init__(self) -> None:
        self._rules: dict[OpKind, Rule] = {}

    def register(self, rule: Rule) -> None:
        for kind in rule.kinds:
            if kind in self._rules:
                raise ValueError(
                    f"two rules for op {kind.value}: {type(self._rules[kind]).__name__}, {type(rule).__name__}"
                )
            self._rules[kind] = rule

    def get(self, kind: OpKind) -> Rule:
        return self._rules.get(kind, self._rules[OpKind.UNKNOWN])

    def covered(self) -> frozenset[OpKind]:
        return frozenset(self._rules)


RULES = RuleRegistry()
for _rule in (
    ConvRule(),
    ConvTransposeRule(),
    DenseRule(),
    MatmulRule(),
    EinsumRule(),
    AttentionRule(),
    NormRule(),
    LRNRule(),
    ActivationRule(),
    PoolRule(),
    AdaptivePoolRule(),
    ElementwiseRule(),
    ConcatRule(),
    MovementRule(),
    ReduceRule(),
    ResizeRule(),
    GridSampleRule(),
    RoIAlignRule(),
    PostprocessRule(),
    UnknownRule(),
):
    RULES.register(_rule)

__all__ = ["RULES", "RF", "Rule", "RuleRegistry"]

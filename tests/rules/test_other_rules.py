"""Dense, matmul, norm, activation, elementwise and reduction rules; the registry."""

from __future__ import annotations

import pytest

from tests.conftest import layer, t
from zooprof.ir.ops import OpKind
from zooprof.rules import RULES, RuleRegistry
from zooprof.rules.base import RF, AxisRF, merge_rf
from zooprof.rules.conv import ConvRule


def test_every_op_kind_has_a_rule() -> None:
    assert RULES.covered() == set(OpKind)


def test_duplicate_rule_is_an_error() -> None:
    reg = RuleRegistry()
    reg.register(ConvRule())
    with pytest.raises(ValueError, match="two rules"):
        reg.register(ConvRule())


def test_dense_counts_and_global_rf() -> None:
    fc6 = layer("fc6", OpKind.DENSE, [t("x", 1, 9216)], t("y", 1, 4096), in_features=9216, out_features=4096, bias=True)
    rule = RULES.get(OpKind.DENSE)
    assert rule.macs(fc6) == 9216 * 4096
    assert rule.flops(fc6) == 2 * 9216 * 4096 + 4096
    assert rule.rf(fc6, [RF(axes=(AxisRF(195, 32, 64),) * 2)]).is_global
    assert not rule.rf(fc6, [RF()]).applicable  # an MLP on a vector: no RF


def test_matmul() -> None:
    mm = layer("mm", OpKind.MATMUL, [t("a", 2, 8, 16), t("b", 2, 16, 4)], t("y", 2, 8, 4))
    assert RULES.get(OpKind.MATMUL).macs(mm) == 2 * 8 * 4 * 16


def test_elementwise_and_activation_flops() -> None:
    add = layer("add", OpKind.ADD, [t("a", 1, 64, 56, 56), t("b", 1, 64, 56, 56)], t("y", 1, 64, 56, 56))
    assert RULES.get(OpKind.ADD).flops(add) == 64 * 56 * 56
    relu = layer("r", OpKind.RELU, [t("a", 1, 10)], t("y", 1, 10))
    assert RULES.get(OpKind.RELU).flops(relu) == 10
    bn = layer("bn", OpKind.BATCHNORM, [t("a", 1, 4, 2, 2)], t("y", 1, 4, 2, 2))
    assert RULES.get(OpKind.BATCHNORM).flops(bn) == 2 * 16


def test_unknown_op_is_not_counted() -> None:
    assert not RULES.get(OpKind.UNKNOWN).counted


def test_merge_aligned_residual() -> None:
    # ResNet v1.5 downsample: 1x1 stride 2 pad 0 vs 3x3 stride 2 pad 1 -> same centre, same stride
    inp = AxisRF(11, 4, 5)
    main = AxisRF(inp.size + 2 * 4, 8, inp.padding + 4)
    short = AxisRF(inp.size, 8, inp.padding)
    add = layer("add", OpKind.ADD, [t("a", 1, 8, 7, 7), t("b", 1, 8, 7, 7)], t("y", 1, 8, 7, 7))
    rf = merge_rf(add, [RF(axes=(main, main)), RF(axes=(short, short))])
    assert rf.aligned and rf.axes[0] == main


def test_merge_not_aligned() -> None:
    add = layer("add", OpKind.ADD, [t("a", 1, 8, 7, 7), t("b", 1, 8, 7, 7)], t("y", 1, 8, 7, 7))
    a = RF(axes=(AxisRF(5, 2, 2),) * 2)
    b = RF(axes=(AxisRF(5, 2, 0),) * 2)  # centre 2 vs 0
    assert not merge_rf(add, [a, b]).aligned
    c = RF(axes=(AxisRF(5, 4, 2),) * 2)  # stride 4 vs 2
    assert not merge_rf(add, [a, c]).aligned


def test_merge_ignores_broadcast_gate() -> None:
    # squeeze-and-excitation: x * gate(x), gate is 1x1 spatially and global
    mul = layer("mul", OpKind.MUL, [t("x", 1, 8, 7, 7), t("g", 1, 8, 1, 1)], t("y", 1, 8, 7, 7))
    x = RF(axes=(AxisRF(51, 8, 18),) * 2)
    assert merge_rf(mul, [x, RF(is_global=True)]) == x


def test_mean_over_spatial_is_global() -> None:
    m = layer("m", OpKind.MEAN, [t("x", 1, 8, 7, 7)], t("y", 1, 8), axis=(2, 3))
    rule = RULES.get(OpKind.MEAN)
    assert rule.rf(m, [RF(axes=(AxisRF(5, 2, 2),) * 2)]).is_global
    assert rule.flops(m) == 8 * 49 + 8


def test_decomposed_norm_ops_and_product() -> None:
    """The ops TFLite writes a LayerNorm with (by hand, per output element): squared difference
    2 (subtract, multiply); negate, square root and reciprocal square root 1 each; a product
    1 multiply per input element, as a sum's 1 add."""
    x, stat = t("x", 1, 8, 7, 7), t("m", 1, 1, 7, 7)
    sqd = layer("sqd", OpKind.SQUARED_DIFFERENCE, [x, stat], t("y", 1, 8, 7, 7))
    assert RULES.get(OpKind.SQUARED_DIFFERENCE).flops(sqd) == 2 * 8 * 49
    assert RULES.get(OpKind.SQUARED_DIFFERENCE).rf(sqd, [RF(axes=(AxisRF(3, 1, 1),) * 2), RF()]).axes[0].size == 3
    for kind in (OpKind.NEG, OpKind.SQRT, OpKind.RSQRT):
        unary = layer("u", kind, [stat], t("y", 1, 1, 7, 7))
        assert RULES.get(kind).flops(unary) == 49 and RULES.get(kind).counted
        assert RULES.get(kind).rf(unary, [RF(axes=(AxisRF(5, 2, 2),) * 2)]).axes[0].size == 5
    prod = layer("p", OpKind.PROD, [t("shape", 3, dtype="int32")], t("n", dtype="int32"), axis=(0,))
    assert RULES.get(OpKind.PROD).flops(prod) == 3

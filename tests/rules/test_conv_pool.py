"""Conv and pool rules against hand calculations (the course slide's AlexNet numbers)."""

from __future__ import annotations

from tests.conftest import layer, t
from zooprof.ir.ops import OpKind
from zooprof.rules import RULES
from zooprof.rules.base import RF, AxisRF
from zooprof.rules.conv import window_formula, window_out
from zooprof.rules.pool import adaptive_windows


def test_window_out_matches_slide() -> None:
    assert window_out(224, 11, 4, 2, 2) == 55  # (224 + 2*2 - 11)/4 + 1
    assert window_out(55, 3, 2, 0, 0) == 27  # (55 - 3)/2 + 1
    assert window_out(227, 11, 4, 0, 0) == 55  # the paper's form
    assert window_out(224, 11, 4, 0, 0) == 54  # the trap: 224 with pad 0
    assert window_out(13, 3, 2, 0, 0) == 6


def test_window_out_dilation_and_ceil_mode() -> None:
    assert window_out(32, 3, 1, 2, 2, d=2) == 32  # dilated 3x3 spans 5
    assert window_out(112, 3, 2, 0, 0, ceil_mode=True) == 56  # floor gives 55
    assert window_out(5, 2, 2, 0, 0, ceil_mode=True) == 3
    assert window_out(4, 2, 2, 0, 0, ceil_mode=True) == 2  # no window starting in padding only


def test_formula_text_is_the_slides() -> None:
    assert window_formula(224, 11, 4, 2, 2, 1, 55) == "(224 + 2*2 - 11)/4 + 1 = 55"


def conv1() -> object:
    return layer(
        "conv1",
        OpKind.CONV,
        [t("x", 1, 3, 224, 224)],
        t("conv1", 1, 96, 55, 55),
        kernel=(11, 11),
        stride=(4, 4),
        padding=(2, 2),
        dilation=(1, 1),
        groups=1,
        in_channels=3,
        out_channels=96,
        bias=True,
    )


def test_conv_macs_flops_shape_rf() -> None:
    rule = RULES.get(OpKind.CONV)
    c = conv1()
    assert rule.macs(c) == 96 * 55 * 55 * 3 * 11 * 11 == 105_415_200
    assert rule.flops(c) == 2 * 105_415_200 + 96 * 55 * 55
    assert rule.expected_shape(c) == (1, 96, 55, 55)
    rf = rule.rf(c, [RF.for_input(2)])
    assert rf.axes == (AxisRF(11, 4, 2), AxisRF(11, 4, 2))


def test_grouped_and_depthwise_conv_macs() -> None:
    rule = RULES.get(OpKind.CONV)
    g2 = layer(
        "conv2",
        OpKind.CONV,
        [t("x", 1, 96, 27, 27)],
        t("y", 1, 256, 27, 27),
        kernel=(5, 5),
        stride=(1, 1),
        padding=(2, 2),
        groups=2,
        in_channels=96,
        out_channels=256,
        bias=True,
    )
    assert rule.macs(g2) == 256 * 27 * 27 * 48 * 25 == 223_948_800
    dw = layer(
        "dw",
        OpKind.CONV,
        [t("x", 1, 32, 112, 112)],
        t("y", 1, 32, 112, 112),
        kernel=(3, 3),
        stride=(1, 1),
        padding=(1, 1),
        groups=32,
        in_channels=32,
        out_channels=32,
        bias=False,
    )
    assert rule.macs(dw) == 32 * 112 * 112 * 9
    assert rule.flops(dw) == 2 * rule.macs(dw)


def test_pool_flops_and_rf() -> None:
    rule = RULES.get(OpKind.MAXPOOL)
    p = layer(
        "pool1",
        OpKind.MAXPOOL,
        [t("x", 1, 96, 55, 55)],
        t("y", 1, 96, 27, 27),
        kernel=(3, 3),
        stride=(2, 2),
        padding=(0, 0),
    )
    assert rule.macs(p) == 0
    assert rule.flops(p) == 96 * 27 * 27 * 8
    rf = rule.rf(p, [RF(axes=(AxisRF(11, 4, 2),) * 2)])
    assert rf.axes[0] == AxisRF(19, 8, 2)


def test_adaptive_pool_windows() -> None:
    assert adaptive_windows(14, 7) == (2, 2, True)
    assert adaptive_windows(6, 6) == (1, 1, True)
    width, _, uniform = adaptive_windows(10, 7)
    assert width == 3 and not uniform


def test_global_pool_makes_rf_global() -> None:
    rule = RULES.get(OpKind.ADAPTIVE_AVGPOOL)
    g = layer("gap", OpKind.ADAPTIVE_AVGPOOL, [t("x", 1, 1280, 7, 7)], t("y", 1, 1280, 1, 1), output_size=(1, 1))
    assert rule.rf(g, [RF(axes=(AxisRF(491, 32, 245),) * 2)]).is_global
    assert rule.flops(g) == 1280 * 49 + 1280

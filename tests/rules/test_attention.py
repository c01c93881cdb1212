"""Attention, einsum and batched-matmul rules, against hand calculations (docs/counting.md)."""

from __future__ import annotations

from tests.conftest import layer, t
from zooprof.ir.ops import OpKind
from zooprof.rules import RULES
from zooprof.rules.base import RF, AxisRF


def _mha(**overrides: object):  # type: ignore[no-untyped-def]
    """Self-attention, embed 8, 2 heads of 4, batch 2, 5 tokens, biases on (nn.MultiheadAttention(8, 2))."""
    attrs: dict[str, object] = dict(
        batch=2, heads=2, q_len=5, kv_len=5, kv_tokens=5, head_dim=4, v_head_dim=4, q_in=8, k_in=8, v_in=8
    )
    attrs.update(in_bias=True, out_features=8, out_bias=True, score_adds=0, weights_mean=False)
    attrs.update(overrides)
    return layer("attn", OpKind.ATTENTION, [t("x", 2, 5, 8)] * 3, t("y", 2, 5, 8), **attrs)


def test_self_attention_parts_by_hand() -> None:
    rule = RULES.get(OpKind.ATTENTION)
    a = _mha()
    in_proj = 3 * (2 * 5 * 8 * 8)  # q, k, v: batch x tokens x 8 in x 8 out = 1,920
    qk = 2 * 2 * 5 * 5 * 4  # batch x heads x L x S x head_dim = 400
    av = 2 * 2 * 5 * 5 * 4  # = 400
    out = 2 * 5 * 8 * 8  # = 640
    assert rule.macs(a) == in_proj + qk + av + out == 3_360
    scores = 2 * 2 * 5 * 5
    biases = 3 * 2 * 5 * 8 + 2 * 5 * 8  # q/k/v biases and the out-projection bias, 1 per output
    scale = 2 * 2 * 5 * 4  # q x head_dim ** -0.5
    assert rule.flops(a) == 2 * 3_360 + biases + scale + 4 * scores == 7_520
    assert rule.explain(a) == [
        "in-proj 3x2x5x8x8 = 1,920; QK^T 2x2x5x5x4 = 400; softmax 2x2x5x5; AV 2x2x5x5x4 = 400; out-proj 2x5x8x8 = 640"
    ]
    # masks and the averaged weights of need_weights=True are FLOPs only
    assert rule.macs(_mha(score_adds=2, weights_mean=True)) == 3_360
    assert rule.flops(_mha(score_adds=2, weights_mean=True)) == 7_520 + 2 * scores + scores + 2 * 5 * 5


def test_cross_attention_with_other_key_and_value_widths() -> None:
    # nn.MultiheadAttention(8, 2, kdim=6, vdim=3): 4 queries, 7 keys, batch 1, no biases
    a = _mha(batch=1, q_len=4, kv_len=7, kv_tokens=7, k_in=6, v_in=3, in_bias=False, out_bias=False)
    assert RULES.get(OpKind.ATTENTION).macs(a) == (4 * 8 * 8 + 7 * 6 * 8 + 7 * 3 * 8) + 2 * (2 * 4 * 7 * 4) + 4 * 8 * 8
    assert RULES.get(OpKind.ATTENTION).explain(a)[0].startswith("in-proj 4x8x8 + 7x6x8 + 7x3x8 = 760; QK^T 2x4x7x4")


def test_scaled_dot_product_attention_has_no_projections() -> None:
    # q (3, 4, 6, 16), k (3, 4, 10, 16), v (3, 4, 10, 8), an additive mask
    a = layer(
        "sdpa",
        OpKind.ATTENTION,
        [t("q", 3, 4, 6, 16), t("k", 3, 4, 10, 16), t("v", 3, 4, 10, 8)],
        t("y", 3, 4, 6, 8),
        batch=3,
        heads=4,
        q_len=6,
        kv_len=10,
        head_dim=16,
        v_head_dim=8,
        score_adds=1,
    )
    rule = RULES.get(OpKind.ATTENTION)
    assert rule.macs(a) == 3 * 4 * 6 * 10 * 16 + 3 * 4 * 6 * 10 * 8 == 17_280
    scores = 3 * 4 * 6 * 10
    assert rule.flops(a) == 2 * 17_280 + 3 * 4 * 6 * 16 + scores + 4 * scores
    assert rule.explain(a) == ["QK^T 3x4x6x10x16 = 11,520; softmax 3x4x6x10; AV 3x4x6x10x8 = 5,760"]
    assert rule.rf(a, [RF(axes=(AxisRF(3, 1, 1),))] * 3).is_global


def test_swin_window_attention_by_hand() -> None:
    # swin_t stage 1 at 224: 56x56x96 in 64 windows of 7x7, 3 heads of 32, shifted (bias + mask)
    sizes = dict(batch=64, heads=3, q_len=49, kv_len=49, kv_tokens=49, head_dim=32, v_head_dim=32)
    a = _mha(**sizes, q_in=96, k_in=96, v_in=96, out_features=96)
    rule = RULES.get(OpKind.ATTENTION)
    assert rule.macs(a) == 3 * 64 * 49 * 96 * 96 + 2 * 64 * 3 * 49 * 49 * 32 + 64 * 49 * 96 * 96 == 145_108_992
    windowed = _mha(**sizes, q_in=96, k_in=96, v_in=96, out_features=96, window=(7, 7), score_adds=2)
    scores = 64 * 3 * 49 * 49
    assert rule.flops(windowed) == rule.flops(a) + 2 * scores
    assert not rule.rf(windowed, [RF(axes=(AxisRF(4, 4, 0),) * 2)]).known  # windows: no sliding-window RF


def test_cosine_attention_flops() -> None:
    # Swin V2: normalise q and k (3 per element + a square root per row), then x logit scale per score
    plain, cosine = _mha(), _mha(cosine=True)
    rule = RULES.get(OpKind.ATTENTION)
    assert rule.macs(cosine) == rule.macs(plain)
    rows = 2 * 2 * (5 + 5)
    assert rule.flops(cosine) - rule.flops(plain) == (3 * rows * 4 + rows + 2 * 2 * 5 * 5) - 2 * 2 * 5 * 4


def test_einsum_is_the_product_of_all_index_sizes() -> None:
    e = layer(
        "e",
        OpKind.EINSUM,
        [t("q", 2, 3, 5, 4)],
        t("y", 2, 3, 5, 7),
        equation="bhld,bhsd->bhls",
        indices="bhlds",
        sizes=(2, 3, 5, 4, 7),
    )
    rule = RULES.get(OpKind.EINSUM)
    assert rule.macs(e) == 2 * 3 * 5 * 4 * 7 == 840  # = output elements (2x3x5x7) x contracted d (4)
    assert rule.flops(e) == 1_680
    assert rule.explain(e) == ["bhld,bhsd->bhls: b=2 h=3 l=5 d=4 s=7; MACs = 2x3x5x4x7 = 840"]


def test_matmul_k_from_attributes_and_baddbmm() -> None:
    # (4, 8, 16) @ (4, 16, 3), the first operand a weight: k from the attributes, not the inputs
    mm = layer("mm", OpKind.MATMUL, [t("b", 4, 16, 3)], t("y", 4, 8, 3), k=16)
    assert RULES.get(OpKind.MATMUL).macs(mm) == 4 * 8 * 3 * 16
    bad = layer("b", OpKind.MATMUL, [t("c", 4, 8, 3), t("a", 4, 8, 16)], t("y", 4, 8, 3), k=16, bias=True, beta=0.5)
    assert RULES.get(OpKind.MATMUL).macs(bad) == 4 * 8 * 3 * 16
    assert RULES.get(OpKind.MATMUL).flops(bad) == 2 * 4 * 8 * 3 * 16 + 2 * 4 * 8 * 3  # + input, x beta

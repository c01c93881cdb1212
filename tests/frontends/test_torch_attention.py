"""Attention in the PyTorch frontend: nn.MultiheadAttention, scaled_dot_product_attention, Swin's
window attention, einsum, bmm/baddbmm, read by both tracing paths and from torch.export files.

References: hand calculations, and torch.utils.flop_counter.FlopCounterMode on a real forward with
the math attention kernel and MultiheadAttention's fast path off (FLOPs / 2 = MACs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from zooprof.analysis import analyze  # noqa: E402
from zooprof.frontends.torch import ops_products  # noqa: E402
from zooprof.frontends.torch import read as frontend  # noqa: E402
from zooprof.frontends.torch.dispatch import trace_dispatch  # noqa: E402
from zooprof.ir.graph import Graph  # noqa: E402
from zooprof.ir.ops import OpKind  # noqa: E402
from zooprof.rules import RULES  # noqa: E402


@contextmanager
def math_attention() -> Iterator[None]:
    """The reference's attention: the math SDPA kernel, MultiheadAttention's fast path off."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def reference_macs(model: nn.Module, *inputs: torch.Tensor) -> int:
    """FlopCounterMode on a real forward (CPU, random weights): its FLOPs are 2 per MAC."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with math_attention(), torch.no_grad(), counter:
        model.eval()(*inputs)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def both_paths(model_cls: type[nn.Module], shape: tuple[int, ...]) -> tuple[Graph, Graph]:
    """The model read by fx and by hooks + dispatch, on meta tensors."""
    fx_graph = frontend.graph_from_module(frontend.build_module(model_cls), [shape], "m")
    assert fx_graph.trace_method == "fx"
    model = frontend.build_module(model_cls)
    return fx_graph, trace_dispatch(model, frontend.meta_inputs([shape]), "m", "hooks+dispatch", [])


class SelfAttention(nn.Module):
    """nn.MultiheadAttention(8, 2) on (2, 5, 8), batch first, as ViT calls it."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.attn(x, x, x, need_weights=False)[0]


#: by hand: in-projection 3 x (2 x 5 x 8 x 8), QK^T and AV 2 x 2 heads x 5 x 5 x 4 each, out 2 x 5 x 8 x 8
SELF_ATTENTION_MACS = 3 * 2 * 5 * 8 * 8 + 2 * (2 * 2 * 5 * 5 * 4) + 2 * 5 * 8 * 8


def test_multihead_attention_is_one_layer_with_its_parts_in_both_paths() -> None:
    assert SELF_ATTENTION_MACS == 3_360
    assert reference_macs(SelfAttention(), torch.randn(2, 5, 8)) == SELF_ATTENTION_MACS
    for g in both_paths(SelfAttention, (2, 5, 8)):
        a = analyze(g)
        (row,) = [r for r in a.layers if r["op"] == "attention"]
        assert row["name"] == "attn" and row["source_op"] == "MultiheadAttention"
        assert row["macs"] == a.totals["macs"] == SELF_ATTENTION_MACS, g.trace_method
        assert row["params"] == 4 * 8 * 8 + 4 * 8  # in_proj (3E x E) + out_proj (E x E), biases
        assert row["formula"] == [
            "in-proj 3x2x5x8x8 = 1,920; QK^T 2x2x5x5x4 = 400; softmax 2x2x5x5; AV 2x2x5x5x4 = 400; out-proj 2x5x8x8 = 640"
        ]
        assert a.totals["coverage"]["percent"] == 100.0


class CrossAttention(nn.Module):
    """Sequence first, other key/value widths, masks, need_weights=True: the slow path (bmm, baddbmm)."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, kdim=6, vdim=3, bias=False)

    def forward(self, q):  # type: ignore[no-untyped-def]
        kv = torch.ones(7, q.shape[1], 6, device=q.device)
        v = kv[..., :3]
        mask = torch.zeros(4, 7, device=q.device)
        out, weights = self.attn(q, kv, v, attn_mask=mask)
        return out, weights


def test_cross_attention_sequence_first() -> None:
    # queries (4, 1, 8), keys (7, 1, 6), values (7, 1, 3)
    by_hand = (4 * 8 * 8 + 7 * 6 * 8 + 7 * 3 * 8) + 2 * (2 * 4 * 7 * 4) + 4 * 8 * 8
    assert reference_macs(CrossAttention(), torch.randn(4, 1, 8)) == by_hand
    g = frontend.graph_from_module(frontend.build_module(CrossAttention), [(4, 1, 8)], "m")
    layer = next(x for x in g.layers if x.op is OpKind.ATTENTION)
    assert (layer.attrs["q_len"], layer.attrs["kv_len"], layer.attrs["batch"]) == (4, 7, 1)
    assert layer.attrs["score_adds"] == 1 and layer.attrs["weights_mean"]
    assert analyze(g).totals["macs"] == by_hand


class ExtraKeys(nn.Module):
    """add_bias_kv and add_zero_attn: one key/value each, appended after the projection."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True, batch_first=True)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.attn(x, x, x, need_weights=False)[0]


def test_bias_kv_and_zero_attention_lengthen_the_keys_not_the_projection() -> None:
    by_hand = 3 * 2 * 5 * 8 * 8 + 2 * (2 * 2 * 5 * (5 + 2) * 4) + 2 * 5 * 8 * 8
    assert reference_macs(ExtraKeys(), torch.randn(2, 5, 8)) == by_hand
    for g in both_paths(ExtraKeys, (2, 5, 8)):
        assert analyze(g).totals["macs"] == by_hand, g.trace_method


class FunctionalAttention(nn.Module):
    """F.multi_head_attention_forward called directly (sequence first), as a custom block may."""

    def __init__(self) -> None:
        super().__init__()
        self.in_w, self.in_b = nn.Parameter(torch.zeros(24, 8)), nn.Parameter(torch.zeros(24))
        self.out = nn.Linear(8, 8)

    def forward(self, x):  # type: ignore[no-untyped-def]
        w, b = self.out.weight, self.out.bias
        return F.multi_head_attention_forward(
            x, x, x, 8, 2, self.in_w, self.in_b, None, None, False, 0.0, w, b, training=False, need_weights=False
        )[0]


def test_functional_multi_head_attention() -> None:
    assert reference_macs(FunctionalAttention(), torch.randn(5, 2, 8)) == SELF_ATTENTION_MACS
    g = frontend.graph_from_module(frontend.build_module(FunctionalAttention), [(5, 2, 8)], "m")
    (layer,) = [x for x in g.layers if x.op is OpKind.ATTENTION]
    assert (layer.attrs["batch"], layer.attrs["q_len"]) == (2, 5)
    assert analyze(g).totals["macs"] == SELF_ATTENTION_MACS


def test_fast_path_op_counts_the_same_products() -> None:
    # aten._native_multi_head_attention, as a TorchScript or dispatch trace sees the fast path
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(2, 5, 8)
    args = (x, x, x, 8, 2, m.in_proj_weight, m.in_proj_bias, m.out_proj.weight, m.out_proj.bias, None, False)
    kind, attrs, _, _ = ops_products_map(torch.ops.aten._native_multi_head_attention.default, args)
    assert kind is OpKind.ATTENTION
    fx_layer = next(x for x in both_paths(SelfAttention, (2, 5, 8))[0].layers if x.op is OpKind.ATTENTION)
    assert attrs == {**fx_layer.attrs, "weights_mean": False}
    with torch.no_grad():  # the fast path really runs on this input
        fast = m.eval()(x, x, x, need_weights=False)[0]
    assert fast.shape == (2, 5, 8)


def ops_products_map(target, args):  # type: ignore[no-untyped-def]
    from zooprof.frontends.torch import ops

    return ops.map_function(target, args, {}, set())


class Sdpa(nn.Module):
    def forward(self, q):  # type: ignore[no-untyped-def]
        k = torch.ones(2, 4, 10, 16, device=q.device)
        v = torch.ones(2, 4, 10, 8, device=q.device)
        return F.scaled_dot_product_attention(q, k, v, is_causal=False)


def test_scaled_dot_product_attention() -> None:
    by_hand = 2 * 4 * 6 * 10 * 16 + 2 * 4 * 6 * 10 * 8
    assert reference_macs(Sdpa(), torch.randn(2, 4, 6, 16)) == by_hand
    # the q operand is the graph input; k and v are constants: read from the call, not the inputs
    for name in ("scaled_dot_product_attention", "scaled_dot_product_flash_attention_for_cpu"):
        q, k, v = torch.empty(2, 4, 6, 16), torch.empty(2, 4, 10, 16), torch.empty(2, 4, 10, 8)
        kind, attrs = ops_products.ATTENTION_FUNCTIONS[name]((q, k, v), {})
        assert kind is OpKind.ATTENTION and (attrs["batch"], attrs["heads"], attrs["kv_len"]) == (2, 4, 10)
    g = frontend.graph_from_module(frontend.build_module(Sdpa), [(2, 4, 6, 16)], "m")
    assert analyze(g).totals["macs"] == by_hand


class Einsums(nn.Module):
    def forward(self, q):  # type: ignore[no-untyped-def]
        k = q[:, :, :3]  # (2, 3, 3, 4)
        a = torch.einsum("b h l d, b h s d -> b h l s", q, k)  # spaces, as torchvision's MaxViT writes
        b = torch.einsum("...ld,...sd->...ls", q, k)  # ellipsis
        c = torch.einsum("bhld,bhsd", q, k)  # implicit output: the indices used once (l s); b, h, d summed
        return a + b + c.sum()


def test_einsum_by_hand() -> None:
    by_hand = 2 * 3 * 5 * 3 * 4  # b h l s d
    assert reference_macs(Einsums(), torch.randn(2, 3, 5, 4)) == 3 * by_hand
    g = frontend.graph_from_module(frontend.build_module(Einsums), [(2, 3, 5, 4)], "m")
    rows = [r for r in analyze(g).layers if r["op"] == "einsum"]
    assert [r["macs"] for r in rows] == [by_hand] * 3
    assert rows[0]["formula"] == ["bhld,bhsd->bhls: b=2 h=3 l=5 d=4 s=3; MACs = 2x3x5x4x3 = 360"]
    assert rows[1]["formula"][0].startswith("01ld,01sd->01ls: 0=2 1=3")


def test_einsum_other_than_two_operands_is_uncounted_with_a_reason() -> None:
    x = torch.empty(3, 4)
    one = ops_products.einsum(("ij->ji", x), {})
    three = ops_products.einsum(("ij,jk,kl->il", x, x.T, x), {})
    assert one[0] is three[0] is OpKind.UNKNOWN
    assert "one operand" in one[1]["unmapped"] and "contraction order" in three[1]["unmapped"]
    assert ops_products.einsum(("ij,jk->ik", [x, x.T]), {})[1]["sizes"] == (3, 4, 3)  # operands as a list
    assert ops_products.einsum(("ijk,jk->i", x, x), {})[0] is OpKind.UNKNOWN  # rank does not fit


class Batched(nn.Module):
    def forward(self, a):  # type: ignore[no-untyped-def]
        b = torch.ones(4, 16, 3, device=a.device)
        c = torch.ones(4, 8, 3, device=a.device)
        return torch.bmm(a, b) + torch.baddbmm(c, a, b)


def test_bmm_and_baddbmm() -> None:
    by_hand = 2 * (4 * 8 * 3 * 16)
    assert reference_macs(Batched(), torch.randn(4, 8, 16)) == by_hand
    for g in both_paths(Batched, (4, 8, 16)):
        a = analyze(g)
        assert a.totals["macs"] == by_hand, g.trace_method
        assert a.totals["flops_by_op"]["matmul"] == 2 * by_hand + 4 * 8 * 3  # baddbmm's add


class TinyViT(nn.Module):
    """A ViT in small: patch conv, class token, position embedding, 2 pre-norm blocks (LayerNorm,
    MultiheadAttention, GELU MLP), head."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 16, 4, stride=4)
        self.cls = nn.Parameter(torch.zeros(1, 1, 16))
        self.pos = nn.Parameter(torch.zeros(1, 17, 16))
        self.blocks = nn.ModuleList(
            nn.ModuleDict(
                {
                    "ln1": nn.LayerNorm(16),
                    "attn": nn.MultiheadAttention(16, 4, batch_first=True),
                    "ln2": nn.LayerNorm(16),
                    "mlp": nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16)),
                }
            )
            for _ in range(2)
        )
        self.head = nn.Linear(16, 10)

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for b in self.blocks:
            y = b["ln1"](x)
            x = x + b["attn"](y, y, y, need_weights=False)[0]
            x = x + b["mlp"](b["ln2"](x))
        return self.head(x[:, 0])


TOKENS = 17  # 16 patches + the class token


def test_tiny_vit_matches_flop_counter_and_counts_norm_gelu_softmax() -> None:
    reference = reference_macs(TinyViT(), torch.randn(1, 3, 16, 16))
    attention = 4 * TOKENS * 16 * 16 + 2 * (4 * TOKENS * TOKENS * 4)
    by_hand = 16 * 16 * 3 * 16 + 2 * (attention + 2 * TOKENS * 16 * 32) + 16 * 10
    assert reference == by_hand
    for g in both_paths(TinyViT, (1, 3, 16, 16)):
        a = analyze(g)
        assert a.totals["macs"] == by_hand, g.trace_method
        assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]
        by_op = a.totals["flops_by_op"]
        assert by_op["layernorm"] == 8 * 4 * TOKENS * 16  # 4 norms x 8 per element
        assert by_op["gelu"] == 5 * 2 * TOKENS * 32
        softmax = 4 * 2 * 4 * TOKENS * TOKENS  # inside the two attention layers
        scale, biases = 2 * TOKENS * 16, 2 * (3 * TOKENS * 16 + TOKENS * 16)
        assert by_op["attention"] == 2 * 2 * attention + softmax + scale + biases


@pytest.mark.slow
def test_tiny_vit_from_a_torch_export_file(tmp_path: Path) -> None:
    # torch.export decomposes MultiheadAttention: linear, scaled_dot_product_attention, linear
    model = TinyViT().eval()
    x = torch.randn(1, 3, 16, 16)
    path = tmp_path / "vit.pt2"
    torch.export.save(torch.export.export(model, (x,)), str(path))
    g, _ = frontend.graph_from_file(path, None, trust=False)
    a = analyze(g)
    assert g.trace_method == "export+fx"
    assert a.totals["macs"] == reference_macs(model, x)
    assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]
    assert sum(1 for layer in g.layers if layer.op is OpKind.ATTENTION) == 2


def test_swin_window_attention_and_patch_merging() -> None:
    from torchvision.models.swin_transformer import PatchMerging, ShiftedWindowAttention

    class Swin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.plain = ShiftedWindowAttention(16, [4, 4], [0, 0], 2)
            self.shifted = ShiftedWindowAttention(16, [4, 4], [2, 2], 2)
            self.merge = PatchMerging(16)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.merge(self.shifted(self.plain(x)))

    # input (1, 10, 10, 16): padded to 12 x 12 = 9 windows of 16 tokens, 2 heads of 8
    per_block = 3 * 9 * 16 * 16 * 16 + 2 * (9 * 2 * 16 * 16 * 8) + 9 * 16 * 16 * 16
    merge = 5 * 5 * 64 * 32
    assert reference_macs(Swin(), torch.randn(1, 10, 10, 16)) == 2 * per_block + merge
    g = frontend.graph_from_module(frontend.build_module(Swin), [(1, 10, 10, 16)], "m")
    a = analyze(g)
    assert a.totals["macs"] == 2 * per_block + merge
    assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]
    plain, shifted = (x for x in g.layers if x.op is OpKind.ATTENTION)
    assert (plain.attrs["batch"], plain.attrs["window"], plain.attrs["score_adds"]) == (9, (4, 4), 1)
    assert shifted.attrs["score_adds"] == 2  # relative position bias + the shifted-window mask
    assert RULES.get(OpKind.ATTENTION).flops(shifted) == RULES.get(OpKind.ATTENTION).flops(plain) + 9 * 2 * 16 * 16


def wrapped_relative_bias(attn: torch.Tensor, q: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """A function FX keeps whole (as torchvision MViT's _add_rel_pos): its ops become layers."""
    rel = torch.einsum("bhld,kd->bhlk", q, table)
    return attn + rel


torch.fx.wrap("wrapped_relative_bias")


class RelativeBias(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.zeros(6, 4))

    def forward(self, q):  # type: ignore[no-untyped-def]
        attn = q @ q.transpose(-2, -1)  # (2, 3, 6, 6)
        return wrapped_relative_bias(attn, q, self.table)


def test_a_wrapped_function_without_a_rule_is_read_op_by_op() -> None:
    by_hand = 2 * 3 * 6 * 6 * 4 + 2 * 3 * 6 * 6 * 4  # q @ k^T, then the einsum with the 6 x 4 table
    assert reference_macs(RelativeBias(), torch.randn(2, 3, 6, 4)) == by_hand
    g = frontend.graph_from_module(frontend.build_module(RelativeBias), [(2, 3, 6, 4)], "m")
    a = analyze(g)
    assert a.totals["macs"] == by_hand
    assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]
    names = [r["name"] for r in a.layers]
    assert any(n.startswith("wrapped_relative_bias.") for n in names), names


#: torchvision transformers at their weights' input size; `_ops` is GMACs to 3 decimals
WHOLE_MODELS = [
    ("vit_b_16", (1, 3, 224, 224)),
    ("swin_t", (1, 3, 224, 224)),
    ("maxvit_t", (1, 3, 224, 224)),
    ("mvit_v2_s", (1, 3, 16, 224, 224)),
    ("swin_v2_t", (1, 3, 256, 256)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "shape"), WHOLE_MODELS)
def test_torchvision_transformers_match_their_ops_metadata(name: str, shape: tuple[int, ...]) -> None:
    import torchvision

    reference = torchvision.models.get_model_weights(name).DEFAULT.meta["_ops"] * 1e9
    model = frontend.build_module(frontend.torchvision_builder(name))
    a = analyze(frontend.graph_from_module(model, [shape], name))
    assert abs(a.totals["macs"] - reference) <= max(0.001 * reference, 0.0005e9), (a.totals["macs"], reference)
    assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]


@pytest.mark.slow
def test_vit_b_16_by_both_paths_and_by_flop_counter() -> None:
    import torchvision

    model = frontend.build_module(frontend.torchvision_builder("vit_b_16"))
    fx_graph = frontend.graph_from_module(model, [(1, 3, 224, 224)], "vit_b_16")
    dispatch_graph = trace_dispatch(model, frontend.meta_inputs([(1, 3, 224, 224)]), "v", "hooks+dispatch", [])
    macs = {analyze(g).totals["macs"] for g in (fx_graph, dispatch_graph)}
    torch.manual_seed(0)
    assert macs == {reference_macs(torchvision.models.vit_b_16(), torch.randn(1, 3, 224, 224))} == {17_563_828_224}

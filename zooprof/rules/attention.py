"""Multi-head attention and einsum contractions.

An ATTENTION layer is one attention block as the model wrote it (nn.MultiheadAttention,
F.scaled_dot_product_attention, torchvision's shifted-window attention). The frontend gives
its sizes as attributes; the rule splits the cost into its parts, in order:

- in-projection (absent for scaled_dot_product_attention, whose q, k, v are given):
  tokens x in_features x (heads x head_dim) for each of q, k and v;
- QK^T: batch x heads x q_len x kv_len x head_dim;
- AV: batch x heads x q_len x kv_len x v_head_dim;
- out-projection (if any): q tokens x (heads x v_head_dim) x out_features.

MACs are the sum of those parts, as if each were a matmul layer of its own (torchvision's
`_ops` and FlopCounterMode count the same four products). FLOPs are 2 x MACs plus the
element-wise work: projection biases (1 per output), the query scaling (1 per query
element), additive masks and position biases (1 per score each), softmax (4 per score),
and for cosine attention (Swin V2) the two L2 normalisations (3 per element + 1 square root
per row) and the logit scale (1 per score). Dropout is the identity at inference: 0.
"""

from __future__ import annotations

from math import prod

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.activation import ACTIVATION_FLOPS_PER_ELEMENT
from zooprof.rules.base import GLOBAL, RF, UNKNOWN_RF, Rule


def _factors(*sizes: int) -> str:
    """'12x197x197x64', leaving out leading factors of 1 (a batch of one)."""
    shown = list(sizes)
    while len(shown) > 1 and shown[0] == 1:
        shown.pop(0)
    return "x".join(str(s) for s in shown)


def attention_parts(layer: Layer) -> list[tuple[str, str, int]]:
    """(part, its product as text, MACs) for each matmul of the attention block, in order."""
    a = layer.attrs
    b, h, lq, s = int(a["batch"]), int(a["heads"]), int(a["q_len"]), int(a["kv_len"])
    dk, dv = int(a["head_dim"]), int(a.get("v_head_dim", a["head_dim"]))
    parts: list[tuple[str, str, int]] = []
    q_in = int(a.get("q_in", 0))
    if q_in:
        tokens = int(a.get("kv_tokens", s))
        projections = [(lq, q_in, h * dk), (tokens, int(a.get("k_in", q_in)), h * dk)]
        projections.append((tokens, int(a.get("v_in", q_in)), h * dv))
        macs = sum(b * n * i * o for n, i, o in projections)
        if len(set(projections)) == 1:
            text = f"3x{_factors(b, lq, q_in, h * dk)}"
        else:
            text = " + ".join(_factors(b, n, i, o) for n, i, o in projections)
        parts.append(("in-proj", text, macs))
    parts.append(("QK^T", _factors(b, h, lq, s, dk), b * h * lq * s * dk))
    parts.append(("AV", _factors(b, h, lq, s, dv), b * h * lq * s * dv))
    out = int(a.get("out_features", 0))
    if out:
        parts.append(("out-proj", _factors(b, lq, h * dv, out), b * lq * h * dv * out))
    return parts


class AttentionRule(Rule):
    """The sum of the parts' MACs (see the module docstring); the parts are the row's formula."""

    kinds = frozenset({OpKind.ATTENTION})

    def macs(self, layer: Layer) -> int:
        return sum(m for _, _, m in attention_parts(layer))

    def flops(self, layer: Layer) -> int:
        a = layer.attrs
        b, h, lq, s = int(a["batch"]), int(a["heads"]), int(a["q_len"]), int(a["kv_len"])
        dk, dv = int(a["head_dim"]), int(a.get("v_head_dim", a["head_dim"]))
        scores = b * h * lq * s
        extra = ACTIVATION_FLOPS_PER_ELEMENT[OpKind.SOFTMAX] * scores
        extra += int(a.get("score_adds", 0)) * scores
        if a.get("cosine"):
            tokens = b * h * (lq + s)
            extra += 3 * tokens * dk + tokens + scores  # normalise q and k, then the logit scale
        else:
            extra += b * h * lq * dk  # q x scale
        if int(a.get("q_in", 0)) and a.get("in_bias"):
            tokens = int(a.get("kv_tokens", s))
            extra += b * (lq * h * dk + tokens * h * dk + tokens * h * dv)
        out = int(a.get("out_features", 0))
        if out and a.get("out_bias"):
            extra += b * lq * out
        if a.get("weights_mean"):  # need_weights=True returns the weights averaged over heads
            extra += scores + b * lq * s
        return 2 * self.macs(layer) + extra

    def explain(self, layer: Layer) -> list[str]:
        """One line, the parts in the order they run: 'in-proj 3x197x768x768 = 348,585,984; QK^T
        12x197x197x64 = 29,805,312; softmax 12x197x197; AV ...; out-proj ...' (MACs)."""
        a = layer.attrs
        texts = [f"{name} {text} = {macs:,}" for name, text, macs in attention_parts(layer)]
        scores = _factors(int(a["batch"]), int(a["heads"]), int(a["q_len"]), int(a["kv_len"]))
        at = 2 if int(a.get("q_in", 0)) else 1  # after QK^T
        return ["; ".join([*texts[:at], f"softmax {scores}", *texts[at:]])]

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        if any(not r.known for r in inputs):
            return UNKNOWN_RF
        if layer.attrs.get("window"):
            return UNKNOWN_RF  # windows (shifted or not) do not follow the sliding-window RF rule
        return GLOBAL if any(r.applicable for r in inputs) else RF()


def einsum_indices(layer: Layer) -> tuple[str, tuple[int, ...]]:
    """The distinct indices of the equation and their sizes (the frontend resolves '...')."""
    indices = str(layer.attrs["indices"])
    sizes = tuple(int(x) for x in layer.attrs["sizes"])
    if len(indices) != len(sizes):
        raise ValueError(f"einsum indices {indices!r} do not match sizes {sizes}")
    return indices, sizes


class EinsumRule(Rule):
    """A two-operand einsum: MACs = the product of the sizes of all its distinct indices.

    Each output element sums, over the indices that are contracted away, one product of an
    element of each operand; so every combination of all indices is one multiply-add. (An
    index in neither contracted nor output, e.g. a batch index, is in the product once.)
    FLOPs = 2 x MACs. Einsums with one operand or three and more are mapped as uncounted
    by the frontend (their cost depends on the contraction order the backend picks).
    """

    kinds = frozenset({OpKind.EINSUM})

    def macs(self, layer: Layer) -> int:
        return prod(einsum_indices(layer)[1])

    def flops(self, layer: Layer) -> int:
        return 2 * self.macs(layer)

    def explain(self, layer: Layer) -> list[str]:
        indices, sizes = einsum_indices(layer)
        each = " ".join(f"{i}={n}" for i, n in zip(indices, sizes, strict=True))
        return [f"{layer.attrs.get('equation', '')}: {each}; MACs = {'x'.join(map(str, sizes))} = {prod(sizes):,}"]

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        if any(not r.known for r in inputs):
            return UNKNOWN_RF
        return GLOBAL if any(r.applicable for r in inputs) else RF()

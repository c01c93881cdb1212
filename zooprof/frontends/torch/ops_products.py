"""PyTorch matrix products and attention -> (OpKind, attrs): mm/matmul/bmm, addmm, baddbmm,
einsum, nn.MultiheadAttention (module, functional and fast-path aten op),
scaled_dot_product_attention (and its aten kernels), torchvision's shifted-window attention
(Swin, Swin3D). The attributes are the sizes the rules in zooprof/rules/dense.py and
zooprof/rules/attention.py need; they are read from the call's tensors, so both tracing
paths and torch.export graphs give the same layer. `ops.py` looks names up here first.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

import torch

from zooprof.ir.einsum import einsum_attrs
from zooprof.ir.ops import OpKind

Attrs = dict[str, Any]
Mapped = tuple[OpKind, Attrs]
FunctionRule = Callable[[tuple, dict], Mapped]


def arg(args: tuple, kwargs: dict, i: int, name: str, default: Any = None) -> Any:
    """Positional argument i, else keyword `name`, else the default."""
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _dims(t: Any) -> tuple[int, ...]:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(t).__name__}")
    return tuple(int(d) for d in t.shape)


def _projected(
    q: tuple[int, ...], k: tuple[int, ...], v: tuple[int, ...], batch_first: bool, heads: int, embed: int
) -> Attrs:
    """Sizes of an attention with q/k/v in-projections to `embed` features in `heads` heads."""
    if len(q) == 3:
        b, lq, s = (q[0], q[1], k[1]) if batch_first else (q[1], q[0], k[0])
    else:  # unbatched (L, E)
        b, lq, s = 1, q[0], k[0]
    return {
        "batch": b,
        "heads": heads,
        "q_len": lq,
        "kv_len": s,
        "kv_tokens": s,
        "head_dim": embed // heads,
        "v_head_dim": embed // heads,
        "q_in": q[-1],
        "k_in": k[-1],
        "v_in": v[-1],
    }


def mha_module(m: Any, args: tuple, kwargs: dict) -> Mapped:
    """nn.MultiheadAttention called with (query, key, value, key_padding_mask, need_weights,
    attn_mask, average_attn_weights, is_causal). The fast path computes the same products."""
    q = _dims(arg(args, kwargs, 0, "query"))
    k = _dims(arg(args, kwargs, 1, "key"))
    v = _dims(arg(args, kwargs, 2, "value"))
    attrs = _projected(q, k, v, bool(m.batch_first), int(m.num_heads), int(m.embed_dim))
    extra_keys = int(m.bias_k is not None) + int(bool(m.add_zero_attn))  # appended after the projection
    need_weights = bool(arg(args, kwargs, 4, "need_weights", True))
    attrs.update(
        kv_len=attrs["kv_len"] + extra_keys,
        in_bias=m.in_proj_bias is not None,
        out_features=int(m.out_proj.out_features),
        out_bias=m.out_proj.bias is not None,
        score_adds=sum(
            arg(args, kwargs, i, name) is not None for i, name in ((3, "key_padding_mask"), (5, "attn_mask"))
        ),
        weights_mean=need_weights and bool(arg(args, kwargs, 6, "average_attn_weights", True)),
    )
    return OpKind.ATTENTION, attrs


def is_attention_module(m: Any) -> bool:
    """A module recorded as one ATTENTION layer although it has children (its out_proj Linear is
    used through its weight, never called)."""
    return isinstance(m, torch.nn.MultiheadAttention)


def attention_module_call(m: Any, args: tuple, kwargs: dict) -> Mapped | None:
    """The layer of an attention module's call (sizes from its arguments), else None."""
    if not is_attention_module(m):
        return None
    try:
        return mha_module(m, args, kwargs)
    except (IndexError, AttributeError, TypeError, ValueError) as exc:
        return OpKind.UNKNOWN, {"unmapped": f"MultiheadAttention call not read: {exc}"}


def mha_function(args: tuple, kwargs: dict) -> Mapped:
    """F.multi_head_attention_forward: inputs (L, N, E) or (L, E), weights as arguments."""
    if arg(args, kwargs, 21, "static_k") is not None or arg(args, kwargs, 22, "static_v") is not None:
        return OpKind.UNKNOWN, {"unmapped": "multi_head_attention_forward with static keys/values"}
    q, k, v = (_dims(arg(args, kwargs, i, n)) for i, n in ((0, "query"), (1, "key"), (2, "value")))
    embed, heads = int(arg(args, kwargs, 3, "embed_dim_to_check")), int(arg(args, kwargs, 4, "num_heads"))
    attrs = _projected(q, k, v, False, heads, embed)
    out_weight = arg(args, kwargs, 11, "out_proj_weight")
    need_weights = bool(arg(args, kwargs, 15, "need_weights", True))
    extra_keys = int(arg(args, kwargs, 7, "bias_k") is not None) + int(bool(arg(args, kwargs, 9, "add_zero_attn")))
    attrs.update(
        kv_len=attrs["kv_len"] + extra_keys,
        in_bias=arg(args, kwargs, 6, "in_proj_bias") is not None,
        out_features=int(_dims(out_weight)[0]),
        out_bias=arg(args, kwargs, 12, "out_proj_bias") is not None,
        score_adds=sum(
            arg(args, kwargs, i, name) is not None for i, name in ((14, "key_padding_mask"), (16, "attn_mask"))
        ),
        weights_mean=need_weights and bool(arg(args, kwargs, 23, "average_attn_weights", True)),
    )
    return OpKind.ATTENTION, attrs


def native_mha(args: tuple, kwargs: dict) -> Mapped:
    """aten._native_multi_head_attention, MultiheadAttention's fast path: (N, L, E) inputs."""
    q, k, v = (_dims(arg(args, kwargs, i, n)) for i, n in ((0, "query"), (1, "key"), (2, "value")))
    embed, heads = int(arg(args, kwargs, 3, "embed_dim")), int(arg(args, kwargs, 4, "num_head"))
    attrs = _projected(q, k, v, True, heads, embed)
    need_weights = bool(arg(args, kwargs, 10, "need_weights", True))
    attrs.update(
        in_bias=arg(args, kwargs, 6, "qkv_bias") is not None,
        out_features=int(_dims(arg(args, kwargs, 7, "proj_weight"))[0]),
        out_bias=arg(args, kwargs, 8, "proj_bias") is not None,
        score_adds=int(arg(args, kwargs, 9, "mask") is not None),
        weights_mean=need_weights and bool(arg(args, kwargs, 11, "average_attn_weights", True)),
    )
    return OpKind.ATTENTION, attrs


#: scaled-dot-product kernels: (position, keyword) of the additive mask and of is_causal.
_SDPA_ARGS: dict[str, tuple[tuple[int, str], tuple[int, str]]] = {
    "scaled_dot_product_attention": ((3, "attn_mask"), (5, "is_causal")),
    "scaled_dot_product_attention_math": ((3, "attn_mask"), (5, "is_causal")),
    "scaled_dot_product_flash_attention": ((99, "attn_mask"), (4, "is_causal")),
    "scaled_dot_product_flash_attention_for_cpu": ((99, "attn_mask"), (4, "is_causal")),
    "scaled_dot_product_efficient_attention": ((3, "attn_bias"), (6, "is_causal")),
    "scaled_dot_product_cudnn_attention": ((3, "attn_bias"), (6, "is_causal")),
    "scaled_dot_product_fused_attention_overrideable": ((3, "attn_bias"), (5, "is_causal")),
}


def sdpa(name: str, args: tuple, kwargs: dict) -> Mapped:
    """q (..., heads, L, E), k (..., heads_kv, S, E), v (..., heads_kv, S, Ev): no projections.
    A causal mask is counted as one more add per score (the dense math kernel's convention)."""
    q, k, v = (_dims(arg(args, kwargs, i, n)) for i, n in ((0, "query"), (1, "key"), (2, "value")))
    (mask_i, mask_name), (causal_i, causal_name) = _SDPA_ARGS[name]
    adds = int(arg(args, kwargs, mask_i, mask_name) is not None) + int(bool(arg(args, kwargs, causal_i, causal_name)))
    return OpKind.ATTENTION, {
        "batch": prod(q[:-3]),
        "heads": q[-3] if len(q) >= 3 else 1,
        "q_len": q[-2],
        "kv_len": k[-2],
        "head_dim": q[-1],
        "v_head_dim": v[-1],
        "score_adds": adds,
    }


def swin_attention(dims: int) -> FunctionRule:
    """torchvision's shifted_window_attention (dims=2, input N,H,W,C) or _3d (dims=3, N,T,H,W,C):
    the input is padded to whole windows; a shift larger than nothing adds the window mask."""

    def f(args: tuple, kwargs: dict) -> Mapped:
        x = _dims(arg(args, kwargs, 0, "input"))
        window = [int(w) for w in arg(args, kwargs, 4, "window_size")]
        heads = int(arg(args, kwargs, 5, "num_heads"))
        shift = [int(s) for s in arg(args, kwargs, 6, "shift_size")]
        spatial, channels = x[1:-1], x[-1]
        padded = [-(-n // w) * w for n, w in zip(spatial, window, strict=True)]
        if dims == 2:  # the 2-D function drops the shift where one window covers the axis
            shift = [0 if w >= p else s for s, w, p in zip(shift, window, padded, strict=True)]
        logit_scale = arg(args, kwargs, 11, "logit_scale") if dims == 2 else None
        tokens = prod(window)
        return OpKind.ATTENTION, {
            "batch": x[0] * prod(p // w for p, w in zip(padded, window, strict=True)),
            "heads": heads,
            "q_len": tokens,
            "kv_len": tokens,
            "kv_tokens": tokens,
            "head_dim": channels // heads,
            "v_head_dim": channels // heads,
            "q_in": channels,
            "k_in": channels,
            "v_in": channels,
            "in_bias": arg(args, kwargs, 9, "qkv_bias") is not None,
            "out_features": int(_dims(arg(args, kwargs, 2, "proj_weight"))[0]),
            "out_bias": arg(args, kwargs, 10, "proj_bias") is not None,
            "score_adds": 1 + int(sum(shift) > 0),  # relative position bias, then the shifted-window mask
            "cosine": logit_scale is not None,
            "window": tuple(window),
            "shift": tuple(shift),
        }

    return f


def einsum(args: tuple, kwargs: dict) -> Mapped:
    """torch.einsum(equation, a, b) or (equation, [a, b]); aten.einsum(equation, [a, b])."""
    equation = arg(args, kwargs, 0, "equation")
    rest = args[1:] if len(args) > 1 else tuple(kwargs.get("tensors", ()))
    operands = list(rest[0]) if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else list(rest)
    attrs = einsum_attrs(str(equation), [_dims(t) for t in operands])
    if isinstance(attrs, str):
        return OpKind.UNKNOWN, {"unmapped": attrs, "equation": equation}
    return OpKind.EINSUM, attrs


def matmul(args: tuple, kwargs: dict, params: set[int]) -> Mapped:
    """a @ b: a dense layer when b is a 2-D weight, else a matmul contracting a's last dim."""
    b = args[1]
    if isinstance(b, torch.Tensor) and b._cdata in params and b.dim() == 2:
        return OpKind.DENSE, {"in_features": int(b.shape[0]), "out_features": int(b.shape[1]), "bias": False}
    return OpKind.MATMUL, {"k": int(args[0].shape[-1])}


def addmm(args: tuple, kwargs: dict) -> Mapped:
    """bias + a @ weight (aten's form of a Linear on a 2-D input)."""
    return OpKind.DENSE, {"in_features": int(args[1].shape[-1]), "out_features": int(args[2].shape[-1]), "bias": True}


def baddbmm(args: tuple, kwargs: dict) -> Mapped:
    """beta x input + alpha x (batch1 @ batch2): a matmul with k = batch1's last dim, plus the add."""
    batch1 = _dims(arg(args, kwargs, 1, "batch1"))
    return OpKind.MATMUL, {
        "k": batch1[-1],
        "bias": True,
        "alpha": kwargs.get("alpha", 1),
        "beta": kwargs.get("beta", 1),
    }


#: function / aten names (after ops.op_name) -> mapping
ATTENTION_FUNCTIONS: dict[str, FunctionRule] = {
    "multi_head_attention_forward": mha_function,
    "native_multi_head_attention": native_mha,
    **{name: (lambda a, k, name=name: sdpa(name, a, k)) for name in _SDPA_ARGS},
    "einsum": einsum,
    "baddbmm": baddbmm,
}

#: functions torchvision wraps for torch.fx (one call in the traced graph), matched by name only
#: when the target is defined in torchvision
TORCHVISION_FUNCTIONS: dict[str, FunctionRule] = {
    "shifted_window_attention": swin_attention(2),
    "shifted_window_attention_3d": swin_attention(3),
    # Swin patch merging: pad to even H, W and gather the four 2x2 neighbours into channels
    "patch_merging_pad": lambda a, k: (OpKind.COPY, {}),
    # Swin: the position-bias table gathered by the relative position index (V2: the MLP's output)
    "get_relative_position_bias": lambda a, k: (OpKind.COPY, {}),
}


def function_rule(name: str, target: Any) -> FunctionRule | None:
    """The mapping for a function name from this module, or None (torchvision's only for
    functions defined in torchvision)."""
    if str(getattr(target, "__module__", "")).startswith("torchvision.") and name in TORCHVISION_FUNCTIONS:
        return TORCHVISION_FUNCTIONS[name]
    return ATTENTION_FUNCTIONS.get(name)

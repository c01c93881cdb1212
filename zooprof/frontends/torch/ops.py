"""PyTorch op mapping: nn.Module types, Python functions/methods and aten ops -> (OpKind, attrs).

Only the modules of frontends/torch/ know PyTorch's classes; they import torch lazily
(they are imported only by code that has already decided to read a PyTorch model).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from zooprof.frontends.torch import ops_products as products
from zooprof.frontends.torch import ops_sampling as sampling
from zooprof.ir.ops import OpKind

Attrs = dict[str, Any]
Mapped = tuple[OpKind, Attrs]


def _t(v: Any) -> Any:
    """Normalise a hyper-parameter to JSON-friendly ints / tuples."""
    if isinstance(v, (list, tuple)):
        return tuple(int(x) if isinstance(x, (int, bool)) or hasattr(x, "__index__") else x for x in v)
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return v
    return v


def _conv_padding(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
    """Numeric padding for PyTorch's 'same'/'valid' strings (zero padding, stride 1)."""
    if padding == "valid":
        return tuple(0 for _ in kernel)
    if padding == "same":
        pairs = []
        for k, d in zip(kernel, dilation, strict=True):
            total = d * (k - 1)
            pairs.append((total // 2, total - total // 2))
        return tuple(p[0] for p in pairs) if all(a == b for a, b in pairs) else tuple(pairs)
    return _t(padding)


# --------------------------------------------------------------------------------------
# nn.Module types


def _module_conv(m: Any) -> Mapped:
    transposed = isinstance(m, nn.modules.conv._ConvTransposeNd)
    kernel = _t(m.kernel_size)
    dilation = _t(m.dilation)
    attrs: Attrs = {
        "kernel": kernel,
        "stride": _t(m.stride),
        "padding": _conv_padding(m.padding, kernel, dilation),
        "dilation": dilation,
        "groups": int(m.groups),
        "in_channels": int(m.in_channels),
        "out_channels": int(m.out_channels),
        "bias": m.bias is not None,
    }
    if m.padding_mode != "zeros":
        attrs["padding_mode"] = m.padding_mode
    return (OpKind.CONV_TRANSPOSE if transposed else OpKind.CONV), attrs


def _module_pool(m: Any) -> Mapped:
    kind = OpKind.MAXPOOL if isinstance(m, nn.modules.pooling._MaxPoolNd) else OpKind.AVGPOOL
    attrs: Attrs = {
        "kernel": _t(m.kernel_size),
        "stride": _t(m.stride if m.stride is not None else m.kernel_size),
        "padding": _t(m.padding),
        "ceil_mode": bool(m.ceil_mode),
    }
    if kind is OpKind.MAXPOOL:
        attrs["dilation"] = _t(m.dilation)
    return kind, attrs


def _module_activation(kind: OpKind) -> Callable[[Any], Mapped]:
    def f(m: Any) -> Mapped:
        attrs: Attrs = {}
        if isinstance(m, nn.Softmax) and m.dim is not None:
            attrs["axis"] = int(m.dim)
        if isinstance(m, nn.Hardtanh) and kind is OpKind.HARDTANH:
            attrs.update(min=m.min_val, max=m.max_val)
        return kind, attrs

    return f


def _module_pad(m: Any) -> Mapped:
    return OpKind.PAD, {"padding": _torch_pad_pairs(_t(m.padding))}


def _torch_pad_pairs(pad: Any) -> Any:
    """F.pad order (last axis first: left, right, top, bottom...) -> per-axis (before, after)."""
    if isinstance(pad, int):
        return pad
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    return tuple(reversed(pairs))


#: Checked in order with isinstance; subclasses before their bases (ReLU6 is a Hardtanh).
MODULE_RULES: list[tuple[type, Callable[[Any], Mapped]]] = [
    (nn.modules.conv._ConvNd, _module_conv),
    (
        nn.Linear,
        lambda m: (
            OpKind.DENSE,
            {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None},
        ),
    ),
    (nn.modules.batchnorm._BatchNorm, lambda m: (OpKind.BATCHNORM, {"eps": m.eps})),
    (nn.LayerNorm, lambda m: (OpKind.LAYERNORM, {"normalized_shape": _t(m.normalized_shape)})),
    (nn.GroupNorm, lambda m: (OpKind.GROUPNORM, {"num_groups": m.num_groups})),
    (nn.modules.instancenorm._InstanceNorm, lambda m: (OpKind.INSTANCENORM, {})),
    (nn.LocalResponseNorm, lambda m: (OpKind.LRN, {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k})),
    (nn.ReLU6, _module_activation(OpKind.RELU6)),
    (nn.Hardtanh, _module_activation(OpKind.HARDTANH)),
    (nn.ReLU, _module_activation(OpKind.RELU)),
    (nn.LeakyReLU, _module_activation(OpKind.LEAKY_RELU)),
    (nn.Sigmoid, _module_activation(OpKind.SIGMOID)),
    (nn.Tanh, _module_activation(OpKind.TANH)),
    (nn.Hardsigmoid, _module_activation(OpKind.HARDSIGMOID)),
    (nn.Hardswish, _module_activation(OpKind.HARDSWISH)),
    (nn.SiLU, _module_activation(OpKind.SILU)),
    (nn.GELU, _module_activation(OpKind.GELU)),
    (nn.ELU, _module_activation(OpKind.ELU)),
    (nn.Softmax, _module_activation(OpKind.SOFTMAX)),
    (nn.modules.pooling._MaxPoolNd, _module_pool),
    (nn.modules.pooling._AvgPoolNd, _module_pool),
    (nn.modules.pooling._AdaptiveAvgPoolNd, lambda m: (OpKind.ADAPTIVE_AVGPOOL, {"output_size": _t(m.output_size)})),
    (nn.modules.pooling._AdaptiveMaxPoolNd, lambda m: (OpKind.ADAPTIVE_MAXPOOL, {"output_size": _t(m.output_size)})),
    (nn.Flatten, lambda m: (OpKind.FLATTEN, {"start_dim": m.start_dim, "end_dim": m.end_dim})),
    (nn.Unflatten, lambda m: (OpKind.RESHAPE, {})),
    (nn.modules.dropout._DropoutNd, lambda m: (OpKind.DROPOUT, {"p": m.p})),
    (nn.Identity, lambda m: (OpKind.IDENTITY, {})),
    (nn.modules.padding._ConstantPadNd, _module_pad),
]


def _roi_align_module(m: Any) -> Mapped:
    ratio = int(m.sampling_ratio)
    if ratio <= 0:  # adaptive sampling: the number of samples depends on each box's size
        return OpKind.UNKNOWN, {"unmapped": "RoIAlign with adaptive sampling (sampling_ratio <= 0)"}
    return OpKind.ROI_ALIGN, {
        "output_size": _t(m.output_size),
        "sampling_ratio": ratio,
        "featmap_names": list(m.featmap_names),
    }


#: torchvision modules, matched by class name so that this module needs no torchvision import.
NAMED_MODULE_RULES: dict[str, Callable[[Any], Mapped]] = {
    "FrozenBatchNorm2d": lambda m: (OpKind.BATCHNORM, {"eps": m.eps, "frozen": True}),
    "MultiScaleRoIAlign": _roi_align_module,
    "StochasticDepth": lambda m: (OpKind.DROPOUT, {"p": m.p, "mode": m.mode}),  # identity at inference
}


def map_module(m: Any) -> Mapped | None:
    """(OpKind, attrs) for a module zooprof treats as one layer, or None."""
    for cls, fn in MODULE_RULES:
        if isinstance(m, cls):
            return fn(m)
    named = NAMED_MODULE_RULES.get(type(m).__name__)
    if named is not None and type(m).__module__.startswith("torchvision."):
        return named(m)
    return None


def map_module_call(m: Any, args: tuple, kwargs: dict) -> Mapped | None:
    """map_module, with the sizes of this call where the cost depends on them (attention)."""
    return products.attention_module_call(m, args, kwargs) or map_module(m)


def layer_module(m: Any) -> bool:
    """Recorded as one layer by the hooks: a leaf with a rule, or an attention module."""
    return products.is_attention_module(m) or (not list(m.children()) and map_module(m) is not None)


def module_inplace(m: Any) -> bool:
    return bool(getattr(m, "inplace", False))


# --------------------------------------------------------------------------------------
# functions, tensor methods and aten ops, keyed by a normalised name

_OPERATORS = {
    operator.add: "add",
    operator.iadd: "add",
    operator.sub: "sub",
    operator.isub: "sub",
    operator.mul: "mul",
    operator.imul: "mul",
    operator.truediv: "div",
    operator.itruediv: "div",
    operator.matmul: "matmul",
    operator.getitem: "getitem",
    operator.neg: "neg",
}


def op_name(target: Any) -> tuple[str, bool]:
    """Normalised op name and whether the call is in place (`relu_`, `add_`, `iadd`)."""
    if target in _OPERATORS:
        return _OPERATORS[target], target in (operator.iadd, operator.isub, operator.imul, operator.itruediv)
    if isinstance(target, torch._ops.OpOverload):
        raw = target._schema.name.split("::")[-1]
    elif isinstance(target, str):
        raw = target
    else:
        raw = getattr(target, "__name__", str(target))
    inplace = raw.endswith("_") and not raw.endswith("__")
    return raw.strip("_"), inplace


_arg = products.arg


def _conv_fn(args: tuple, kwargs: dict) -> Mapped:
    w = args[1]
    kernel = tuple(w.shape[2:])
    n = len(kernel)

    def norm(v: Any) -> tuple[int, ...]:
        return tuple(v) * (n if len(tuple(v)) == 1 else 1) if isinstance(v, (list, tuple)) else (int(v),) * n

    stride = norm(_arg(args, kwargs, 3, "stride", 1))
    dilation = norm(_arg(args, kwargs, 5, "dilation", 1))
    padding = _arg(args, kwargs, 4, "padding", 0)
    padding = _conv_padding(padding, kernel, dilation) if isinstance(padding, str) else norm(padding)
    groups = int(_arg(args, kwargs, 6, "groups", 1))
    return OpKind.CONV, {
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
        "in_channels": int(w.shape[1]) * groups,
        "out_channels": int(w.shape[0]),
        "bias": _arg(args, kwargs, 2, "bias") is not None,
    }


def _convolution(args: tuple, kwargs: dict) -> Mapped:
    # aten.convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
    w = args[1]
    groups = int(args[8])
    kernel = tuple(w.shape[2:])
    attrs = {
        "kernel": kernel,
        "stride": _t(args[3]),
        "padding": _t(args[4]),
        "dilation": _t(args[5]),
        "groups": groups,
        "bias": args[2] is not None,
    }
    if args[6]:
        attrs.update(in_channels=int(w.shape[0]), out_channels=int(w.shape[1]) * groups)
        return OpKind.CONV_TRANSPOSE, attrs
    attrs.update(in_channels=int(w.shape[1]) * groups, out_channels=int(w.shape[0]))
    return OpKind.CONV, attrs


def _pool_fn(kind: OpKind) -> Callable[[tuple, dict], Mapped]:
    def f(args: tuple, kwargs: dict) -> Mapped:
        kernel = _t(_arg(args, kwargs, 1, "kernel_size"))
        stride = _arg(args, kwargs, 2, "stride")
        attrs: Attrs = {
            "kernel": kernel,
            "stride": _t(stride) if stride not in (None, [], ()) else kernel,
            "padding": _t(_arg(args, kwargs, 3, "padding", 0)),
        }
        if kind is OpKind.MAXPOOL:
            attrs["dilation"] = _t(_arg(args, kwargs, 4, "dilation", 1))
            attrs["ceil_mode"] = bool(_arg(args, kwargs, 5, "ceil_mode", False))
        else:
            attrs["ceil_mode"] = bool(_arg(args, kwargs, 4, "ceil_mode", False))
        return kind, attrs

    return f


def _simple(kind: OpKind) -> Callable[[tuple, dict], Mapped]:
    return lambda args, kwargs: (kind, {})


def _axis(kind: OpKind, pos: int = 1, name: str = "dim") -> Callable[[tuple, dict], Mapped]:
    def f(args: tuple, kwargs: dict) -> Mapped:
        axis = _arg(args, kwargs, pos, name)
        return kind, ({"axis": _t(axis)} if axis is not None else {})

    return f


def _hardtanh(args: tuple, kwargs: dict) -> Mapped:
    lo, hi = _arg(args, kwargs, 1, "min_val", -1.0), _arg(args, kwargs, 2, "max_val", 1.0)
    if float(lo) == 0.0 and float(hi) == 6.0:
        return OpKind.RELU6, {}
    return OpKind.HARDTANH, {"min": lo, "max": hi}


def _linear(args: tuple, kwargs: dict) -> Mapped:
    w = args[1]
    return OpKind.DENSE, {
        "in_features": int(w.shape[1]),
        "out_features": int(w.shape[0]),
        "bias": _arg(args, kwargs, 2, "bias") is not None,
    }


def _clamp(args: tuple, kwargs: dict) -> Mapped:
    lo, hi = _arg(args, kwargs, 1, "min"), _arg(args, kwargs, 2, "max")
    if lo is not None and hi is not None:
        return OpKind.HARDTANH, {"min": lo, "max": hi}
    return OpKind.CLAMP, {"min": lo} if lo is not None else {"max": hi}


def _vector_norm(args: tuple, kwargs: dict) -> Mapped:
    order = _arg(args, kwargs, 1, "ord", 2)
    if order != 2:
        return OpKind.UNKNOWN, {"unmapped": f"vector norm of order {order}"}
    return OpKind.VECTOR_NORM, {"axis": _t(_arg(args, kwargs, 2, "dim"))}


def _pad(args: tuple, kwargs: dict) -> Mapped:
    return OpKind.PAD, {"padding": _torch_pad_pairs(_t(_arg(args, kwargs, 1, "pad")))}


FUNCTION_RULES: dict[str, Callable[[tuple, dict], Mapped]] = {
    **{f"conv{n}d": _conv_fn for n in (1, 2, 3)},
    "convolution": _convolution,
    "linear": _linear,
    "addmm": products.addmm,
    **{
        name: _simple(OpKind.BATCHNORM)
        for name in ("batch_norm", "native_batch_norm", "native_batch_norm_legit_no_training", "cudnn_batch_norm")
    },
    "layer_norm": _simple(OpKind.LAYERNORM),
    "native_layer_norm": _simple(OpKind.LAYERNORM),
    "group_norm": _simple(OpKind.GROUPNORM),
    "native_group_norm": _simple(OpKind.GROUPNORM),
    "instance_norm": _simple(OpKind.INSTANCENORM),
    "local_response_norm": lambda a, k: (OpKind.LRN, {"size": int(_arg(a, k, 1, "size", 5))}),
    "relu": _simple(OpKind.RELU),
    "relu6": _simple(OpKind.RELU6),
    "hardtanh": _hardtanh,
    "leaky_relu": _simple(OpKind.LEAKY_RELU),
    "sigmoid": _simple(OpKind.SIGMOID),
    "tanh": _simple(OpKind.TANH),
    "hardsigmoid": _simple(OpKind.HARDSIGMOID),
    "hardswish": _simple(OpKind.HARDSWISH),
    "silu": _simple(OpKind.SILU),
    "gelu": _simple(OpKind.GELU),
    "erf": _simple(OpKind.ERF),  # the error function alone (GELU written out by hand)
    # unary math of norms written out by hand (x * rsqrt(mean(x^2) + eps): RMSNorm), as ONNX's and TFLite's
    "neg": _simple(OpKind.NEG),
    "negative": _simple(OpKind.NEG),
    "sqrt": _simple(OpKind.SQRT),
    "rsqrt": _simple(OpKind.RSQRT),
    "elu": _simple(OpKind.ELU),
    "softmax": _axis(OpKind.SOFTMAX),
    "safe_softmax": _axis(OpKind.SOFTMAX),  # aten._safe_softmax: softmax that gives 0 on fully masked rows
    "log_softmax": _axis(OpKind.SOFTMAX),
    **{f"max_pool{n}d": _pool_fn(OpKind.MAXPOOL) for n in (1, 2, 3)},
    **{f"max_pool{n}d_with_indices": _pool_fn(OpKind.MAXPOOL) for n in (1, 2, 3)},
    **{f"avg_pool{n}d": _pool_fn(OpKind.AVGPOOL) for n in (1, 2, 3)},
    **{
        f"adaptive_avg_pool{n}d": lambda a, k: (
            OpKind.ADAPTIVE_AVGPOOL,
            {"output_size": _t(_arg(a, k, 1, "output_size"))},
        )
        for n in (1, 2, 3)
    },
    **{
        f"adaptive_max_pool{n}d": lambda a, k: (
            OpKind.ADAPTIVE_MAXPOOL,
            {"output_size": _t(_arg(a, k, 1, "output_size"))},
        )
        for n in (1, 2, 3)
    },
    "add": _simple(OpKind.ADD),
    "radd": _simple(OpKind.ADD),
    "sub": _simple(OpKind.SUB),
    "rsub": _simple(OpKind.SUB),
    "mul": _simple(OpKind.MUL),
    "div": _simple(OpKind.DIV),
    "truediv": _simple(OpKind.DIV),
    "cat": _axis(OpKind.CONCAT),
    "concat": _axis(OpKind.CONCAT),
    "concatenate": _axis(OpKind.CONCAT),
    "stack": _axis(OpKind.CONCAT),
    "flatten": _simple(OpKind.FLATTEN),
    **{
        name: _simple(OpKind.RESHAPE)
        for name in (
            "view",
            "reshape",
            "unsafe_view",
            "unsqueeze",
            "squeeze",
            "unflatten",
            "expand",
            "expand_as",
            "view_as",
        )
    },
    **{name: _simple(OpKind.PERMUTE) for name in ("permute", "transpose", "t", "swapaxes")},
    **{name: _simple(OpKind.COPY) for name in ("contiguous", "clone", "to_copy", "to", "type_as", "float", "copy")},
    # x.new_full(shape, 0): a padded buffer that copy_ then fills with x (the detection transform's image batch)
    **{name: _simple(OpKind.COPY) for name in ("new_full", "new_zeros", "new_ones", "new_empty")},
    **{
        name: _simple(OpKind.SLICE)
        for name in ("getitem", "slice", "select", "narrow", "split", "chunk", "split_with_sizes", "unbind")
    },
    "tensor_split": _simple(OpKind.SLICE),  # views (MViT's pooling splits off the class token)
    "pad": _pad,
    "constant_pad_nd": _pad,
    "interpolate": sampling.resize(None),
    "upsample_nearest2d": sampling.resize("nearest"),
    "upsample_bilinear2d": sampling.resize("bilinear"),
    "grid_sample": sampling.grid_sample,
    "grid_sampler": sampling.grid_sample,
    "grid_sampler_2d": sampling.grid_sample,
    "clamp": _clamp,
    "clip": _clamp,
    "clamp_min": lambda a, k: (OpKind.CLAMP, {"min": _arg(a, k, 1, "min")}),
    "clamp_max": lambda a, k: (OpKind.CLAMP, {"max": _arg(a, k, 1, "max")}),
    "linalg_vector_norm": _vector_norm,
    **{  # identity at inference: counted, 0 cost (stochastic_depth: torchvision.ops, in ConvNeXt and EfficientNet)
        name: _simple(OpKind.DROPOUT)
        for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "feature_dropout", "alpha_dropout")
        + ("feature_alpha_dropout", "native_dropout", "stochastic_depth")
    },
    "mean": _axis(OpKind.MEAN),
    "sum": _axis(OpKind.SUM),
    "prod": _axis(OpKind.PROD),
    "detach": _simple(OpKind.IDENTITY),
    "alias": _simple(OpKind.IDENTITY),
}

#: Ops that only move metadata or create tensors from nothing: never layers.
SKIP_FUNCTIONS = frozenset(
    {
        "size",
        "dim",
        "numel",
        "empty",
        "zeros",
        "ones",
        "full",
        "arange",
        "lift_fresh",
        "lift_fresh_copy",
        "scalar_tensor",
        "empty_like",
        "zeros_like",
        "ones_like",
        "full_like",
    }
)


def map_function(target: Any, args: tuple, kwargs: dict, params: set[int]) -> tuple[OpKind, Attrs, str, bool]:
    """(OpKind, attrs, normalised name, in place) for a function / method / aten call."""
    name, inplace = op_name(target)
    rule = products.function_rule(name, target) or FUNCTION_RULES.get(name)
    if name in ("mm", "matmul", "bmm"):
        kind, attrs = products.matmul(args, kwargs, params)
    elif rule is not None:
        try:
            kind, attrs = rule(args, kwargs)
        except (IndexError, AttributeError, TypeError, ValueError, KeyError) as exc:
            kind, attrs = OpKind.UNKNOWN, {"unmapped": f"{name} call not read: {exc}"}
    else:
        kind, attrs = OpKind.UNKNOWN, {}
    if kwargs.get("inplace") is True:
        inplace = True
    return kind, attrs, name, inplace

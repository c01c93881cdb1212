"""Reading one format of the model into a `FormatRecord`, and the vocabulary of formats.

`read_format(ref, shown)` reads the file with `zooprof.measure.static.inspect` and keeps its
figures (params, MACs, FLOPs, stored dtypes and bytes, BatchNorm layers, dense biases,
constant element-wise ops after a conv, quantise/dequantise layers, and the patterns of
patterns.py: LayerNorms and their element-wise form, input preprocessing, repeated layers,
shape computations); a file that cannot be read still
gives a record, with status "failed" and the reason, and an Edge TPU file one with status
"not comparable". Imports no framework itself.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from zooprof.compare.parity.discover import MODEL_SUFFIXES, is_edgetpu
from zooprof.compare.parity.model import (
    BatchNormStats,
    BiasStats,
    ConstantOpStats,
    FormatFigures,
    FormatRecord,
)
from zooprof.compare.parity.patterns import (
    decomposed_norm_stats,
    duplicate_stats,
    graph_layers,
    group_stats,
    layernorm_stats,
    norm_regions,
    numel,
    preprocessing_stats,
    producers,
    shape_layers,
)
from zooprof.errors import ZooprofError
from zooprof.result.document import ProfileResult

#: display names and order of the frameworks
FRAMEWORKS = {
    "keras": "Keras",
    "tfjs": "TF.js",
    "tflite": "TFLite",
    "onnx": "ONNX",
    "pytorch": "PyTorch",
    "torch": "PyTorch",
}
#: source ops that convert between float and integer tensors
QUANT_OPS = {
    "QUANTIZE": "QUANTIZE",
    "DEQUANTIZE": "DEQUANTIZE",
    "QUANTIZELINEAR": "QUANTIZE",
    "DEQUANTIZELINEAR": "DEQUANTIZE",
    "DYNAMICQUANTIZELINEAR": "QUANTIZE",
}
INT_DTYPES = ("int8", "uint8", "int4", "uint4", "int16")
#: bytes per element of each stored dtype
BYTES = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int64": 8,
    "int32": 4,
    "int16": 2,
    "int8": 1,
    "uint8": 1,
    "int4": 1,
    "uint4": 1,
    "bool": 1,
}
EDGETPU_REASON = (
    "compiled into an edgetpu-custom-op that runs only on an Edge TPU; its layers, params and MACs cannot be read"
)


def weight_elements(graph: dict[str, Any] | None) -> Counter[str]:
    """Elements stored per dtype, each named tensor once (as the params analysis counts), those
    no layer uses (`params_not_in_trace`, PyTorch) included."""
    seen: set[str] = set()
    out: Counter[str] = Counter()
    graph = graph or {}
    for layer in [*graph.get("layers", []), {"params": graph.get("params_not_in_trace", [])}]:
        for p in layer.get("params", []):
            if p["name"] in seen:
                continue
            seen.add(p["name"])
            out[p["dtype"]] += numel(p["shape"])
    return out


def shared_values(graph: dict[str, Any] | None) -> int:
    """Parameter values (buffers aside) that several layers read and the analysis counts once:
    tied weights, or equal tensors a converter merged (an untrained model's all-zero biases)."""
    seen: set[str] = set()
    out = 0
    for layer in (graph or {}).get("layers", []):
        for p in layer.get("params", []):
            if p["name"] in seen and p.get("kind") != "buffer":
                out += numel(p["shape"])
            seen.add(p["name"])
    return out


def batchnorm_stats(result: ProfileResult) -> BatchNormStats:
    """What folding this format's BatchNorm layers into the layers before them would change."""
    rows = result.layers
    glayers = (result.graph or {}).get("layers") or []
    producer: dict[str, int] = {}
    for i, gl in enumerate(glayers):
        for t in gl.get("outputs", []):
            producer[t["name"]] = i
    out: Counter[str] = Counter()
    for i, row in enumerate(rows):
        if row["op"] != "batchnorm":
            continue
        shape = row["output_shape"]
        c = int(shape[1]) if len(shape) > 1 else int(shape[0])
        out["layers"] += 1
        out["channels"] += c
        out["params"] += row["params"]
        out["flops"] += row["flops"]
        j = None
        if i < len(glayers) and glayers[i].get("inputs"):
            j = producer.get(glayers[i]["inputs"][0]["name"])
        elif i > 0:
            j = i - 1
        prev = rows[j] if j is not None else None
        if j is not None and prev is not None and prev["op"] == "conv":
            has_bias = j < len(glayers) and bool(glayers[j]["attrs"].get("bias"))
            if has_bias:
                out["after_conv_with_bias"] += 1
            else:
                out["after_conv_without_bias"] += 1
                out["bias_gain"] += c
                out["bias_add_flops"] += numel(prev["output_shape"])
        else:
            out["not_after_conv"] += 1
            out["not_after_conv_channels"] += c
            out["not_after_conv_elements"] += numel(shape)
    return BatchNormStats(**out)


def bias_stats(result: ProfileResult, dense: bool) -> BiasStats:
    """The dense layers (a Keras Dense on an image, listed as a 1x1 conv, included), or else the
    conv layers, that have a bias: how many, their bias values and their bias additions."""
    out: Counter[str] = Counter()
    glayers = (result.graph or {}).get("layers") or []
    for row, gl in zip(result.layers, glayers, strict=False):
        attrs = gl.get("attrs") or {}
        is_dense = row["op"] == "dense" or (row["op"] == "conv" and str(row["source_op"]).startswith("Dense"))
        if is_dense != dense or (row["op"] != "conv" and not is_dense) or not attrs.get("bias"):
            continue
        out["layers"] += 1
        out["values"] += int(attrs.get("out_features") or attrs.get("out_channels") or 0)
        out["flops"] += numel(row["output_shape"])
    return BiasStats(**out)


def constant_op_stats(result: ProfileResult, skip: set[int]) -> ConstantOpStats:
    """Element-wise ops with a constant (add, sub, mul, div on one tensor) right after a conv or
    dense layer, seen through reshapes (TFLite writes a Dense on an image as RESHAPE,
    FULLY_CONNECTED, RESHAPE); the layers in `skip` (a decomposed normalisation) left out."""
    glayers = graph_layers(result)
    made = producers(glayers)
    layers = flops = 0
    for i, (row, gl) in enumerate(zip(result.layers, glayers, strict=True)):
        inputs = gl.get("inputs") or []
        if i in skip or row["op"] not in ("add", "sub", "mul", "div") or len(inputs) != 1:
            continue
        j = made.get(inputs[0]["name"])
        while j is not None and result.layers[j]["op"] == "reshape" and glayers[j].get("inputs"):
            j = made.get(glayers[j]["inputs"][0]["name"])
        if j is not None and result.layers[j]["op"] in ("conv", "dense"):
            layers += 1
            flops += int(row["flops"])
    return ConstantOpStats(layers, flops)


def by_op(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    """Sum of `key` per op, ops with 0 left out."""
    out: Counter[str] = Counter()
    for r in rows:
        out[r["op"]] += r[key]
    return {k: v for k, v in out.items() if v}


def label(framework: str | None, storage_dtype: str | None) -> str:
    """'TFLite int8', 'Keras float32': the framework's display name and the stored dtype."""
    name = FRAMEWORKS.get(framework or "", framework or "?")
    return f"{name} {storage_dtype}" if storage_dtype else name


def figures(result: ProfileResult) -> FormatFigures:
    """The figures of a format read by `inspect`."""
    t = result.totals
    weights = weight_elements(result.graph)
    storage = max(weights, key=lambda d: weights[d]) if weights else None
    elements = sum(weights.values()) if weights else t["params"] + t["buffers"]
    ops = Counter(QUANT_OPS.get(str(r["source_op"]).upper()) for r in result.layers)
    activations = Counter(r["dtype"] for r in result.layers if r["op"] not in ("copy",))
    mac_layers = [r for r in result.layers if r["macs"] > 0 and r["counted"]]
    regions = norm_regions(result)
    in_norms = set().union(*regions) if regions else set()
    shapes = shape_layers(result)
    return FormatFigures(
        kind=result.model["kind"],
        name=result.model["name"],
        params=t["params"],
        trainable_params=t["trainable_params"],
        non_trainable_params=t["non_trainable_params"],
        buffers=t["buffers"],
        non_trainable_or_buffers=t["non_trainable_params"] + t["buffers"],
        macs=t["macs"],
        flops=t["flops"],
        weight_bytes=t["weight_bytes"],
        weight_dtypes=[d for d, _ in weights.most_common()],
        weight_elements=dict(weights.most_common()),
        storage_dtype=storage,
        float32_weight_bytes=4 * elements,
        weight_bytes_ratio=round(4 * elements / t["weight_bytes"], 4) if t["weight_bytes"] else None,
        quantised=any(d in INT_DTYPES for d in weights),
        input_dtypes=[i["dtype"] for i in result.model.get("inputs", [])],
        activation_dtype=activations.most_common(1)[0][0] if activations else None,
        layers=len(result.layers),
        mac_layers=len(mac_layers),
        coverage_percent=t["coverage"]["percent"],
        uncounted_ops=t["coverage"]["uncounted_ops"],
        quantize_layers=ops["QUANTIZE"],
        dequantize_layers=ops["DEQUANTIZE"],
        batchnorm=batchnorm_stats(result),
        shared_param_values=shared_values(result.graph),
        params_by_op=dict(sorted(by_op(result.layers, "params").items())),
        flops_by_op=dict(sorted(t.get("flops_by_op", {}).items())),
        dense_bias=bias_stats(result, dense=True),
        conv_bias=bias_stats(result, dense=False),
        constant_ops=constant_op_stats(result, in_norms),
        layernorm=layernorm_stats(result),
        decomposed_norms=decomposed_norm_stats(result, regions),
        preprocessing=preprocessing_stats(result, in_norms | shapes),
        duplicates=duplicate_stats(result, in_norms | shapes),
        shape_ops=group_stats(result, shapes),
    )


def read_format(ref: str, shown: str) -> tuple[FormatRecord, ProfileResult | None]:
    """(format record, ProfileResult or None) for one model reference; `shown` names it in the report."""
    if is_edgetpu(Path(ref)):
        record = FormatRecord(shown, ref, "not comparable", EDGETPU_REASON, "tflite", "Edge TPU")
        return record, None
    try:
        from zooprof.measure.static import inspect

        result = inspect(ref, command="zooprof compare-formats")
    except ZooprofError as exc:
        try:
            from zooprof.reference.resolve import resolve

            framework: str | None = resolve(ref).framework
        except ZooprofError:
            framework = MODEL_SUFFIXES.get(Path(ref).suffix.lower(), "tfjs" if ref.endswith("model.json") else None)
        return FormatRecord(shown, ref, "failed", str(exc), framework, FRAMEWORKS.get(framework or "", "?")), None
    figs = figures(result)
    framework = result.model["framework"]
    if "edgetpu-custom-op" in figs.uncounted_ops:
        return FormatRecord(shown, ref, "not comparable", EDGETPU_REASON, framework, "Edge TPU", figures=figs), result
    return FormatRecord(shown, ref, "ok", None, framework, label(framework, figs.storage_dtype), figures=figs), result

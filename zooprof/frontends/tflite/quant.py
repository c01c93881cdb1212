"""The quantisation note of a TFLite graph: which scheme the file uses, and its I/O quantisation.

`quant_notes(reader, layers, input_specs, output_ids)` reads the built layers (the first
param of each conv/dense layer is its weight) and the tensors' QuantizationParameters, and
says: none (float, or float16 weights dequantised at run time), full integer, dynamic range
or partial; how many conv/dense weights are quantised per channel; and the dtype, scale and
zero point of every model input and output. The per-tensor dtypes and quantisation
themselves (QuantSpec) are set by zooprof.frontends.tflite.build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from zooprof.frontends.tflite.build import GraphReader
from zooprof.ir.graph import Layer, TensorSpec
from zooprof.ir.ops import OpKind


def quant_notes(
    reader: GraphReader, layers: list[Layer], input_specs: Sequence[TensorSpec], output_ids: Sequence[int]
) -> list[str]:
    m = reader.m
    quantised = [t for t in m.tensors if t.quant is not None]
    weights = [
        p
        for layer in layers
        if layer.op in (OpKind.CONV, OpKind.DENSE, OpKind.CONV_TRANSPOSE)
        for p in layer.params[:1]
    ]
    w_dtypes = Counter(p.dtype for p in weights)
    act_dtypes = Counter(
        layer.inputs[0].dtype for layer in layers if layer.op in (OpKind.CONV, OpKind.DENSE) and layer.inputs
    )
    by_index = {reader.tensor_names[t.index]: t for t in m.tensors}
    per_channel = sum(1 for p in weights if (t := by_index.get(p.name)) and t.quant and len(t.quant.scale) > 1)
    notes = []
    if not quantised:
        halves = any(p.dtype == "float16" for layer in layers for p in layer.params)
        notes.append(
            "quantisation: none; float16 weights, dequantised to float32 at run time"
            if halves
            else "quantisation: none (float weights and activations)"
        )
        return notes
    int_w = sum(v for k, v in w_dtypes.items() if k in ("int8", "uint8", "int16"))
    int_a = sum(v for k, v in act_dtypes.items() if k in ("int8", "uint8", "int16"))
    if int_w and int_a:
        scheme = f"full integer ({', '.join(sorted(w_dtypes))} weights, {', '.join(sorted(act_dtypes))} activations)"
    elif int_w:
        scheme = "dynamic range (integer weights, float activations: weights dequantised at run time)"
    elif not weights:
        kinds = Counter(reader.dtype(t.type_code) for t in quantised)
        scheme = "integer tensors " + ", ".join(f"{k} x{v}" for k, v in kinds.most_common())
    else:
        scheme = "partial (some tensors quantised)"
    parts = [
        f"quantisation: {len(quantised)} of {len(m.tensors)} tensors carry quantisation parameters; scheme {scheme}"
    ]
    if weights:
        parts.append(f"{per_channel} of {len(weights)} conv/dense weight tensors per-channel")
    io = []
    for spec in input_specs:
        io.append(_io_quant("input", spec))
    for t in output_ids:
        io.append(_io_quant("output", reader.spec(t)))
    notes.append("; ".join(parts) + "; " + "; ".join(io))
    return notes


def _io_quant(role: str, spec: TensorSpec) -> str:
    if spec.quant is None:
        return f"{role} '{spec.name}' {spec.dtype}"
    scale = ", ".join(f"{s:.6g}" for s in spec.quant.scale[:3])
    zp = ", ".join(str(z) for z in spec.quant.zero_point[:3])
    return f"{role} '{spec.name}' {spec.dtype} (scale {scale}, zero point {zp})"

"""The findings: how each format's params, FLOPs, MACs and stored weights differ, and why.

Each finding is computed from the formats' layers, never assumed:

- params (`params_finding`): BatchNorm folding (the converter removes each BN's values and
  gives the conv before it a bias), or BN statistics counted as params in one format and
  buffers in the other; values several layers share count once and are added back first;
  anything else is an "unexplained difference", with the difference per op;
- FLOPs (`flops_finding`): the BN layers' FLOPs less the bias additions the folded convs gained;
- MACs (`macs_findings`) should be equal; when they are not, by how much and in which layers;
- quantised or float16 weights (`quant_finding`): the storage dtype, weight bytes against
  float32, and the QUANTIZE/DEQUANTIZE layers.
"""

from __future__ import annotations

from typing import Any

from zooprof.compare.parity.formats import INT_DTYPES
from zooprof.compare.parity.model import (
    FlopsFinding,
    FormatFigures,
    FormatRecord,
    LayerAlignment,
    MacsFindings,
    ParamsFinding,
    QuantFinding,
)
from zooprof.compare.parity.wording import counted, thousands


def op_differences(base: dict[str, int], other: dict[str, int], base_column: str, other_column: str) -> str:
    """' (by op, B minus A: dense +300, batchnorm -28,160)' from two per-op sums, or ''."""
    ops = sorted(set(base) | set(other))
    parts = [f"{op} {other.get(op, 0) - base.get(op, 0):+,}" for op in ops if base.get(op, 0) != other.get(op, 0)]
    return f" (by op, {other_column} minus {base_column}: {', '.join(parts)})" if parts else ""


def sharing_text(column: str, figures: FormatFigures) -> str:
    return (
        f"{column} counts {thousands(figures.shared_param_values)} values that several layers share once (tied "
        "weights, or equal tensors the converter merged, e.g. an untrained model's all-zero biases)"
    )


def unshared_params(figures: FormatFigures) -> int:
    """Params as if no values were shared."""
    return figures.params + figures.shared_param_values


def with_and_without_bn(base: FormatRecord, other: FormatRecord) -> tuple[FormatRecord | None, FormatRecord | None]:
    """(the format with BatchNorm layers, the one without), when exactly one of the two has them."""
    a, b = base.read_figures.batchnorm, other.read_figures.batchnorm
    if a.layers and not b.layers:
        return base, other
    if b.layers and not a.layers:
        return other, base
    return None, None


def params_finding(base: FormatRecord, other: FormatRecord) -> ParamsFinding:
    """How `other`'s parameter count relates to `base`'s, computed from their layers.

    Values shared by several layers count once in each format's params; the comparison adds
    them back ("as if unshared") before looking for BN folding, and says so."""
    fa, fb = base.read_figures, other.read_figures
    diff = fb.params - fa.params
    if diff == 0:
        text = f"{other.column}: params equal to {base.column} ({thousands(fa.params)})"
        return ParamsFinding(other.column, base.column, diff, True, None, text)
    head = (
        f"{other.column} has {thousands(abs(diff))} {'more' if diff > 0 else 'fewer'} params than {base.column} "
        f"({thousands(fb.params)} vs {thousands(fa.params)}): "
    )
    sharing = [sharing_text(f.column, f.read_figures) for f in (base, other) if f.read_figures.shared_param_values]
    tail = f"; {'; '.join(sharing)}" if sharing and fa.shared_param_values != fb.shared_param_values else ""
    a, b = fa.batchnorm, fb.batchnorm
    with_bn, without_bn = with_and_without_bn(base, other)
    weighed: dict[str, Any] = {}  # what the BatchNorm layers were weighed at, kept in every finding below
    if with_bn is not None and without_bn is not None:
        bn = with_bn.read_figures.batchnorm
        kept = 2 * bn.not_after_conv_channels  # a BN with no conv before it stays a scale and an offset
        expected = bn.params - bn.bias_gain - kept
        weighed = {"expected": expected, "batchnorm_layers": bn.layers, "channels": bn.channels}
        if unshared_params(with_bn.read_figures) - unshared_params(without_bn.read_figures) == expected:
            per = bn.params / bn.channels if bn.channels else 0
            per_channel = f"{per:g} per channel" if per == int(per) else "per channel"
            detail = (
                f"{with_bn.column} counts {thousands(bn.params)} BatchNorm values as params ({per_channel}); "
                f"{without_bn.column} keeps {thousands(bn.bias_gain)} conv biases instead "
                f"({counted(bn.after_conv_without_bias, 'conv')} had no bias"
            )
            if bn.after_conv_with_bias:
                detail += f", {counted(bn.after_conv_with_bias, 'BatchNorm')} folded into an existing bias"
            detail += (
                f", {counted(bn.not_after_conv, 'BatchNorm')} not after a conv kept as a scale and an offset "
                f"({thousands(kept)} values)"
                if bn.not_after_conv
                else ""
            ) + ")"
            cause = "batchnorm folding" + (" and shared values" if tail else "")
            what = f"BN folding of {counted(bn.layers, 'BatchNorm layer')} (sum C = {thousands(bn.channels)})"
            if tail:
                merged = without_bn.read_figures.shared_param_values - with_bn.read_figures.shared_param_values
                text = head + (
                    f"params differ by {thousands(abs(diff))} = {what}, {thousands(expected)} values, "
                    f"{'+' if merged >= 0 else '-'} {thousands(abs(merged))} shared values counted "
                    f"once: {detail}{tail}"
                )
            else:
                text = head + f"params differ by {thousands(abs(diff))} = {what}: {detail}"
            return ParamsFinding(other.column, base.column, diff, True, cause, text, **weighed)
    elif (
        a.layers
        and a.layers == b.layers
        and a.channels == b.channels
        and unshared_params(fb) - unshared_params(fa) == b.params - a.params
    ):
        per_a, per_b = a.params / a.channels, b.params / b.channels
        fewer = other if per_b < per_a else base
        text = head + (
            f"params differ by {thousands(abs(diff))} = BatchNorm statistics counted differently over "
            f"{counted(a.layers, 'BatchNorm layer')} (sum C = {thousands(a.channels)}): {base.column} counts "
            f"{per_a:g} values per channel as params, {other.column} {per_b:g}"
            + (f" (the moving statistics are buffers in {fewer.column})" if fewer.read_figures.buffers else "")
            + tail
        )
        cause = "batchnorm statistics counted differently"
        return ParamsFinding(
            other.column, base.column, diff, True, cause, text, batchnorm_layers=a.layers, channels=a.channels
        )
    if tail and unshared_params(fb) == unshared_params(fa):
        text = head + f"params differ by {thousands(abs(diff))} = shared values counted once{tail}"
        return ParamsFinding(other.column, base.column, diff, True, "shared values", text, **weighed)
    text = (
        head
        + f"unexplained difference of {thousands(abs(diff))}"
        + op_differences(fa.params_by_op, fb.params_by_op, base.column, other.column)
        + tail
    )
    if with_bn is not None:
        layers = counted(with_bn.read_figures.batchnorm.layers, "BatchNorm layer")
        text += f" (BN folding of {layers} would explain {thousands(weighed['expected'])})"
    return ParamsFinding(other.column, base.column, diff, False, None, text, **weighed)


def flops_finding(base: FormatRecord, other: FormatRecord) -> FlopsFinding:
    """How `other`'s FLOPs relate to `base`'s: BN folding removes the BN layers' FLOPs and adds
    the bias additions of the convs that gained a bias."""
    fa, fb = base.read_figures, other.read_figures
    diff = fb.flops - fa.flops
    if diff == 0:
        text = f"{other.column}: FLOPs equal to {base.column} ({thousands(fa.flops)})"
        return FlopsFinding(other.column, base.column, diff, True, text)
    head = (
        f"{other.column} has {thousands(abs(diff))} {'more' if diff > 0 else 'fewer'} FLOPs than {base.column} "
        f"({thousands(fb.flops)} vs {thousands(fa.flops)}): "
    )
    with_bn, without_bn = with_and_without_bn(base, other)
    if with_bn is not None and without_bn is not None:
        bn = with_bn.read_figures.batchnorm
        expected = bn.flops - bn.bias_add_flops
        if with_bn.read_figures.flops - without_bn.read_figures.flops == expected and not bn.not_after_conv:
            text = head + (
                f"FLOPs differ by {thousands(abs(diff))} = BN folding: the "
                f"{counted(bn.layers, 'BatchNorm layer')} ({thousands(bn.flops)} FLOPs) are "
                f"gone, the convs that gained a bias add {thousands(bn.bias_add_flops)}"
            )
            return FlopsFinding(other.column, base.column, diff, True, text)
    text = (
        head
        + f"unexplained difference of {thousands(abs(diff))}"
        + op_differences(fa.flops_by_op, fb.flops_by_op, base.column, other.column)
    )
    return FlopsFinding(other.column, base.column, diff, False, text)


def quant_finding(fmt: FormatRecord) -> QuantFinding | None:
    """Weights stored in less than float32: the dtype, the byte ratio, the conversion layers."""
    f = fmt.read_figures
    storage = f.storage_dtype
    if not f.quantised and storage in (None, "float32", "float64"):
        return None
    dtype = (
        storage if storage not in (None, "float32", "float64") else next(d for d in f.weight_dtypes if d in INT_DTYPES)
    )
    ratio = f.weight_bytes_ratio
    others = [d for d in f.weight_dtypes if d != dtype]
    text = (
        f"{fmt.column}: weights stored as {dtype}: weight bytes x{ratio:.2f} smaller than float32 "
        f"({thousands(f.weight_bytes)} B vs {thousands(f.float32_weight_bytes)} B for the same "
        f"{thousands(sum(f.weight_elements.values()))} values as float32"
        + (f"; also {', '.join(others)}" if others else "")
        + ")"
    )
    text += (
        f"; {f.quantize_layers} QUANTIZE and {counted(f.dequantize_layers, 'DEQUANTIZE layer')} "
        "(type conversions, 0 FLOPs)"
    )
    if f.input_dtypes or f.activation_dtype:
        text += f"; input {', '.join(f.input_dtypes) or '?'}, activations mostly {f.activation_dtype}"
    return QuantFinding(
        format=fmt.column,
        dtype=dtype,
        ratio=ratio,
        weight_bytes=f.weight_bytes,
        float32_weight_bytes=f.float32_weight_bytes,
        quantize_layers=f.quantize_layers,
        dequantize_layers=f.dequantize_layers,
        text=text,
    )


def macs_findings(formats: list[FormatRecord], layers: LayerAlignment) -> MacsFindings:
    """Whether the formats' MACs agree; when not, by how much and in which layers (the first 5);
    and, per format, the layers its MACs leave out."""
    values = {f.column: f.read_figures.macs for f in formats}
    texts = []
    equal = len(set(values.values())) <= 1
    if equal and values:
        texts.append(f"MACs equal across formats: {thousands(next(iter(values.values())))}")
    elif values:
        base = formats[0]
        for f in formats[1:]:
            diff = values[f.column] - values[base.column]
            if diff:
                texts.append(
                    f"MACs differ: {f.column} has {thousands(abs(diff))} {'more' if diff > 0 else 'fewer'} than "
                    f"{base.column} ({thousands(values[f.column])} vs {thousands(values[base.column])})"
                )
        diffs = layers.mac_diffs
        if diffs:
            shown = []
            for row in diffs[:5]:
                name = next(n for n in row.names.values() if n)
                macs = [row.macs[c] for c in layers.formats]
                shown.append(
                    f"#{row.index} {name} (" + " vs ".join("–" if m is None else thousands(m) for m in macs) + ")"
                )
            texts.append(
                f"layers whose MACs differ ({len(diffs)}; "
                + " vs ".join(layers.formats)
                + "): "
                + "; ".join(shown)
                + (" ..." if len(diffs) > 5 else "")
            )
    for f in formats:
        figs = f.read_figures
        if figs.coverage_percent < 100:
            ops = ", ".join(f"{k} x{v}" for k, v in figs.uncounted_ops.items())
            texts.append(f"{f.column}: MACs leave out uncounted layers ({ops}); coverage {figs.coverage_percent:g} %")
    return MacsFindings(equal=equal, values=values, texts=texts)

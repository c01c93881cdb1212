"""The findings: how each format's params, FLOPs, MACs and stored weights differ, and why.

Each finding is computed from the formats' layers, never assumed:

- params (`params_finding`): BatchNorm folding (the converter removes each BN's values and
  gives the conv before it a bias), or BN statistics counted as params in one format and
  buffers in the other; dense biases one format drops (a converter drops an all-zero bias, as
  an untrained model's); values several layers share count once and are added back first;
  anything else is an "unexplained difference", with the difference per op;
- FLOPs (`flops_finding`): the BN layers' FLOPs less the bias additions the folded convs gained,
  the additions of dropped dense biases, and element-wise ops with a constant right after a
  conv, which a converter folds into its weights and bias;
- in both, what else a converter rewrites (rewrites.py): LayerNorm written as element-wise ops,
  input preprocessing removed, folded or stored as weights, repeated ops merged, shapes computed
  at run time. Each explanation is a list of `Term`s that add up to the difference exactly;
- MACs (`macs_findings`) should be equal; when they are not, by how much and in which layers;
- quantised or float16 weights (`quant_finding`): the storage dtype, weight bytes against
  float32, and the QUANTIZE/DEQUANTIZE layers.
"""

from __future__ import annotations

from typing import Any

from zooprof.compare.parity.formats import INT_DTYPES
from zooprof.compare.parity.model import (
    BatchNormStats,
    FlopsFinding,
    FormatFigures,
    FormatRecord,
    LayerAlignment,
    MacsFindings,
    ParamsFinding,
    QuantFinding,
    Term,
)
from zooprof.compare.parity.rewrites import flops_terms as rewrite_flops_terms
from zooprof.compare.parity.rewrites import param_terms
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


def dropped_biases(kept: FormatRecord, lost: FormatRecord) -> tuple[int, str]:
    """(dense-bias values `kept` has and `lost` does not, the sentence that says so): the TFLite
    converter drops a dense layer's bias when it is all zeros, as an untrained model's are."""
    a, b = kept.read_figures.dense_bias, lost.read_figures.dense_bias
    values = a.values - b.values
    if values <= 0:
        return 0, ""
    return values, (
        f"{lost.column} keeps no bias on {counted(a.layers - b.layers, 'dense layer')} that {kept.column} gives one "
        f"({thousands(values)} values: a converter drops an all-zero bias, as an untrained model's)"
    )


def added_biases(source: FormatRecord, converted: FormatRecord) -> tuple[int, int, str]:
    """(conv-bias values, their additions, the sentence) that `converted` has beyond `source`'s
    and beyond those BN folding gives it: the TFLite converter gives every conv a bias, all zeros
    where it had none (Xception's depthwise convs, DenseNet's convs before a concatenation)."""
    a, b = source.read_figures, converted.read_figures
    bn = a.batchnorm if a.batchnorm.layers and not b.batchnorm.layers else BatchNormStats()
    values = b.conv_bias.values - a.conv_bias.values - bn.bias_gain
    if values <= 0:
        return 0, 0, ""
    n = b.conv_bias.layers - a.conv_bias.layers - bn.after_conv_without_bias
    flops = b.conv_bias.flops - a.conv_bias.flops - bn.bias_add_flops
    return (
        values,
        flops,
        f"{converted.column} gives {counted(n, 'conv')} without a bias (and no BatchNorm after it) a bias of "
        f"zeros ({thousands(values)} values, {thousands(flops)} additions)",
    )


def zero_offsets_dropped(with_bn: FormatRecord, without_bn: FormatRecord) -> bool:
    """Whether the folded format keeps each BN not after a conv as a scale only: the params add
    up that way (the offset of an untrained model's BN is all zeros, and a converter drops it as
    it drops a zero bias), not with a scale and an offset."""
    bn = with_bn.read_figures.batchnorm
    measured = unshared_params(with_bn.read_figures) - unshared_params(without_bn.read_figures)
    measured += added_biases(with_bn, without_bn)[0] - dropped_biases(with_bn, without_bn)[0]
    measured += sum(t.value for t in param_terms(with_bn, without_bn))
    return bool(bn.not_after_conv) and measured == bn.params - bn.bias_gain - bn.not_after_conv_channels


def with_and_without_bn(base: FormatRecord, other: FormatRecord) -> tuple[FormatRecord | None, FormatRecord | None]:
    """(the format with BatchNorm layers, the one without), when exactly one of the two has them."""
    a, b = base.read_figures.batchnorm, other.read_figures.batchnorm
    if a.layers and not b.layers:
        return base, other
    if b.layers and not a.layers:
        return other, base
    return None, None


def equation(terms: list[Term], diff: int, first: str) -> str:
    """'= BN folding ..., 68,160 values, + 1,000 values of dropped dense biases, - 16 values of
    added conv biases, + 33,792 shared values counted once': the first term in words, the others
    signed against the direction of the difference."""
    parts = [first]
    for t in terms[1:]:
        sign = "+" if (t.value >= 0) == (diff >= 0) else "-"
        what = "shared values counted once" if t.cause == "shared values" else f"values of {t.cause}"
        parts.append(f"{sign} {thousands(abs(t.value))} {what}")
    return f"params differ by {thousands(abs(diff))} = {', '.join(parts)}"


def shared_term(base: FormatRecord, other: FormatRecord, tail: str) -> list[Term]:
    """Values one format counts once where the other counts them per use (its share: minus the
    values `other` shares beyond `base`)."""
    merged = other.read_figures.shared_param_values - base.read_figures.shared_param_values
    return [Term("shared values", -merged, tail.removeprefix("; "))] if tail and merged else []


def params_finding(base: FormatRecord, other: FormatRecord) -> ParamsFinding:
    """How `other`'s parameter count relates to `base`'s, computed from their layers.

    Values shared by several layers count once in each format's params; the comparison adds
    them back ("as if unshared") before looking for BN folding, and says so. What else a
    converter rewrites (LayerNorm written as element-wise ops, input preprocessing) comes from
    rewrites.py; every explanation is one exact sum of `Term`s."""
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
    rewrites = param_terms(base, other)
    with_bn, without_bn = with_and_without_bn(base, other)
    weighed: dict[str, Any] = {}  # what the BatchNorm layers were weighed at, kept in every finding below
    if with_bn is not None and without_bn is not None:
        bn = with_bn.read_figures.batchnorm
        sign = 1 if with_bn is base else -1  # other minus base, for a difference that with_bn has more of
        dropped, dropped_text = dropped_biases(with_bn, without_bn)
        added, _, added_text = added_biases(with_bn, without_bn)
        measured = unshared_params(with_bn.read_figures) - unshared_params(without_bn.read_figures) - dropped + added
        measured += sign * sum(t.value for t in rewrites)
        offsets_dropped = zero_offsets_dropped(with_bn, without_bn)
        kept = bn.not_after_conv_channels * (1 if offsets_dropped else 2)
        how = "kept as a scale, their all-zero offsets dropped" if offsets_dropped else "kept as a scale and an offset"
        expected = bn.params - bn.bias_gain - kept
        weighed = {"expected": expected, "batchnorm_layers": bn.layers, "channels": bn.channels}
        if measured == expected:
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
                f", {counted(bn.not_after_conv, 'BatchNorm')} not after a conv {how} ({thousands(kept)} values)"
                if bn.not_after_conv
                else ""
            ) + ")"
            what = f"BN folding of {counted(bn.layers, 'BatchNorm layer')} (sum C = {thousands(bn.channels)})"
            terms = [Term("batchnorm folding", -sign * expected, what)]
            if dropped:
                terms.append(Term("dropped dense biases", -sign * dropped, dropped_text))
            if added:
                terms.append(Term("added conv biases", sign * added, added_text))
            terms += rewrites + shared_term(base, other, tail)
            detail += "".join(f"; {t.text}" for t in terms[1:] if t.cause != "shared values")
            cause = " and ".join(t.cause for t in terms)
            if len(terms) > 1:
                text = head + equation(terms, diff, f"{what}, {thousands(expected)} values") + f": {detail}{tail}"
            else:
                text = head + f"params differ by {thousands(abs(diff))} = {what}: {detail}"
            return ParamsFinding(other.column, base.column, diff, True, cause, text, **weighed, terms=terms)
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
        terms = [Term(cause, b.params - a.params, text.removeprefix(head))] + shared_term(base, other, tail)
        return ParamsFinding(
            other.column,
            base.column,
            diff,
            True,
            cause,
            text,
            batchnorm_layers=a.layers,
            channels=a.channels,
            terms=terms,
        )
    if with_bn is None:  # a converter's zeros and rewrites without BN folding
        dense = (
            dropped_biases(base, other) if fa.dense_bias.values > fb.dense_bias.values else dropped_biases(other, base)
        )
        conv = added_biases(base, other) if fb.conv_bias.values > fa.conv_bias.values else added_biases(other, base)
        terms = []
        if dense[0]:
            terms.append(Term("dropped dense biases", fb.dense_bias.values - fa.dense_bias.values, dense[1]))
        if conv[0]:
            terms.append(Term("added conv biases", fb.conv_bias.values - fa.conv_bias.values, conv[2]))
        terms += rewrites
        if terms and unshared_params(fb) - unshared_params(fa) == sum(t.value for t in terms):
            terms += shared_term(base, other, tail)
            first = f"{thousands(abs(terms[0].value))} " + (
                "shared values counted once" if terms[0].cause == "shared values" else f"values of {terms[0].cause}"
            )
            text = head + equation(terms, diff, first) + ": "
            text += "; ".join(t.text for t in terms if t.cause != "shared values") + tail
            cause = " and ".join(t.cause for t in terms)
            return ParamsFinding(other.column, base.column, diff, True, cause, text, terms=terms)
    if tail and unshared_params(fb) == unshared_params(fa):
        text = head + f"params differ by {thousands(abs(diff))} = shared values counted once{tail}"
        terms = shared_term(base, other, tail)
        return ParamsFinding(other.column, base.column, diff, True, "shared values", text, **weighed, terms=terms)
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


def flops_terms(base: FormatRecord, other: FormatRecord) -> list[Term]:
    """What converters change in FLOPs, each computed from the formats' layers, as `Term`s (the
    FLOPs `other` has more than `base`). BN folding removes the BN layers' FLOPs and adds the
    bias additions of the convs that gained a bias; dropped dense biases take their additions
    along, added zero conv biases bring theirs; an element-wise op with a constant right after
    a conv is folded into it; the rewrites of rewrites.py."""
    terms: list[Term] = []
    fa, fb = base.read_figures, other.read_figures
    with_bn, without_bn = with_and_without_bn(base, other)
    if with_bn is not None and without_bn is not None:
        bn = with_bn.read_figures.batchnorm
        sign = -1 if with_bn is base else 1
        words = (
            f"BN folding: the {counted(bn.layers, 'BatchNorm layer')} ({thousands(bn.flops)} FLOPs) are "
            f"gone, the convs that gained a bias add {thousands(bn.bias_add_flops)}"
        )
        if bn.not_after_conv:  # kept as a multiply (and an add, unless its offset is all zeros)
            scale, offset = bn.not_after_conv_elements, bn.not_after_conv_elements
            offset *= not zero_offsets_dropped(with_bn, without_bn)
            words += (
                f", the {counted(bn.not_after_conv, 'BatchNorm')} not after a conv stay a multiply "
                f"({thousands(scale)} FLOPs)" + (f" and an add ({thousands(offset)})" if offset else "")
            )
            terms.append(Term("batchnorm folding", sign * (bn.flops - bn.bias_add_flops - scale - offset), words))
        else:
            terms.append(Term("batchnorm folding", sign * (bn.flops - bn.bias_add_flops), words))
        _, added, _ = added_biases(with_bn, without_bn)
        if added:
            words = f"{without_bn.column} adds {thousands(added)} additions of zero conv biases"
            terms.append(Term("added conv biases", -sign * added, words))
    elif fa.conv_bias.flops != fb.conv_bias.flops:
        more = other if fb.conv_bias.flops > fa.conv_bias.flops else base
        extra = abs(fb.conv_bias.flops - fa.conv_bias.flops)
        words = f"{more.column} adds {thousands(extra)} additions of zero conv biases"
        terms.append(Term("added conv biases", fb.conv_bias.flops - fa.conv_bias.flops, words))
    if fa.dense_bias.values != fb.dense_bias.values:
        lost = other if fa.dense_bias.values > fb.dense_bias.values else base
        dropped = abs(fa.dense_bias.flops - fb.dense_bias.flops)
        words = f"{lost.column} drops {thousands(dropped)} dense-bias additions"
        terms.append(Term("dropped dense biases", fb.dense_bias.flops - fa.dense_bias.flops, words))
    if fa.constant_ops.flops != fb.constant_ops.flops:
        lost = other if fa.constant_ops.flops > fb.constant_ops.flops else base
        n = abs(fa.constant_ops.layers - fb.constant_ops.layers)
        folded = abs(fa.constant_ops.flops - fb.constant_ops.flops)
        words = (
            f"{lost.column} folds {counted(n, 'element-wise op')} with a constant into the conv or dense "
            f"layer right before it ({thousands(folded)} FLOPs)"
        )
        terms.append(Term("constant ops folded", fb.constant_ops.flops - fa.constant_ops.flops, words))
    return terms + rewrite_flops_terms(base, other)


def flops_finding(base: FormatRecord, other: FormatRecord) -> FlopsFinding:
    """How `other`'s FLOPs relate to `base`'s: explained when the terms of `flops_terms` add up."""
    fa, fb = base.read_figures, other.read_figures
    diff = fb.flops - fa.flops
    if diff == 0:
        text = f"{other.column}: FLOPs equal to {base.column} ({thousands(fa.flops)})"
        return FlopsFinding(other.column, base.column, diff, True, text)
    head = (
        f"{other.column} has {thousands(abs(diff))} {'more' if diff > 0 else 'fewer'} FLOPs than {base.column} "
        f"({thousands(fb.flops)} vs {thousands(fa.flops)}): "
    )
    terms = flops_terms(base, other)
    if terms and sum(t.value for t in terms) == diff:
        text = head + f"FLOPs differ by {thousands(abs(diff))} = " + "; ".join(t.text for t in terms)
        return FlopsFinding(other.column, base.column, diff, True, text, terms)
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

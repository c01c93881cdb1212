"""Terms of the params and FLOPs findings for what a converter rewrites beyond BN folding and
biases, each computed from the two formats' layers (the patterns of patterns.py):

- a LayerNormalization written as element-wise ops (TFLite: mean, squared difference, rsqrt,
  multiplies, adds) that keep the scale and drop the all-zero offset of an untrained model
  (ConvNeXt: 8,160 values), at the FLOPs of those ops instead of the LayerNorm's;
- input preprocessing (the element-wise ops with a constant before the first conv or dense
  layer: keras.applications' Rescaling and Normalization): a converter removes an identity
  Normalization (untrained: mean 0, variance 1) and folds a scale into the first conv
  (EfficientNetB0), or keeps a Normalization whose mean and variance the Keras config holds as
  constants and stores them as weights (EfficientNetV2B0, ConvNeXt: 6 values);
- layers computed twice on one input in one format and once in the other (NASNet's ReLUs and
  pools: a converter merges identical ops);
- layers that compute on tensor shapes (the targets of TFLite's RESHAPEs around a Dense on an
  image: SHAPE, GATHER, REDUCE_PROD, PACK).

Every `Term`'s value is its share of the difference, the format minus the baseline.
"""

from __future__ import annotations

from zooprof.compare.parity.model import FormatRecord, GroupStats, Term
from zooprof.compare.parity.wording import counted, thousands


def sources_text(group: GroupStats) -> str:
    """'Rescaling, Normalization x2' from the layers' source ops."""
    return ", ".join(name + (f" x{n}" if n > 1 else "") for name, n in group.sources.items())


def decomposed(base: FormatRecord, other: FormatRecord) -> tuple[FormatRecord, FormatRecord] | None:
    """(the format with LayerNorm layers, the one that writes them as element-wise ops), when one
    has LayerNorm layers and none written out, and the other as many written out and none."""
    for x, y in ((base, other), (other, base)):
        fx, fy = x.read_figures, y.read_figures
        fits = fx.layernorm.norms and not fx.decomposed_norms.norms and not fy.layernorm.norms
        if fits and fy.decomposed_norms.norms == fx.layernorm.norms:
            return x, y
    return None


def param_terms(base: FormatRecord, other: FormatRecord) -> list[Term]:
    """The rewrites' shares of the params difference (values counted once per use)."""
    terms = []
    pair = decomposed(base, other)
    if pair is not None:
        x, y = pair
        ln, dec = x.read_figures.layernorm, y.read_figures.decomposed_norms
        sign = 1 if y is other else -1
        if dec.params != ln.params:
            text = (
                f"{y.column} writes {counted(ln.norms, 'LayerNormalization layer')} (sum C = {thousands(ln.channels)}) "
                f"as element-wise ops that keep {thousands(dec.params)} of the {thousands(ln.params)} values "
                f"{x.column} counts"
            )
            if ln.params == 2 * ln.channels and dec.params == ln.channels:
                text += " (the scale; the offset, all zeros in an untrained model, is dropped)"
            terms.append(Term("decomposed layer norms", sign * (dec.params - ln.params), text))
    a, b = base.read_figures.preprocessing, other.read_figures.preprocessing
    if a.params != b.params:
        more, fewer = (base, other) if a.params > b.params else (other, base)
        pm, pf = more.read_figures.preprocessing, fewer.read_figures.preprocessing
        where = "before the first conv or dense layer"
        if not pf.layers:
            text = (
                f"{fewer.column} has none of the {counted(pm.layers, 'element-wise op')} with a constant that "
                f"{more.column} applies {where} ({sources_text(pm)}; {thousands(pm.params)} values as params): "
                "the converter removed them or folded them into that layer"
                + (
                    " (an untrained Normalization, mean 0 and variance 1, does nothing)"
                    if "Normalization" in pm.sources
                    else ""
                )
            )
        else:
            text = (
                f"the element-wise ops with a constant {where} ({more.column}: {sources_text(pm)}; {fewer.column}: "
                f"{sources_text(pf)}) hold {thousands(pm.params)} values as params in {more.column} and "
                f"{thousands(pf.params)} in {fewer.column} (values a layer's config gives, as a Normalization's mean "
                "and variance, are constants to Keras, not weights; a converter stores them as weights)"
            )
        terms.append(Term("input preprocessing", b.params - a.params, text))
    return terms


def flops_terms(base: FormatRecord, other: FormatRecord) -> list[Term]:
    """The rewrites' shares of the FLOPs difference."""
    terms = []
    fa, fb = base.read_figures, other.read_figures
    pair = decomposed(base, other)
    if pair is not None:
        x, y = pair
        ln, dec = x.read_figures.layernorm, y.read_figures.decomposed_norms
        sign = 1 if y is other else -1
        if dec.flops != ln.flops:
            text = (
                f"{y.column} writes {counted(ln.norms, 'LayerNormalization layer')} as {dec.layers} element-wise "
                f"layers (mean, squared difference, rsqrt, multiplies, adds): {thousands(dec.flops)} FLOPs against "
                f"{thousands(ln.flops)} for the LayerNorm layers of {x.column}"
            )
            terms.append(Term("decomposed layer norms", sign * (dec.flops - ln.flops), text))
    a, b = fa.preprocessing, fb.preprocessing
    if a.flops != b.flops:
        more, fewer = (base, other) if a.flops > b.flops else (other, base)
        pm, pf = more.read_figures.preprocessing, fewer.read_figures.preprocessing
        text = (
            f"{fewer.column} has {counted(pm.layers - pf.layers, 'element-wise op')} with a constant fewer before the "
            f"first conv or dense layer (input preprocessing: {sources_text(pm)} in {more.column}): the converter "
            f"removed them or folded them into that layer ({thousands(pm.flops - pf.flops)} FLOPs)"
        )
        terms.append(Term("input preprocessing", b.flops - a.flops, text))
    a, b = fa.duplicates, fb.duplicates
    if a.flops != b.flops:
        more, fewer = (base, other) if a.flops > b.flops else (other, base)
        dm = more.read_figures.duplicates
        text = (
            f"{more.column} computes {counted(dm.layers, 'layer')} a second time on the same input "
            f"({sources_text(dm)}; same op and attributes, {thousands(abs(a.flops - b.flops))} FLOPs), "
            f"{fewer.column} once: the converter merges identical ops"
        )
        terms.append(Term("repeated ops merged", b.flops - a.flops, text))
    a, b = fa.shape_ops, fb.shape_ops
    if a.flops != b.flops:
        more = base if a.flops > b.flops else other
        sm = more.read_figures.shape_ops
        text = (
            f"{more.column} computes reshape targets from tensor shapes at run time ({counted(sm.layers, 'layer')}: "
            f"{sources_text(sm)}; {thousands(abs(a.flops - b.flops))} FLOPs on shape values)"
        )
        terms.append(Term("shape computations", b.flops - a.flops, text))
    return terms

"""The typed result of `zooprof compare-formats`: `ParityReport` and the records it holds.

Contract: `ParityReport.to_dict()` is the JSON the command writes (`-o x.json`), key for key and
in the same order. A record whose every field is written declares its fields in the JSON's
order and uses `asdict` (add a field only where the JSON gains that key); the others build
their dict explicitly: keys that a record does not have (a format that could not be read has
no figures, a latency that did not run has no iterations) are left out, not written as null.
Every figure and every sentence the renderers show is in the report; renderers only lay it out.
The records are frozen: `zooprof.compare.parity.build.compare` makes each one whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: the `kind` and `version` of the JSON document
KIND = "zooprof.compare-formats"
VERSION = 1


@dataclass(frozen=True)
class BatchNormStats:
    """What folding a format's BatchNorm layers into the layers before them would change."""

    layers: int = 0
    channels: int = 0
    params: int = 0
    flops: int = 0
    after_conv_without_bias: int = 0
    after_conv_with_bias: int = 0
    not_after_conv: int = 0
    not_after_conv_channels: int = 0
    not_after_conv_elements: int = 0  # the output elements of the BN layers not after a conv
    bias_gain: int = 0  # the conv biases the BN layers would become
    bias_add_flops: int = 0  # the bias additions those convs would gain

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class BiasStats:
    """The biases of a format's dense layers (a Keras Dense on an image, listed as a 1x1 conv,
    included), or of its conv layers: the TFLite converter drops a dense layer's all-zero bias
    (an untrained model's) and gives every conv a bias (all zeros where it had none)."""

    layers: int = 0  # layers with a bias
    values: int = 0  # their bias values
    flops: int = 0  # their bias additions (one per output element)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ConstantOpStats:
    """Element-wise ops with a constant (add, sub, mul, div on one tensor) straight after a conv
    or dense layer (MobileNetV3's `x + 3.0`, InceptionResNetV2's `r * 0.17`): a converter folds
    them into that layer's weights and bias."""

    layers: int = 0
    flops: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class NormStats:
    """A format's LayerNormalization layers, or the normalisations a converter wrote as
    element-wise ops (TFLite: MEAN, SQUARED_DIFFERENCE, MEAN, ADD, RSQRT, MUL, MUL, MUL, ADD, and a
    NEG or SUB): how many, their channels (summed), the values they hold as params (counted once
    per use) and their FLOPs. `layers` is the number of layers they take (one per LayerNorm)."""

    norms: int = 0
    layers: int = 0
    channels: int = 0
    params: int = 0
    flops: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class GroupStats:
    """A group of layers that converters treat alike: the element-wise ops with a constant before
    the first conv or dense layer (input preprocessing: keras.applications' Rescaling and
    Normalization); the layers that repeat an earlier one (same op, attributes and inputs, no
    params: NASNet's ReLUs and pools applied twice to one tensor, which a converter computes
    once); or the layers that compute on tensor shapes (TFLite's SHAPE, GATHER, REDUCE_PROD, PACK
    that give a RESHAPE its target at run time). `sources` counts the layers by source op (its
    detail in brackets left out), or by op for repeats."""

    layers: int = 0
    params: int = 0
    flops: int = 0
    sources: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FormatFigures:
    """The figures of one format that could be read (`zooprof.measure.static.inspect`)."""

    kind: str
    name: str
    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    non_trainable_or_buffers: int
    macs: int
    flops: int
    weight_bytes: int
    weight_dtypes: list[str]  # most elements first
    weight_elements: dict[str, int]  # elements stored per dtype
    storage_dtype: str | None
    float32_weight_bytes: int
    weight_bytes_ratio: float | None  # float32 bytes / stored bytes
    quantised: bool
    input_dtypes: list[str]
    activation_dtype: str | None
    layers: int
    mac_layers: int
    coverage_percent: float
    uncounted_ops: dict[str, int]
    quantize_layers: int
    dequantize_layers: int
    batchnorm: BatchNormStats
    shared_param_values: int
    params_by_op: dict[str, int]
    flops_by_op: dict[str, int]
    dense_bias: BiasStats = field(default_factory=BiasStats)
    conv_bias: BiasStats = field(default_factory=BiasStats)
    constant_ops: ConstantOpStats = field(default_factory=ConstantOpStats)
    layernorm: NormStats = field(default_factory=NormStats)
    decomposed_norms: NormStats = field(default_factory=NormStats)
    preprocessing: GroupStats = field(default_factory=GroupStats)
    duplicates: GroupStats = field(default_factory=GroupStats)
    shape_ops: GroupStats = field(default_factory=GroupStats)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Latency:
    """Median latency (batch 1) of one format on its default runtime, or why there is none.

    `status` is "ok", "failed" or "n/a"; the spread and the session are only known when "ok"."""

    runtime: str | None
    status: str
    median_ms: float | None
    reason: str | None
    text: str  # the table cell: "1.234 ms", or "n/a (why)"
    ci_rel_halfwidth: float | None = None
    iterations: int | None = None
    threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "runtime": self.runtime,
            "status": self.status,
            "median_ms": self.median_ms,
            "reason": self.reason,
        }
        if self.status == "ok":
            out.update(ci_rel_halfwidth=self.ci_rel_halfwidth, iterations=self.iterations, threads=self.threads)
        out["text"] = self.text
        return out


@dataclass(frozen=True)
class FormatRecord:
    """One format of the model: where it is, whether it could be read, and its figures.

    `status` is "ok", "failed" (could not be read: `reason`) or "not comparable" (an Edge TPU
    file: `reason`). `figures` is None for a format that could not be read. `column` is the name
    the tables and sentences use (the label, made unique with the file when two formats share it)."""

    file: str
    reference: str
    status: str
    reason: str | None
    framework: str | None
    label: str
    column: str = ""
    figures: FormatFigures | None = None
    latency: Latency | None = None

    @property
    def read_figures(self) -> FormatFigures:
        """The figures of a format that was read; ValueError for one that was not."""
        if self.figures is None:
            raise ValueError(f"{self.file} was not read: {self.reason}")
        return self.figures

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "reference": self.reference,
            "status": self.status,
            "reason": self.reason,
            "framework": self.framework,
        }
        if self.figures is not None:
            out.update(self.figures.to_dict())
        out["label"] = self.label
        out["column"] = self.column
        if self.latency is not None:
            out["latency"] = self.latency.to_dict()
        return out


@dataclass(frozen=True)
class Term:
    """One cause of a difference in params or FLOPs, computed from the layers: `value` is its
    share of the difference (the format minus the baseline); an explained finding's terms add up
    to its difference exactly."""

    cause: str
    value: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ParamsFinding:
    """How one format's parameter count relates to the baseline's, and why.

    `expected`, `batchnorm_layers` and `channels` are set when BatchNorm layers were weighed;
    `terms` (explained findings only) add up to `difference`."""

    format: str
    baseline: str
    difference: int
    explained: bool
    cause: str | None
    text: str
    expected: int | None = None
    batchnorm_layers: int | None = None
    channels: int | None = None
    terms: list[Term] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format,
            "baseline": self.baseline,
            "difference": self.difference,
            "explained": self.explained,
            "cause": self.cause,
        }
        for key, value in (
            ("expected", self.expected),
            ("batchnorm_layers", self.batchnorm_layers),
            ("channels", self.channels),
        ):
            if value is not None:
                out[key] = value
        out["text"] = self.text
        out["terms"] = [t.to_dict() for t in self.terms]
        return out


@dataclass(frozen=True)
class FlopsFinding:
    """How one format's FLOPs relate to the baseline's, and why: `terms` (explained findings
    only) add up to `difference`."""

    format: str
    baseline: str
    difference: int
    explained: bool
    text: str
    terms: list[Term] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QuantFinding:
    """A format whose weights are stored in less than float32."""

    format: str
    dtype: str
    ratio: float | None
    weight_bytes: int
    float32_weight_bytes: int
    quantize_layers: int
    dequantize_layers: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MacsFindings:
    """Whether the formats' MACs agree, their values by column, and the sentences that say so."""

    equal: bool
    values: dict[str, int]
    texts: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LayerRow:
    """The i-th layer with MACs of every format (None where a format has no i-th such layer)."""

    index: int  # from 1
    kind: str  # "conv", "dense", or "conv/dense" when the formats disagree
    names: dict[str, str | None]
    shapes: dict[str, list[int] | None]
    shape_text: dict[str, str]
    macs: dict[str, int | None]
    agree: bool  # every format has the layer, with the same output shape
    macs_agree: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LayerAlignment:
    """The layers with MACs of every format, side by side by their place in the graph (align.py)."""

    formats: list[str]
    count: dict[str, int]
    rows: list[LayerRow]
    agree: bool
    first_disagreement: str | None
    text: str

    @property
    def mac_diffs(self) -> list[LayerRow]:
        """The rows whose MACs differ between the formats."""
        return [r for r in self.rows if not r.macs_agree]

    @property
    def macs_differ(self) -> list[int]:
        return [r.index for r in self.mac_diffs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "formats": self.formats,
            "count": self.count,
            "rows": [r.to_dict() for r in self.rows],
            "agree": self.agree,
            "first_disagreement": self.first_disagreement,
            "text": self.text,
            "macs_differ": self.macs_differ,
        }


@dataclass(frozen=True)
class NotComparable:
    """A format listed but not compared (an Edge TPU file)."""

    format: str
    file: str
    reason: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TextTable:
    """A table as text cells: what the table, Markdown and JSON outputs show."""

    headings: list[str]
    rows: list[list[str]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ParityReport:
    """One model in several formats: the records, the findings and the explanations."""

    inputs: list[str]
    folder: str | None
    latency: bool
    max_time: float | None  # with latency only
    baseline: str | None  # the column of the first format read
    formats: list[FormatRecord]
    params_findings: list[ParamsFinding]
    macs: MacsFindings
    flops_findings: list[FlopsFinding]
    quantisation: list[QuantFinding]
    layers: LayerAlignment
    not_comparable: list[NotComparable]
    notes: list[str]
    explanations: list[str]
    summary_table: TextTable
    layer_table: TextTable
    kind: str = field(default=KIND)
    version: int = field(default=VERSION)

    @property
    def params_equal(self) -> bool:
        return all(p.difference == 0 for p in self.params_findings)

    @property
    def flops_equal(self) -> bool:
        return all(x.difference == 0 for x in self.flops_findings)

    @property
    def failed(self) -> int:
        """How many formats could not be read (the command then exits 1)."""
        return sum(1 for f in self.formats if f.status == "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "inputs": self.inputs,
            "folder": self.folder,
            "latency": self.latency,
            "max_time": self.max_time,
            "baseline": self.baseline,
            "formats": [f.to_dict() for f in self.formats],
            "params": {"equal": self.params_equal, "findings": [p.to_dict() for p in self.params_findings]},
            "macs": self.macs.to_dict(),
            "flops": {"equal": self.flops_equal, "findings": [x.to_dict() for x in self.flops_findings]},
            "quantisation": [q.to_dict() for q in self.quantisation],
            "layers": self.layers.to_dict(),
            "not_comparable": [n.to_dict() for n in self.not_comparable],
            "notes": self.notes,
            "explanations": self.explanations,
            "summary_table": self.summary_table.to_dict(),
            "layer_table": self.layer_table.to_dict(),
            "failed": self.failed,
        }

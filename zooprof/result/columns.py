"""The per-layer column vocabulary shared by CLI flags (--columns), CSV headers, JSON keys,
table headings, the HTML report and `ProfileResult.layers_df()`.

Each column reads one key of a layer row and says how to show it: `key`, `heading`, `unit`,
`digits`, `text` (tables, Markdown, HTML), `value` (CSV: raw numbers) and `dtype` (the pandas
dtype of its DataFrame column). None computes a metric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zooprof.errors import UsageError

Row = dict[str, Any]


def _dims(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        if v and isinstance(v[0], (list, tuple)):
            return ",".join("/".join(str(x) for x in p) for p in v)
        return "×".join(str(x) for x in v) if len(set(v)) > 1 else str(v[0])
    return str(v)


def chw(shape: list[int] | None) -> str:
    """Output shape without the batch axis, as the slide writes it: 96×55×55."""
    if not shape:
        return ""
    dims = shape[1:] if len(shape) > 1 else shape
    return "×".join(str(d) for d in dims)


def kernel_text(row: Row) -> str:
    """11×11 s4 p2 (g2): kernel, stride, padding, groups of a windowed op."""
    if "kernel" not in row:
        return ""
    k = row["kernel"]
    parts = ["×".join(str(x) for x in k) if isinstance(k, (list, tuple)) else str(k)]
    s = _dims(row.get("stride"))
    if s and s != "1":
        parts.append(f"s{s}")
    p = _dims(row.get("padding"))
    if p and p != "0":
        parts.append(f"p{p}")
    d = _dims(row.get("dilation"))
    if d and d != "1":
        parts.append(f"d{d}")
    g = row.get("groups")
    if g and g != 1:
        parts.append(f"g{g}")
    return " ".join(parts)


def rf_text(row: Row) -> str:
    rf = row.get("rf")
    if rf is None:
        return "–"
    if rf["size"] in ("global", "unknown", "none"):  # none: fed by buffers or constants only
        text = {"global": "global", "unknown": "?", "none": "none"}[rf["size"]]
    else:
        text = f"{_dims(rf['size'])}/{_dims(rf['stride'])}"
    if not rf.get("aligned", True):
        text += " !aligned"
    if not rf.get("exact", True):
        text += " ~"
    return text


def _rf_part(key: str) -> Callable[[Row], Any]:
    def get(row: Row) -> Any:
        rf = row.get("rf")
        if rf is None:
            return ""
        v = rf.get(key)
        return "x".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)

    return get


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection: a leading quote
    before =, +, -, @, tab, carriage return or newline); numbers (int, float: -1.5 stays -1.5) and
    other values pass unchanged, a text "-1" is quoted. A carriage return inside a text becomes a
    newline: the csv module quotes a newline but not a lone CR with "\n" line ends, and a reader
    would split the row there."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def human(n: float, unit: str = "") -> str:
    """1,455,404,104 -> 1.46 G (SI prefixes; bytes use MB = 10^6 bytes)."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {prefix}{unit}"
    return f"{n:g} {unit}".strip()


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    text: Callable[[Row], str]  # for tables, Markdown and HTML
    value: Callable[[Row], Any]  # for CSV (raw numbers)
    numeric: bool = False
    unit: str = ""  # of `value`: "B" for bytes, "%"; "" for counts and text
    digits: int | None = None  # decimals of `text`, where it has a fixed number
    dtype: str | None = None  # pandas dtype of the DataFrame column (None: as `value` gives it)


def _num(key: str) -> tuple[Callable[[Row], str], Callable[[Row], Any]]:
    return (lambda r: f"{r.get(key, 0):,}"), (lambda r: r.get(key, 0))


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in [
        Column("name", "Layer", lambda r: r["name"], lambda r: r["name"]),
        Column(
            "op",
            "Type",
            lambda r: r["op"] if r.get("counted", True) else f"{r['source_op']} (uncounted)",
            lambda r: r["op"],
        ),
        Column("source_op", "Source op", lambda r: r["source_op"], lambda r: r["source_op"]),
        Column(
            "output_shape",
            "Output (C×H×W)",
            lambda r: chw(r["output_shape"]),
            lambda r: "x".join(map(str, r["output_shape"])),
        ),
        Column("kernel", "Kernel/stride/pad", kernel_text, lambda r: _dims(r.get("kernel"))),
        Column("stride", "Stride", lambda r: _dims(r.get("stride")), lambda r: _dims(r.get("stride"))),
        Column("padding", "Padding", lambda r: _dims(r.get("padding")), lambda r: _dims(r.get("padding"))),
        Column("dilation", "Dilation", lambda r: _dims(r.get("dilation")), lambda r: _dims(r.get("dilation"))),
        Column("groups", "Groups", lambda r: str(r.get("groups", "")), lambda r: r.get("groups", ""), dtype="Int64"),
        Column("rf", "RF size/stride", rf_text, rf_text),
        Column("rf_size", "RF size", lambda r: str(_rf_part("size")(r)), _rf_part("size")),
        Column("rf_stride", "RF stride", lambda r: str(_rf_part("stride")(r)), _rf_part("stride")),
        Column("rf_padding", "RF padding", lambda r: str(_rf_part("padding")(r)), _rf_part("padding")),
        Column("params", "Params", *_num("params"), numeric=True, dtype="Int64"),
        Column("trainable_params", "Trainable", *_num("trainable_params"), numeric=True, dtype="Int64"),
        Column("buffers", "Buffers", *_num("buffers"), numeric=True, dtype="Int64"),
        Column("macs", "MACs", *_num("macs"), numeric=True, dtype="Int64"),
        Column(
            "macs_pct",
            "% MACs",
            lambda r: f"{r.get('macs_pct', 0):.1f}",
            lambda r: r.get("macs_pct", 0),
            numeric=True,
            unit="%",
            digits=1,
            dtype="Float64",
        ),
        Column("flops", "FLOPs", *_num("flops"), numeric=True, dtype="Int64"),
        Column(
            "weight_bytes",
            "Weights",
            lambda r: human(r.get("weight_bytes", 0), "B"),
            lambda r: r.get("weight_bytes", 0),
            numeric=True,
            unit="B",
            dtype="Int64",
        ),
        Column(
            "activation_bytes",
            "Activation",
            lambda r: human(r.get("activation_bytes", 0), "B"),
            lambda r: r.get("activation_bytes", 0),
            numeric=True,
            unit="B",
            dtype="Int64",
        ),
        Column("formula", "Output size formula", lambda r: formula_text(r), lambda r: formula_text(r)),
        Column("stage", "Stage", lambda r: stage_text(r), lambda r: r.get("stage", "")),
        Column(
            "data_dependent", "Cost per", lambda r: r.get("data_dependent", ""), lambda r: r.get("data_dependent", "")
        ),
    ]
}


def stage_text(row: Row) -> str:
    """A detection model's stage; `*` marks a layer whose cost depends on the data (per proposal or box)."""
    stage = row.get("stage", "")
    return f"{stage} *{row['data_dependent']}" if stage and row.get("data_dependent") else stage


DEFAULT_COLUMNS = ("name", "op", "output_shape", "kernel", "rf", "params", "macs", "macs_pct", "activation_bytes")
CSV_COLUMNS = (
    "name",
    "op",
    "source_op",
    "output_shape",
    "kernel",
    "stride",
    "padding",
    "dilation",
    "groups",
    "rf_size",
    "rf_stride",
    "rf_padding",
    "params",
    "trainable_params",
    "buffers",
    "macs",
    "macs_pct",
    "flops",
    "weight_bytes",
    "activation_bytes",
    "formula",
)


def formula_text(row: Row) -> str:
    """One formula when every spatial axis has the same one (H = W), else 'H: ...; W: ...'."""
    f = row.get("formula") or []
    if not f:
        return ""
    if len(set(f)) == 1:
        return f[0]
    names = (
        ["H", "W"] if len(f) == 2 else ["D", "H", "W"][-len(f) :] if len(f) <= 3 else [str(i) for i in range(len(f))]
    )
    return "; ".join(f"{n}: {x}" for n, x in zip(names, f, strict=False))


def parse_columns(text: str | None, explain: bool = False) -> list[Column]:
    """Validate --columns up front (before a large model is loaded)."""
    keys = list(DEFAULT_COLUMNS) if not text else [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in COLUMNS]
    if unknown:
        raise UsageError(f"unknown column(s): {', '.join(unknown)}", f"choose from: {', '.join(COLUMNS)}")
    if explain and "formula" not in keys:
        keys.append("formula")
    return [COLUMNS[k] for k in keys]

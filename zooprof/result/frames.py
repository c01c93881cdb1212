"""ProfileResults as pandas DataFrames (`ProfileResult.layers_df()`, `summary_df()`).

pandas is optional (`pip install zooprof[pandas]`) and imported here only. Missing figures
are NA, never 0: an uncounted layer (an op without a rule) has NA MACs, FLOPs and % MACs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zooprof.errors import MissingDependencyError

if TYPE_CHECKING:
    from zooprof.result.document import ProfileResult

#: layers_df integer columns (nullable Int64, exact) and float columns (Float64)
INT_COLUMNS = ("groups", "params", "trainable_params", "buffers", "macs", "flops", "weight_bytes", "activation_bytes")
FLOAT_COLUMNS = ("macs_pct",)
UNCOUNTED_NA = ("macs", "flops", "macs_pct")
#: summary_df numeric columns (the rest are text or bool)
SUMMARY_INT = ("batch", "params", "macs")
SUMMARY_FLOAT = (
    "weights_mb",
    "peak_activation_mb",
    "latency_median_ms",
    "latency_p99_ms",
    "throughput_per_s",
    "energy_per_inference_mj",
    "achieved_gflops",
)


def pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependencyError(
            f"pandas is needed for DataFrames ({exc})", "pip install 'zooprof[pandas]'"
        ) from None
    return pd


def layers_df(result: ProfileResult) -> Any:
    """One row per layer; the CSV columns of docs/report-format.md plus `counted`."""
    from zooprof.compare.columns import COLUMNS, CSV_COLUMNS

    pd = pandas()
    records = []
    for row in result.layers:
        rec: dict[str, Any] = {}
        for key in CSV_COLUMNS:
            col = COLUMNS[key]
            if key in INT_COLUMNS or key in FLOAT_COLUMNS:
                value = row.get(key)
                rec[key] = None if value in (None, "") else value
            else:
                rec[key] = col.value(row)
        counted = row.get("counted", True)
        if not counted:
            for key in UNCOUNTED_NA:
                rec[key] = None
        rec["counted"] = bool(counted)
        records.append(rec)
    df = pd.DataFrame.from_records(records, columns=[*CSV_COLUMNS, "counted"])
    for key in INT_COLUMNS:
        df[key] = df[key].astype("Int64")
    for key in FLOAT_COLUMNS:
        df[key] = df[key].astype("Float64")
    df["counted"] = df["counted"].astype(bool)
    return df


def summary_df(result: ProfileResult, source: str | None = None) -> Any:
    """One row per runtime x batch (one "static" row without measurements): the compare rows."""
    from zooprof.compare.rows import CSV_KEYS, compare_rows

    pd = pandas()
    rows = compare_rows([result], [source or str(result.model.get("reference") or result.model.get("name"))])
    df = pd.DataFrame.from_records(rows, columns=list(CSV_KEYS))
    for key in SUMMARY_INT:
        values = pd.to_numeric(df[key])
        # MACs per call stay integers unless a batch does not divide the analysed one evenly
        integral = bool(values.dropna().apply(lambda v: float(v).is_integer()).all())
        df[key] = values.astype("Int64" if integral else "Float64")
    for key in SUMMARY_FLOAT:
        df[key] = pd.to_numeric(df[key]).astype("Float64")
    df["pareto"] = df["pareto"].astype(bool)
    return df

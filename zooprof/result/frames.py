"""ProfileResults as pandas DataFrames (`ProfileResult.layers_df()`, `summary_df()`).

pandas is optional (`pip install zooprof[pandas]`) and imported here only. The columns and their
dtypes are those of the column vocabularies (zooprof.result.columns for layers,
zooprof.result.summary for summary rows). Missing figures are NA, never 0: an uncounted layer
(an op without a rule) has NA MACs, FLOPs and % MACs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zooprof.errors import MissingDependencyError
from zooprof.result.columns import COLUMNS, CSV_COLUMNS
from zooprof.result.summary import CSV_KEYS, SUMMARY_COLUMNS, compare_rows

if TYPE_CHECKING:
    from zooprof.result.document import ProfileResult

#: layers_df columns that are NA, not 0, for an uncounted layer
UNCOUNTED_NA = ("macs", "flops", "macs_pct")


def pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependencyError(
            f"pandas is needed for DataFrames ({exc})", "pip install 'zooprof[pandas]'"
        ) from None
    return pd


def layers_df(result: ProfileResult) -> Any:
    """One row per layer; the CSV columns of docs/report-format.md plus `counted`. Numeric columns
    (those with a dtype) hold the row's figure as is: a figure the row lacks is NA."""
    pd = pandas()
    records = []
    for row in result.layers:
        rec: dict[str, Any] = {}
        for key in CSV_COLUMNS:
            col = COLUMNS[key]
            if col.dtype:
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
    for key in CSV_COLUMNS:
        if COLUMNS[key].dtype:
            df[key] = df[key].astype(COLUMNS[key].dtype)
    df["counted"] = df["counted"].astype(bool)
    return df


def summary_df(result: ProfileResult, source: str | None = None) -> Any:
    """One row per runtime x batch (one "static" row without measurements): the compare rows."""
    pd = pandas()
    rows = compare_rows([result], [source or str(result.model.get("reference") or result.model.get("name"))])
    df = pd.DataFrame.from_records(rows, columns=list(CSV_KEYS))
    for key in CSV_KEYS:
        dtype = SUMMARY_COLUMNS[key].dtype
        if dtype == "Int64":
            values = pd.to_numeric(df[key])
            # MACs per call stay integers unless a batch does not divide the analysed one evenly
            integral = bool(values.dropna().apply(lambda v: float(v).is_integer()).all())
            df[key] = values.astype("Int64" if integral else "Float64")
        elif dtype == "Float64":
            df[key] = pd.to_numeric(df[key]).astype("Float64")
        elif dtype == "bool":
            df[key] = df[key].astype(bool)
    return df

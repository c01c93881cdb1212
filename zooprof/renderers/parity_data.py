"""`zooprof compare-formats` as data: CSV (one row per format, raw figures) and JSON, from a `ParityReport`.

The JSON is `ParityReport.to_dict()` (its contract is in zooprof.compare.parity.model); the CSV
has the columns of CSV_FIELDS, empty where a format has no such figure.
"""

from __future__ import annotations

import csv
import io
import json

from zooprof.compare.parity.model import FormatRecord, ParamsFinding, ParityReport
from zooprof.renderers.escape import csv_record

#: CSV columns: one row per format, raw figures
CSV_FIELDS = (
    "format",
    "file",
    "reference",
    "status",
    "reason",
    "framework",
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
    "flops",
    "weight_bytes",
    "weight_dtypes",
    "float32_weight_bytes",
    "weight_bytes_ratio",
    "layers",
    "mac_layers",
    "coverage_percent",
    "batchnorm_layers",
    "batchnorm_channels",
    "quantize_layers",
    "dequantize_layers",
    "params_vs_baseline",
    "params_explanation",
    "latency_runtime",
    "latency_status",
    "latency_median_ms",
    "latency_reason",
)
CsvValue = str | int | float | bool | None


def csv_row(f: FormatRecord, finding: ParamsFinding | None) -> dict[str, CsvValue]:
    """One format's CSV row; `finding` is its params finding (None for the baseline)."""
    figs, lat = f.figures, f.latency
    row: dict[str, CsvValue] = {
        "format": f.column,
        "file": f.file,
        "reference": f.reference,
        "status": f.status,
        "reason": f.reason,
        "framework": f.framework,
    }
    if figs is not None:
        row.update(
            params=figs.params,
            trainable_params=figs.trainable_params,
            non_trainable_params=figs.non_trainable_params,
            buffers=figs.buffers,
            macs=figs.macs,
            flops=figs.flops,
            weight_bytes=figs.weight_bytes,
            float32_weight_bytes=figs.float32_weight_bytes,
            weight_bytes_ratio=figs.weight_bytes_ratio,
            layers=figs.layers,
            mac_layers=figs.mac_layers,
            coverage_percent=figs.coverage_percent,
            batchnorm_layers=figs.batchnorm.layers,
            batchnorm_channels=figs.batchnorm.channels,
            quantize_layers=figs.quantize_layers,
            dequantize_layers=figs.dequantize_layers,
        )
    row["weight_dtypes"] = ";".join(figs.weight_dtypes) if figs is not None else ""
    row["params_vs_baseline"] = finding.difference if finding else None
    row["params_explanation"] = finding.text if finding else None
    row.update(
        latency_runtime=lat.runtime if lat else None,
        latency_status=lat.status if lat else None,
        latency_median_ms=lat.median_ms if lat else None,
        latency_reason=lat.reason if lat else None,
    )
    return {k: row.get(k) for k in CSV_FIELDS}


def csv_rows(report: ParityReport) -> list[dict[str, CsvValue]]:
    """One row per format, keyed by CSV_FIELDS; None where the format has no such figure."""
    findings = {p.format: p for p in report.params_findings}
    return [csv_row(f, findings.get(f.column)) for f in report.formats]


def render_csv(report: ParityReport) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_FIELDS), lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow(csv_record({k: "" if v is None else v for k, v in row.items()}))
    return buf.getvalue()


def render_json(report: ParityReport) -> str:
    return json.dumps(report.to_dict(), indent=1) + "\n"

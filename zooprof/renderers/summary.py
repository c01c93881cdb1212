"""The totals lines under a layer table (console and Markdown share them)."""

from __future__ import annotations

from zooprof.columns import human
from zooprof.result import ProfileResult


def summary_lines(result: ProfileResult) -> list[str]:
    t = result.totals
    m = result.model
    cov = t["coverage"]
    lines = [
        f"Params: {t['params']:,} (trainable {t['trainable_params']:,}, non-trainable {t['non_trainable_params']:,}; "
        f"buffers {t['buffers']:,})",
        f"MACs: {t['macs']:,} ({human(t['macs'])}) of conv, dense and matmul layers, bias not counted",
        f"FLOPs: {t['flops']:,} ({human(t['flops'])}) = 2 x MACs + bias, normalisation, activation, pooling, "
        "element-wise ops",
        f"Weights: {human(t['weight_bytes'], 'B')} (parameters + buffers as stored); activations written: "
        f"{human(t['activation_bytes'], 'B')}; peak activation memory: {human(t['peak_activation_bytes'], 'B')}"
        + (f" at {t['peak_activation_layer']}" if t.get("peak_activation_layer") else ""),
        f"Coverage: {cov['percent']:.1f} % of layers counted ({cov['counted_layers']}/{cov['layers']})"
        + (f"; uncounted: {', '.join(f'{k} x{v}' for k, v in cov['uncounted_ops'].items())}"
           if cov["uncounted_ops"] else ""),
    ]
    if t.get("shape_mismatches"):
        lines.append(f"Shape check: {t['shape_mismatches']} layer(s) disagree with their rule (see shape_mismatch)")
    if t.get("rf_not_aligned"):
        lines.append(f"Receptive field: paths not aligned from {t['rf_not_aligned'][0]} on")
    checks = m.get("reference_check") or {}
    if checks:
        parts = []
        for key, c in checks.items():
            mark = "matches" if c["ok"] else f"DIFFERS (got {c['actual']:,})"
            parts.append(f"{key} {c['expected']:,} {mark}")
        lines.append("Reference: " + "; ".join(parts))
    method = m.get("trace_method", "")
    lines.append(f"Read with: {method}" + (f" ({'; '.join(m['notes'])})" if m.get("notes") else ""))
    return lines


def title(result: ProfileResult) -> str:
    m = result.model
    shapes = ", ".join("x".join(map(str, i["shape"])) for i in m.get("inputs", []))
    return f"{m['name']}  [{m['framework']}]  input {shapes}"

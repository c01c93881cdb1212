"""The text lines of one result's totals: its title, the totals under a layer table, and a
detection model's stages and data-dependent parts (console, Markdown, HTML and the notebook
fragment share them). Computes nothing: every figure is in `result.totals` or `result.model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zooprof.result.columns import human

if TYPE_CHECKING:
    from zooprof.result.document import ProfileResult


def summary_lines(result: ProfileResult) -> list[str]:
    t = result.totals
    m = result.model
    cov = t["coverage"]
    lines = [
        f"Params: {t['params']:,} (trainable {t['trainable_params']:,}, non-trainable {t['non_trainable_params']:,}; "
        f"buffers {t['buffers']:,})"
        + (f"; {not_in_trace_text(t['params_not_in_trace'])}" if t.get("params_not_in_trace") else ""),
        f"MACs: {t['macs']:,} ({human(t['macs'])}) of conv, dense and matmul layers, bias not counted"
        + ("; fixed cost only (data-dependent parts below)" if t.get("data_dependent") else ""),
        f"FLOPs: {t['flops']:,} ({human(t['flops'])}) = 2 x MACs + bias, normalisation, activation, pooling, "
        "element-wise ops",
        f"Weights: {human(t['weight_bytes'], 'B')} (parameters + buffers as stored); activations written: "
        f"{human(t['activation_bytes'], 'B')}; peak activation memory: {human(t['peak_activation_bytes'], 'B')}"
        + (f" at {t['peak_activation_layer']}" if t.get("peak_activation_layer") else ""),
        f"Coverage: {cov['percent']:.1f} % of layers counted ({cov['counted_layers']}/{cov['layers']})"
        + (
            f"; uncounted: {', '.join(f'{k} x{v}' for k, v in cov['uncounted_ops'].items())}"
            if cov["uncounted_ops"]
            else ""
        ),
    ]
    lines.extend(stage_lines(t))
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


def not_in_trace_text(n: dict[str, Any], most: int = 5) -> str:
    """'3,326,696 not in the trace (AuxLogits: 3,326,696)': stored tensors no layer uses, which
    the totals include and no layer row shows (docs/counting.md)."""
    parts = [
        f"{m['name']}: {m['params']:,}" if m["params"] else f"{m['name']}: {m['buffers']:,} buffer values"
        for m in n["modules"][:most]
    ]
    if len(n["modules"]) > most:
        parts.append(f"{len(n['modules']) - most} more")
    buffers = f" + {n['buffers']:,} buffer values" if n["buffers"] else ""
    return f"{n['params']:,}{buffers} not in the trace, in no layer row ({', '.join(parts)})"


#: post-processing attributes shown elsewhere in the line (counts) or too long for it
_NOT_CONFIG = ("function", "nms_calls", "boxes_into_nms", "boxes_kept_by_nms", "boxes_out")


def stage_lines(t: dict[str, Any]) -> list[str]:
    """Detection models: totals per stage, then each data-dependent part with its cost per
    unit and this run's count (docs/detection.md)."""
    lines = []
    if t.get("stages"):
        lines.append("Stages (params; fixed MACs; data-dependent MACs of this run):")
        width = max(len(s["stage"]) for s in t["stages"])
        for s in t["stages"]:
            extra = f"; + {s['data_dependent_macs']:,} data-dependent" if s["data_dependent_macs"] else ""
            uncounted = f"; {s['uncounted_layers']} uncounted" if s["uncounted_layers"] else ""
            lines.append(
                f"  {s['stage']:<{width}} {s['layers']:>4} layers  params {s['params']:>12,}  "
                f"MACs {s['macs']:>16,} ({human(s['macs'])}){extra}{uncounted}"
            )
    dd = t.get("data_dependent")
    if dd:
        lines.append("Data-dependent (cost per unit is the model's; counts are this run's, not in the totals):")
        for p in dd["parts"]:
            where = f"{p['name']} ({p['stage']})" if p.get("stage") else p["name"]
            lines.append(f"  {where}: {_part_text(p)}")
    return lines


def _part_text(p: dict[str, Any]) -> str:
    unit, count = p["unit"], p["count"]
    if p["counted"]:
        if p["macs_per_unit"] is None:
            return f"n/a per {unit} (no {unit} in this run); {count} {unit}s"
        return (
            f"{p['macs_per_unit']:,} MACs per {unit} x {count:,} {unit}s = {p['macs']:,} MACs "
            f"({p['flops_per_unit']:,} FLOPs per {unit})"
        )
    if unit != "box":  # a RoI head with a layer no rule costs
        per = "n/a" if p["macs_per_unit"] is None else f"{p['macs_per_unit']:,}"
        return (
            f"{per} MACs per {unit} (counted layers only) x {count} {unit}s; FLOPs not counted: {p['why_not_counted']}"
        )
    config = p.get("config", {})
    if "boxes_into_nms" in config:
        boxes = (
            f"{config['boxes_into_nms']:,} boxes into NMS ({config['nms_calls']} call(s)), {config['boxes_out']:,} out"
        )
    elif count is not None:
        boxes = f"{count:,} boxes out" + (
            " (no NMS ran: no candidate passed the score and size filters)"
            if "nms_thresh" in config and not count
            else ""
        )
    else:
        boxes = p.get("count_note", "boxes n/a")
    settings = ", ".join(f"{k} {_value(v)}" for k, v in config.items() if k not in _NOT_CONFIG)
    return f"{boxes}; 0 MACs, FLOPs not counted (depend on the boxes)" + (f"; {settings}" if settings else "")


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "x".join(_value(x) for x in v)
    return str(v)


def title(result: ProfileResult) -> str:
    m = result.model
    shapes = ", ".join("x".join(map(str, i["shape"])) for i in m.get("inputs", []))
    return f"{m['name']}  [{m['framework']}]  input {shapes}"

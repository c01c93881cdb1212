"""Static analysis: a model reference -> frontend -> analyses -> ProfileResult, cached (`inspect`).

Used by `zooprof inspect`, `zooprof.inspect`, and by `measure.profiling` before it measures."""

from __future__ import annotations

import time
from typing import Any

from zooprof.errors import UsageError
from zooprof.reference.resolve import ModelRef, parse_shape, resolve
from zooprof.result.document import ProfileResult


def _shapes(input_shape: Any) -> list[tuple[int, ...]] | None:
    if input_shape is None:
        return None
    if isinstance(input_shape, str):
        return parse_shape(input_shape)
    if isinstance(input_shape, tuple) and all(isinstance(d, int) for d in input_shape):
        return [input_shape]
    return [tuple(s) for s in input_shape]


def inspect(
    model: str, input_shape: Any = None, trust: bool = False, use_cache: bool = True, command: str | None = None
) -> ProfileResult:
    """Static analysis of `model` (any form `zooprof.reference.resolve` accepts) -> ProfileResult."""
    ref = resolve(model)
    shapes = _shapes(input_shape)
    key = None
    if use_cache:
        from zooprof.measure.cache_key import cache_key
        from zooprof.result import cache

        key = cache_key(ref, shapes, {"trust": trust})
        hit = cache.load(key)
        if hit is not None:
            hit.environment["cache"] = "hit"
            if command:
                hit.environment["command"] = command
            return hit
    result = _analyze(ref, shapes, trust, command)
    if key is not None:
        from zooprof.result import cache

        cache.store(key, result)
    result.environment["cache"] = "miss" if use_cache else "off"
    return result


def _analyze(ref: ModelRef, shapes: list[tuple[int, ...]] | None, trust: bool, command: str | None) -> ProfileResult:
    from zooprof.analysis import analyze
    from zooprof.ir.serialize import graph_to_dict

    started = time.perf_counter()
    if shapes:
        check_shape_rank(ref, shapes)
    from zooprof.frontends import ReadOptions
    from zooprof.frontends import read as read_model

    graph, shapes = read_model(ref, shapes, ReadOptions(trust=trust))
    analysis = analyze(graph)
    model = {
        "name": ref.name,
        "reference": ref.text,
        "source": ref.source,
        "kind": ref.kind,
        "framework": graph.framework,
        "task": ref.entry.task if ref.entry else None,
        "input_shape": list(shapes[0]) if shapes else None,
        "input_shapes": [list(s) for s in shapes] if shapes else None,
        "inputs": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in graph.inputs],
        "trace_method": graph.trace_method,
        "notes": list(graph.notes) + analysis.notes,  # how it was read, then figures a pass could not compute
        "reference_figures": ref.entry.reference if ref.entry else {},
    }
    from zooprof.measure.environment import environment as machine_environment

    environment = machine_environment(command)
    environment["analysis_seconds"] = round(time.perf_counter() - started, 4)
    if ref.entry is not None and ref.entry.reference:
        model["reference_check"] = reference_check(ref.entry.reference, analysis.layers, analysis.totals)
    return ProfileResult(model, analysis.totals, analysis.layers, environment, graph_to_dict(graph))


def reference_check(reference: dict[str, Any], layers: list[dict[str, Any]], totals: dict[str, Any]) -> dict[str, Any]:
    """Compare the analysis with a zoo entry's published figures (exact unless the source
    publishes a rounded value: `macs_rounded_to`)."""
    conv = [r for r in layers if r["op"] == "conv"]
    actual = {
        "params": totals["params"],
        "trainable_params": totals["trainable_params"],
        "macs": totals["macs"],
        "conv_params": sum(r["params"] for r in conv),
        "conv_macs": sum(r["macs"] for r in conv),
    }
    out = {}
    for key, value in actual.items():
        if key not in reference:
            continue
        expected = int(reference[key])
        tolerance = int(reference.get(f"{key}_rounded_to", 1)) / 2 if key == "macs" else 0
        out[key] = {"expected": expected, "actual": value, "ok": abs(value - expected) <= tolerance}
    return out


def check_shape_rank(ref: ModelRef, shapes: list[tuple[int, ...]]) -> None:
    if ref.entry is not None and ref.entry.task == "detection":
        from zooprof.reference.shapes import check_image_shapes

        check_image_shapes(ref.name, shapes)
        return
    if ref.input_shapes and len(shapes) == len(ref.input_shapes):
        for given, default in zip(shapes, ref.input_shapes, strict=True):
            if len(given) != len(default):
                want = "x".join(map(str, default))
                raise UsageError(
                    f"--input-shape has {len(given)} dimensions; {ref.name} takes {len(default)}",
                    f"e.g. --input-shape {want} (batch first)",
                )

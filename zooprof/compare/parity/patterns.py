"""Patterns of layers that a converter rewrites, found in one format's graph (compare-formats).

Each function reads the layer rows and the graph of a `ProfileResult` (the tensors each layer
reads and writes) and never the names a converter gives its tensors:

- `norm_regions`: the normalisations a converter wrote as element-wise ops. TFLite writes a
  Keras LayerNormalization as MEAN(x), SQUARED_DIFFERENCE(x, mean), MEAN, ADD(epsilon), RSQRT,
  MUL(gamma), then x * scale + (beta - mean * scale) (a NEG and a MUL when beta is dropped). A
  region starts at a MEAN whose output a SQUARED_DIFFERENCE reads together with the MEAN's own
  input, and takes the layers that read its values, in execution order, until exactly one of its
  tensors is read outside it and that tensor has the input's shape: the normalised output;
- `layernorm_stats` / `decomposed_norm_stats`: the LayerNorm layers, and those regions;
- `preprocessing_stats`: the element-wise ops with a constant (add, sub, mul, div reading one
  tensor) before the first layer with MACs: keras.applications' Rescaling and Normalization;
- `duplicate_stats`: layers that repeat an earlier layer (same op, attributes and inputs, no
  params, FLOPs > 0): NASNet applies the same ReLU and pools twice to one tensor; a converter
  computes them once;
- `shape_layers` / `group_stats`: the layers that compute on tensor shapes: from a layer that
  reads a tensor's shape (TFLite SHAPE), through the layers that read only such values (GATHER,
  REDUCE_PROD, PACK, CONCATENATION), up to the RESHAPE that uses them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from typing import Any

from zooprof.compare.parity.model import GroupStats, NormStats
from zooprof.result.document import ProfileResult

ELEMENTWISE = ("add", "sub", "mul", "div")


def numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def graph_layers(result: ProfileResult) -> list[dict[str, Any]]:
    """The graph's layers, one per row of `result.layers`; without a graph (a result saved
    without one), layers that read and write nothing, so that no pattern is found."""
    glayers = (result.graph or {}).get("layers") or []
    return glayers if len(glayers) == len(result.layers) else [{} for _ in result.layers]


def layer_params(glayer: dict[str, Any]) -> int:
    """The parameter values (buffers aside) one layer reads, counted for this layer even when
    another layer reads them too (the comparison adds shared values back)."""
    return sum(numel(p["shape"]) for p in glayer.get("params", []) if p.get("kind") != "buffer")


def source_family(source_op: Any) -> str:
    """'Normalization' for 'Normalization (subtract mean)': the source op without its detail."""
    return str(source_op).split(" (")[0]


def producers(glayers: list[dict[str, Any]]) -> dict[str, int]:
    return {t["name"]: i for i, gl in enumerate(glayers) for t in gl.get("outputs", [])}


def consumers(glayers: list[dict[str, Any]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, gl in enumerate(glayers):
        for t in gl.get("inputs", []):
            out.setdefault(t["name"], []).append(i)
    return out


def _region(start: int, shape: list[int], glayers: list[dict[str, Any]], readers: dict[str, list[int]]) -> set[int]:
    """The layers from `start` (the MEAN) to the normalised output, or an empty set."""
    region = {start}
    written = {t["name"] for t in glayers[start]["outputs"]}
    for k in range(start + 1, len(glayers)):
        if not any(t["name"] in written for t in glayers[k].get("inputs", [])):
            continue
        region.add(k)
        written |= {t["name"] for t in glayers[k]["outputs"]}
        outside = [n for n in written if not readers.get(n) or any(j not in region for j in readers[n])]
        last = {t["name"]: t for t in glayers[k]["outputs"]}
        if len(outside) == 1 and outside[0] in last and list(last[outside[0]]["shape"]) == list(shape):
            return region
    return set()


def norm_regions(result: ProfileResult) -> list[set[int]]:
    """The layer indices of each normalisation written as element-wise ops (module docstring)."""
    rows, glayers = result.layers, graph_layers(result)
    made, readers = producers(glayers), consumers(glayers)
    regions = []
    for i, row in enumerate(rows):
        inputs = glayers[i].get("inputs", [])
        if row["op"] != "squared_difference" or len(inputs) != 2:
            continue
        for m, x in ((inputs[1], inputs[0]), (inputs[0], inputs[1])):
            j = made.get(m["name"])
            if j is None or rows[j]["op"] != "mean" or [t["name"] for t in glayers[j]["inputs"]] != [x["name"]]:
                continue
            region = _region(j, x["shape"], glayers, readers)
            if i in region:
                regions.append(region)
            break
    return regions


def layernorm_stats(result: ProfileResult) -> NormStats:
    """The LayerNormalization layers: channels from the normalised axes (logical order)."""
    out: Counter[str] = Counter()
    for row, gl in zip(result.layers, graph_layers(result), strict=True):
        if row["op"] != "layernorm":
            continue
        shape = row["output_shape"]
        axes = (gl.get("attrs") or {}).get("axis")
        axes = axes if isinstance(axes, (list, tuple)) else [axes if axes is not None else -1]
        out["norms"] += 1
        out["layers"] += 1
        out["channels"] += numel([shape[int(a) % len(shape)] for a in axes]) if shape else 0
        out["params"] += layer_params(gl) if gl.get("params") is not None else int(row["params"])
        out["flops"] += int(row["flops"])
    return NormStats(**out)


def decomposed_norm_stats(result: ProfileResult, regions: list[set[int]]) -> NormStats:
    """The normalisations written as element-wise ops: channels are the size of the axes the first
    MEAN reduces (the values its output lacks)."""
    rows, glayers = result.layers, graph_layers(result)
    out: Counter[str] = Counter()
    for region in regions:
        first = min(region)
        x = glayers[first]["inputs"][0]["shape"]
        out["norms"] += 1
        out["layers"] += len(region)
        out["channels"] += numel(x) // max(numel(rows[first]["output_shape"]), 1)
        out["params"] += sum(layer_params(glayers[k]) for k in region)
        out["flops"] += sum(int(rows[k]["flops"]) for k in region)
    return NormStats(**out)


def preprocessing_stats(result: ProfileResult, skip: set[int]) -> GroupStats:
    """Element-wise ops with a constant before the first layer with MACs: every layer whose
    inputs come from the graph's inputs through layers without MACs (layers in `skip` aside)."""
    rows, glayers = result.layers, graph_layers(result)
    made = producers(glayers)
    before: set[int] = set()
    for i, (row, gl) in enumerate(zip(rows, glayers, strict=True)):
        if row["macs"] > 0:
            continue
        if all(made.get(t["name"]) is None or made[t["name"]] in before for t in gl.get("inputs", [])):
            before.add(i)
    picked = {
        i
        for i in before - skip
        if rows[i]["op"] in ELEMENTWISE and len(glayers[i].get("inputs", [])) == 1 and rows[i]["counted"]
    }
    return group_stats(result, picked)


def duplicate_stats(result: ProfileResult, skip: set[int]) -> GroupStats:
    """Layers with FLOPs that repeat an earlier layer: the same op and attributes on the same
    inputs, with no params (a layer with weights is never a repeat)."""
    rows, glayers = result.layers, graph_layers(result)
    seen: set[str] = set()
    picked: set[int] = set()
    for i, (row, gl) in enumerate(zip(rows, glayers, strict=True)):
        if i in skip or gl.get("params") or not gl.get("inputs") or not row["counted"] or row["flops"] <= 0:
            continue
        key = json.dumps(
            [row["op"], [t["name"] for t in gl["inputs"]], gl.get("attrs") or {}], sort_keys=True, default=str
        )
        if key in seen:
            picked.add(i)
        seen.add(key)
    stats = group_stats(result, picked)
    return replace(stats, sources=dict(Counter(rows[i]["op"] for i in sorted(picked))))


def shape_layers(result: ProfileResult) -> set[int]:
    """The layers that compute on tensor shapes (module docstring)."""
    glayers = graph_layers(result)
    made = producers(glayers)
    out: set[int] = set()
    for i, gl in enumerate(glayers):
        inputs = gl.get("inputs") or []
        if (gl.get("attrs") or {}).get("shape_of") or (inputs and all(made.get(t["name"]) in out for t in inputs)):
            out.add(i)
    return out


def group_stats(result: ProfileResult, picked: set[int]) -> GroupStats:
    """How many layers, their params (counted per use), FLOPs and source ops."""
    rows, glayers = result.layers, graph_layers(result)
    return GroupStats(
        layers=len(picked),
        params=sum(layer_params(glayers[i]) for i in picked),
        flops=sum(int(rows[i]["flops"]) for i in picked),
        sources=dict(Counter(source_family(rows[i]["source_op"]) for i in sorted(picked))),
    )

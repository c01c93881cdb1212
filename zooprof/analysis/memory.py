"""Activation memory: bytes each layer writes, and the peak by tensor liveness.

Convention: run the layers in graph order; a buffer is allocated when its layer runs and
freed after its last reader. Views and in-place ops (see OpKind.VIEW_OPS, Layer.inplace)
share their input's buffer, unless the frontend marks a view kind as a copy in its format
(attribute COPIES_ATTR: ONNX Transpose, Expand, Slice...), which gets a buffer of its own.
The graph inputs are live from the start and the graph outputs until the end. Weights are
not activations and are reported separately (weight_bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

from zooprof.ir.graph import Graph
from zooprof.ir.ops import COPIES_ATTR, VIEW_OPS


@dataclass(frozen=True)
class MemoryResult:
    activation_bytes: list[int]  # bytes of each layer's outputs (0 for views/in-place)
    live_bytes: list[int]  # bytes live while each layer runs
    peak_bytes: int
    peak_layer: str | None


def analyze_memory(graph: Graph) -> MemoryResult:
    storage_of: dict[str, str] = {}  # tensor name -> buffer id
    size: dict[str, int] = {}  # buffer id -> bytes
    born: dict[str, int] = {}  # buffer id -> step allocated
    last: dict[str, int] = {}  # buffer id -> last step read
    for t in graph.inputs:
        storage_of[t.name] = t.name
        size[t.name] = t.nbytes
        born[t.name] = 0
        last[t.name] = 0
    written: list[int] = []
    for step, layer in enumerate(graph.layers):
        for t in layer.inputs:
            buf = storage_of.get(t.name)
            if buf is not None:
                last[buf] = max(last[buf], step)
        view = layer.op in VIEW_OPS and not layer.attrs.get(COPIES_ATTR)
        aliasing = (view or layer.inplace) and layer.inputs and layer.inputs[0].name in storage_of
        nbytes = 0
        for i, t in enumerate(layer.outputs):
            if aliasing and i == 0:
                storage_of[t.name] = storage_of[layer.inputs[0].name]
                continue
            storage_of[t.name] = t.name
            size[t.name] = t.nbytes
            born[t.name] = step
            last[t.name] = step
            nbytes += t.nbytes
        written.append(nbytes)
    end = len(graph.layers)
    for name in graph.outputs:
        if name in storage_of:
            last[storage_of[name]] = end
    live = [0] * max(end, 1)
    for buf, b in size.items():
        for step in range(born[buf], min(last[buf], end - 1) + 1 if end else 1):
            live[step] += b
    peak = max(live) if live else 0
    peak_layer = graph.layers[live.index(peak)].name if graph.layers else None
    return MemoryResult(written, live, peak, peak_layer)

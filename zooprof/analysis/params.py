"""Parameters per layer, split into trainable, non-trainable and buffers; weight bytes; and the
model's stored tensors that no layer uses (`params_not_in_trace`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zooprof.ir.graph import Graph


@dataclass(frozen=True)
class ParamCount:
    trainable: int = 0
    non_trainable: int = 0
    buffers: int = 0
    weight_bytes: int = 0
    shared: tuple[str, ...] = ()

    @property
    def params(self) -> int:
        """Parameters (trainable + non-trainable), buffers excluded, as torchvision counts."""
        return self.trainable + self.non_trainable


def analyze_params(graph: Graph) -> list[ParamCount]:
    """A tensor used by several layers (a reused module, tied weights) counts at its first use
    only; later uses list it as shared, so per-layer sums equal the model's totals."""
    seen: set[str] = set()
    out = []
    for layer in graph.layers:
        counts = {"trainable": 0, "non_trainable": 0, "buffer": 0}
        nbytes = 0
        shared = []
        for p in layer.params:
            if p.name in seen:
                shared.append(p.name)
                continue
            seen.add(p.name)
            counts[p.kind] += p.numel
            nbytes += p.nbytes
        out.append(ParamCount(counts["trainable"], counts["non_trainable"], counts["buffer"], nbytes, tuple(shared)))
    return out


def params_not_in_trace(graph: Graph) -> dict[str, Any] | None:
    """The model's stored tensors that no layer uses (`Graph.params_not_in_trace`), counted as the
    layers count theirs, with where they sit: the outermost module all of whose tensors are unused
    (inception_v3: "AuxLogits"), else the tensor's own name, largest first. None when every tensor is
    in a layer."""
    unused = graph.params_not_in_trace
    if not unused:
        return None
    used_prefixes: set[str] = set()
    for layer in graph.layers:
        for p in layer.params:
            parts = p.name.split(".")
            used_prefixes.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    counts = {"trainable": 0, "non_trainable": 0, "buffer": 0}
    nbytes = 0
    modules: dict[str, dict[str, int]] = {}
    for p in unused:
        counts[p.kind] += p.numel
        nbytes += p.nbytes
        parts = p.name.split(".")
        where = next(
            (".".join(parts[:k]) for k in range(1, len(parts)) if ".".join(parts[:k]) not in used_prefixes), p.name
        )
        entry = modules.setdefault(where, {"params": 0, "buffers": 0})
        entry["buffers" if p.kind == "buffer" else "params"] += p.numel
    return {
        "params": counts["trainable"] + counts["non_trainable"],
        "trainable_params": counts["trainable"],
        "non_trainable_params": counts["non_trainable"],
        "buffers": counts["buffer"],
        "weight_bytes": nbytes,
        "modules": [  # largest first
            {"name": k, **v} for k, v in sorted(modules.items(), key=lambda kv: (-kv[1]["params"], -kv[1]["buffers"]))
        ],
    }

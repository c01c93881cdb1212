"""Parameters per layer, split into trainable, non-trainable and buffers; weight bytes."""

from __future__ import annotations

from dataclasses import dataclass

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

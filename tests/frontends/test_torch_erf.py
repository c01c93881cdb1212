"""torch.erf / aten.erf (GELU written out by hand, as BERT-style code does) is the existing op
`erf` (the ONNX frontend's Erf): counted, one FLOP per element (zooprof/rules/activation.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from zooprof.analysis import analyze  # noqa: E402
from zooprof.frontends.torch import read as frontend  # noqa: E402
from zooprof.frontends.torch.dispatch import trace_dispatch  # noqa: E402


class ErfGelu(nn.Module):
    """GELU by its definition: x * 0.5 * (1 + erf(x / sqrt(2)))."""

    def forward(self, x: Any) -> Any:
        return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


@pytest.mark.parametrize("path", ["fx", "hooks+dispatch"])
def test_erf_is_a_counted_op(path: str) -> None:
    model = frontend.build_module(ErfGelu)
    shape = (2, 3, 5)
    if path == "fx":
        graph = frontend.graph_from_module(model, [shape], "erf")
    else:
        graph = trace_dispatch(model, frontend.meta_inputs([shape]), "erf", path, [])
    a = analyze(graph)
    erf = [r for r in a.layers if r["op"] == "erf"]
    assert len(erf) == 1 and erf[0]["counted"] and erf[0]["flops"] == 2 * 3 * 5  # one transcendental each
    assert a.totals["coverage"]["percent"] == 100.0

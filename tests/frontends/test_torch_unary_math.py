"""Unary math and prod written out in PyTorch code (an RMSNorm by hand: x * rsqrt(mean(x^2) + eps),
a negated input, a geometric mean by prod and sqrt) read as the IR ops the ONNX and TFLite
frontends give them (neg, sqrt, rsqrt, prod): counted, by hand per docs/counting.md (one FLOP per
element; a reduction one per element it reads), on both PyTorch paths."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from zooprof.analysis import analyze  # noqa: E402
from zooprof.frontends.torch import read as frontend  # noqa: E402
from zooprof.frontends.torch.dispatch import trace_dispatch  # noqa: E402


class HandMath(nn.Module):
    def forward(self, x: Any) -> Any:
        rms = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)  # pow stays unmapped: flagged
        geo = torch.sqrt(x.abs().prod(dim=-1, keepdim=True))
        return -rms + geo


@pytest.mark.parametrize("path", ["fx", "hooks+dispatch"])
def test_neg_sqrt_rsqrt_prod_are_counted(path: str) -> None:
    model = frontend.build_module(HandMath)
    shape = (2, 3, 8)
    if path == "fx":
        graph = frontend.graph_from_module(model, [shape], "hand-math")
    else:
        graph = trace_dispatch(model, frontend.meta_inputs([shape]), "hand-math", path, [])
    a = analyze(graph)
    by_op: dict[str, list[dict[str, Any]]] = {}
    for layer in a.layers:
        by_op.setdefault(layer["op"], []).append(layer)
    rows = 2 * 3  # positions; each holds 8 values
    (rsqrt,) = by_op["rsqrt"]
    assert rsqrt["counted"] and rsqrt["flops"] == rows and rsqrt["output_shape"][-1] == 1
    (sqrt,) = by_op["sqrt"]
    assert sqrt["counted"] and sqrt["flops"] == rows
    (neg,) = by_op["neg"]
    assert neg["counted"] and neg["flops"] == rows * 8
    (prod,) = by_op["prod"]
    assert prod["counted"] and prod["flops"] == rows * 8 and prod["output_shape"][-1] == 1
    assert all(layer["counted"] for op in ("neg", "sqrt", "rsqrt", "prod") for layer in by_op[op])

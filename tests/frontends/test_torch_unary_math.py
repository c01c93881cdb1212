"""Unary math written out in PyTorch code, read as the IR ops the ONNX and TFLite frontends give
it, on both PyTorch paths: torch.erf / aten.erf (GELU written out by hand, as BERT-style code
does) is `erf`, one FLOP per element (zooprof/rules/activation.py); neg (`-x`), sqrt, rsqrt and
prod (an RMSNorm by hand, x * rsqrt(mean(x^2) + eps); a geometric mean) are counted by hand per
docs/counting.md (one FLOP per element; a reduction one per element it reads)."""

from __future__ import annotations

import math
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from tests.helpers import torch_graph  # noqa: E402
from zooprof.analysis import analyze  # noqa: E402
from zooprof.frontends.torch import read as frontend  # noqa: E402


class ErfGelu(nn.Module):
    """GELU by its definition: x * 0.5 * (1 + erf(x / sqrt(2)))."""

    def forward(self, x: Any) -> Any:
        return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


@pytest.mark.parametrize("path", ["fx", "hooks+dispatch"])
def test_erf_is_a_counted_op(path: str) -> None:
    model = frontend.build_module(ErfGelu)
    shape = (2, 3, 5)
    graph = torch_graph(model, [shape], "erf", path)
    a = analyze(graph)
    erf = [r for r in a.layers if r["op"] == "erf"]
    assert len(erf) == 1 and erf[0]["counted"] and erf[0]["flops"] == 2 * 3 * 5  # one transcendental each
    assert a.totals["coverage"]["percent"] == 100.0


class HandMath(nn.Module):
    def forward(self, x: Any) -> Any:
        rms = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)  # pow stays unmapped: flagged
        geo = torch.sqrt(x.abs().prod(dim=-1, keepdim=True))
        return -rms + geo


@pytest.mark.parametrize("path", ["fx", "hooks+dispatch"])
def test_neg_sqrt_rsqrt_prod_are_counted(path: str) -> None:
    model = frontend.build_module(HandMath)
    shape = (2, 3, 8)
    graph = torch_graph(model, [shape], "hand-math", path)
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

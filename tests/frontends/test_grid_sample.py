"""grid_sample (RAFT's correlation lookup, spatial transformers) read from PyTorch (F.grid_sample,
aten.grid_sampler_2d) and ONNX (GridSample, opsets 16 and 20): input N x C x H x W sampled at a
grid N x H_out x W_out x 2 gives N x C x H_out x W_out. By hand (docs/counting.md): no MACs;
bilinear 7 FLOPs per output element (4 neighbours weighed: 4 multiplies, 3 adds), nearest 0;
the receptive field is unknown after it (the positions are data); bicubic and volumes are
flagged, not counted."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from tests.helpers import torch_graph  # noqa: E402
from zooprof.analysis import analyze  # noqa: E402
from zooprof.frontends.torch import read as frontend  # noqa: E402

IMAGE, GRID = (2, 5, 16, 12), (2, 7, 9, 2)
OUT = (2, 5, 7, 9)
ELEMENTS = 2 * 5 * 7 * 9


class Sampler(nn.Module):
    """A conv (so the receptive field is known before the sampling), then three samplings of its
    output at a grid made from the second input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(5, 5, 3, padding=1)

    def forward(self, x: Any, grid: Any) -> Any:
        y = self.conv(x)
        bilinear = F.grid_sample(y, grid, mode="bilinear", align_corners=False)
        nearest = F.grid_sample(y, grid, mode="nearest", align_corners=True)
        bicubic = F.grid_sample(y, grid, mode="bicubic", align_corners=False)
        return bilinear + nearest + bicubic


def rows_of(a: Any, op: str) -> list[dict[str, Any]]:
    return [r for r in a.layers if r["op"] == op]


@pytest.mark.parametrize("path", ["fx", "hooks+dispatch"])
def test_torch_grid_sample(path: str) -> None:
    model = frontend.build_module(Sampler)
    graph = torch_graph(model, [IMAGE, GRID], "sampler", path)
    a = analyze(graph)
    sampled = rows_of(a, "grid_sample")
    assert len(sampled) == 2  # bilinear and nearest; bicubic has no rule
    assert sorted(r["flops"] for r in sampled) == [0, 7 * ELEMENTS]
    for r in sampled:
        assert r["counted"] and r["macs"] == 0 and tuple(r["output_shape"]) == OUT
        assert r["rf"]["size"] == "unknown"
    (bicubic,) = [r for r in a.layers if not r["counted"]]
    assert bicubic["op"] == "unknown" and "grid_sample" in bicubic["source_op"]
    layer = next(lay for lay in graph.layers if lay.name == bicubic["name"])
    assert layer.attrs.get("unmapped") == "grid_sample mode bicubic"


def test_onnx_grid_sample_by_hand(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from zooprof.frontends.onnx.read import read_onnx

    def model(opset: int, modes: list[str], image: tuple[int, ...], grid: tuple[int, ...]) -> Path:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(image))
        g = helper.make_tensor_value_info("g", TensorProto.FLOAT, list(grid))
        nodes = [helper.make_node("GridSample", ["x", "g"], [m], mode=m, name=m) for m in modes]
        outputs = [helper.make_tensor_value_info(m, TensorProto.FLOAT, None) for m in modes]
        path = tmp_path / f"grid{opset}.onnx"
        opsets = [helper.make_opsetid("", opset)]
        onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x, g], outputs), opset_imports=opsets), str(path))
        return path

    for opset, modes in ((16, ["bilinear", "nearest", "bicubic"]), (20, ["linear", "nearest", "cubic"])):
        graph, _ = read_onnx(model(opset, modes, IMAGE, GRID), None)
        rows = {r["name"]: r for r in analyze(graph).layers}
        linear, nearest, cubic = (rows[m] for m in modes)
        assert (linear["op"], linear["flops"], linear["macs"]) == ("grid_sample", 7 * ELEMENTS, 0)
        assert (nearest["op"], nearest["flops"]) == ("grid_sample", 0)
        assert tuple(linear["output_shape"]) == tuple(nearest["output_shape"]) == OUT
        assert not cubic["counted"]
    # opset 20 samples volumes too: no rule, flagged
    graph, _ = read_onnx(model(20, ["linear"], (1, 2, 4, 5, 6), (1, 3, 3, 3, 3)), None)
    assert not analyze(graph).layers[0]["counted"]


@pytest.mark.slow
def test_exported_grid_sample_costs_what_the_torch_read_does(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from zooprof.frontends.onnx.read import read_onnx

    class Bilinear(nn.Module):
        def forward(self, x: Any, grid: Any) -> Any:
            return F.grid_sample(x, grid, mode="bilinear", align_corners=False)

    path = tmp_path / "bilinear.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Bilinear(), (torch.zeros(IMAGE), torch.zeros(GRID)), str(path), dynamo=False, opset_version=16
        )
    graph, _ = read_onnx(path, None)
    (row,) = analyze(graph).layers
    fx = analyze(frontend.graph_from_module(frontend.build_module(Bilinear), [IMAGE, GRID], "b"))
    (torch_row,) = rows_of(fx, "grid_sample")
    assert row["source_op"] == "GridSample" and row["flops"] == torch_row["flops"] == 7 * ELEMENTS

"""PyTorch frontend: functional ops as layers, the hooks fallback, TorchScript and torch.export files."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from zooprof.analysis import analyze  # noqa: E402
from zooprof.errors import ModelShapeError, UsageError  # noqa: E402
from zooprof.frontends.torch import read as frontend  # noqa: E402
from zooprof.ir.ops import OpKind  # noqa: E402


class Functional(nn.Module):
    """Every functional op the issue names: residual add, cat, flatten, mean, matmul, reshape."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.conv(x) + x  # residual add
        z = torch.cat([y, x], dim=1)  # 8 channels
        m = z.mean(dim=(2, 3))  # global mean -> (N, 8)
        r = torch.flatten(z, 1).reshape(z.shape[0], 8, -1)
        g = torch.matmul(r, r.transpose(1, 2))  # (N, 8, 8)
        return self.fc(m) + g.sum()


class DataDependent(nn.Module):
    """Python control flow on a tensor value: symbolic tracing cannot follow it."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3)
        self.b = nn.Linear(8, 2)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = torch.relu(self.a(x))
        if y.shape[-1] > 2 and y.sum() is not None:  # bool() of a Proxy fails under fx
            y = y * 2
        return self.b(y.mean(dim=(2, 3)))


def ops(graph) -> list[OpKind]:  # type: ignore[no-untyped-def]
    return [layer.op for layer in graph.layers]


def test_functional_ops_are_layers() -> None:
    g = frontend.graph_from_module(frontend.build_module(Functional), [(2, 4, 6, 6)], "functional")
    kinds = ops(g)
    assert g.trace_method == "fx"
    for kind in (
        OpKind.ADD,
        OpKind.CONCAT,
        OpKind.MEAN,
        OpKind.FLATTEN,
        OpKind.RESHAPE,
        OpKind.MATMUL,
        OpKind.PERMUTE,
        OpKind.SUM,
    ):
        assert kind in kinds, kind
    a = analyze(g)
    mm = next(r for r in a.layers if r["op"] == "matmul")
    assert mm["macs"] == 2 * 8 * 8 * 36  # (2, 8, 36) @ (2, 36, 8)
    add = next(r for r in a.layers if r["op"] == "add")
    assert add["output_shape"] == [2, 4, 6, 6]
    assert a.totals["params"] == 4 * 4 * 9 + 4 + 8 * 3 + 3
    assert a.totals["coverage"]["percent"] == 100.0


def test_untraceable_model_falls_back_to_hooks() -> None:
    g = frontend.graph_from_module(frontend.build_module(DataDependent), [(1, 3, 8, 8)], "dd")
    assert g.trace_method == "hooks+dispatch"
    assert "symbolic tracing failed" in g.notes[0]
    names = [layer.name for layer in g.layers]
    assert names[0] == "a" and "b" in names
    a = analyze(g)
    assert a.totals["params"] == 3 * 8 * 9 + 8 + 8 * 2 + 2
    assert a.totals["macs"] == 8 * 6 * 6 * 27 + 16
    assert OpKind.MUL in ops(g) and OpKind.RELU in ops(g)


@pytest.mark.slow
def test_torchscript_and_export_files(tmp_path: Path) -> None:
    import torchvision

    model = torchvision.models.resnet18().eval()
    x = torch.zeros(1, 3, 64, 64)
    ts_path = tmp_path / "r18.pt"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(model, x).save(str(ts_path))
    ep_path = tmp_path / "r18.pt2"
    torch.export.save(torch.export.export(model, (x,)), str(ep_path))

    ref = analyze(frontend.graph_from_module(frontend.build_module(torchvision.models.resnet18), [(1, 3, 64, 64)], "r"))
    for path, method in ((ts_path, "torchscript+dispatch"), (ep_path, "export+fx")):
        g, shapes = frontend.graph_from_file(path, [(1, 3, 64, 64)] if path == ts_path else None, trust=False)
        assert g.trace_method == method
        assert shapes == [(1, 3, 64, 64)]
        a = analyze(g)
        assert a.totals["params"] == ref.totals["params"] == 11_689_512
        assert a.totals["macs"] == ref.totals["macs"]
        assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]
        assert sum(1 for r in a.layers if r["op"] == "add") == 8


def test_pickled_model_needs_trust(tmp_path: Path) -> None:
    path = tmp_path / "m.pth"
    torch.save(nn.Sequential(nn.Linear(4, 2)), str(path))
    with pytest.raises(UsageError, match="pickled"):
        frontend.graph_from_file(path, [(1, 4)], trust=False)
    g, _ = frontend.graph_from_file(path, [(1, 4)], trust=True)
    assert analyze(g).totals["params"] == 10


def test_too_small_input_names_the_layer() -> None:
    import torchvision

    model = frontend.build_module(torchvision.models.alexnet)
    with pytest.raises(ModelShapeError) as err:
        frontend.graph_from_module(model, [(1, 3, 32, 32)], "alexnet")
    assert "features.12" in str(err.value) and "32x32" in str(err.value)


def test_op_without_rule_is_flagged_not_zero() -> None:
    def build() -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Upsample(scale_factor=2), nn.Conv2d(4, 4, 3))

    g = frontend.graph_from_module(frontend.build_module(build), [(1, 3, 8, 8)], "up")
    a = analyze(g)
    up = a.layers[1]
    assert up["counted"] is False and up["source_op"] == "Upsample"
    assert a.totals["coverage"]["uncounted_ops"] == {"Upsample": 1}
    assert a.totals["coverage"]["percent"] == pytest.approx(66.67)
    assert a.layers[2]["rf"]["size"] == "unknown"
    assert a.layers[2]["macs"] == 4 * 14 * 14 * 4 * 9  # known layers after it are still counted


class Spectral(nn.Module):
    """Complex intermediate tensors (torch.fft): sized by their dtype, uncounted ops flagged."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):  # type: ignore[no-untyped-def]
        import torch

        return self.fc(torch.fft.rfft(x).abs()[..., :16])


def test_complex_tensors_are_sized_not_an_internal_error() -> None:
    g = frontend.graph_from_module(frontend.build_module(Spectral), [(1, 32)], "spectral")
    a = analyze(g)
    rows = {r["name"]: r for r in a.layers}
    fft = next(r for name, r in rows.items() if name.startswith("fft"))
    assert fft["output_shape"][-1] == 17 and fft["activation_bytes"] == 17 * 8  # complex64: 8 bytes
    assert not fft["counted"] and a.totals["macs"] == 64

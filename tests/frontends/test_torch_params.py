"""PyTorch frontend: params and buffers are the module's (every registered tensor once, shared or
not, used by the trace or not), with what no layer uses reported as `params_not_in_trace`; ops that
are the identity at inference (dropout variants, stochastic depth) are counted layers of 0 cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402, N812
from torch import nn  # noqa: E402

from zooprof.analysis import analyze  # noqa: E402
from zooprof.frontends.torch import read as frontend  # noqa: E402
from zooprof.frontends.torch.dispatch import trace_dispatch  # noqa: E402
from zooprof.frontends.torch.fx_trace import trace_fx  # noqa: E402
from zooprof.ir.graph import Graph  # noqa: E402
from zooprof.ir.ops import OpKind  # noqa: E402
from zooprof.ir.serialize import graph_from_dict, graph_to_dict  # noqa: E402

STORED_KEYS = ("params", "trainable_params", "non_trainable_params", "buffers", "weight_bytes")


class Partial(nn.Module):
    """An auxiliary head forward never calls, a Linear whose weight is tied to a used one, a root
    parameter and a registered buffer nothing reads, and a projection called twice."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.aux = nn.Sequential(nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4))  # like inception_v3's AuxLogits
        self.proj = nn.Linear(8, 8, bias=False)
        self.fc = nn.Linear(8, 10)
        self.aux_fc = nn.Linear(8, 10)
        self.aux_fc.weight = self.fc.weight  # shared with a used layer: counted once, at fc
        self.scale = nn.Parameter(torch.ones(3))
        self.register_buffer("table", torch.zeros(7))

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.bn(self.stem(x)).mean(dim=(2, 3))
        return self.fc(self.proj(self.proj(y)))


def module_figures(model: nn.Module) -> dict[str, int]:
    """The reference: torch's own view of the module (parameters() and buffers() list each tensor once)."""
    params, buffers = list(model.parameters()), list(model.buffers())
    return {
        "params": sum(p.numel() for p in params),
        "trainable_params": sum(p.numel() for p in params if p.requires_grad),
        "non_trainable_params": sum(p.numel() for p in params if not p.requires_grad),
        "buffers": sum(b.numel() for b in buffers),
        "weight_bytes": sum(t.numel() * t.element_size() for t in params + buffers),
    }


def read(model: nn.Module, shape: tuple[int, ...], path: str) -> Graph:
    inputs = [torch.empty(shape, device="meta")]
    if path == "fx":
        return trace_fx(model, inputs, "m")
    return trace_dispatch(model, inputs, "m", "hooks+dispatch", [])


def assert_sums(a: Any) -> None:
    """Per-layer sums + params_not_in_trace = totals, for every stored-tensor key."""
    outside = a.totals.get("params_not_in_trace") or {}
    for key in STORED_KEYS:
        assert sum(r[key] for r in a.layers) + outside.get(key, 0) == a.totals[key], key


@pytest.mark.parametrize("path", ["fx", "dispatch"])
def test_totals_are_the_modules_parameters(path: str) -> None:
    model = frontend.build_module(Partial)
    a = analyze(read(model, (1, 3, 8, 8), path))
    expected = module_figures(model)
    # by hand: stem 216 + bn 16 + aux 36 + 8 + proj 64 + fc 90 + aux_fc bias 10 + scale 3 = 443
    assert expected["params"] == 443 and expected["buffers"] == 8 + 8 + 1 + 4 + 4 + 1 + 7
    for key in STORED_KEYS:
        assert a.totals[key] == expected[key], key
    outside = a.totals["params_not_in_trace"]
    assert outside["params"] == 36 + 8 + 10 + 3 and outside["buffers"] == 9 + 7
    assert outside["modules"] == [  # largest first
        {"name": "aux", "params": 44, "buffers": 9},  # the whole head: named once
        {"name": "aux_fc", "params": 10, "buffers": 0},  # its weight is fc's, used; its bias is not
        {"name": "scale", "params": 3, "buffers": 0},
        {"name": "table", "params": 0, "buffers": 7},
    ]
    assert_sums(a)
    rows = {r["name"]: r for r in a.layers}
    assert rows["fc"]["params"] == 90 and rows["proj"]["params"] == 64  # a layer keeps what it uses
    assert rows["proj_1"]["params"] == 0 and rows["proj_1"]["shared_params"] == ["proj.weight"]


def test_a_fully_traced_model_has_no_params_not_in_trace() -> None:
    class Used(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.bn(self.conv(x))

    g = frontend.graph_from_module(frontend.build_module(Used), [(1, 3, 8, 8)], "used")
    assert g.params_not_in_trace == ()
    a = analyze(g)
    assert "params_not_in_trace" not in a.totals and a.totals["params"] == 3 * 4 * 9 + 4 + 8
    assert "params_not_in_trace" not in graph_to_dict(g)  # graphs without any are written as before


def test_weights_combined_before_use_all_count_at_the_layer() -> None:
    """mvit's positional encoding: repeat_interleave(temporal) + spatial, cat with class_pos, then
    added to the tokens; the add counts all three weights (301,824 of mvit_v1_b were lost so)."""

    class Pos(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.spatial = nn.Parameter(torch.zeros(4, 8))
            self.temporal = nn.Parameter(torch.zeros(2, 8))
            self.cls = nn.Parameter(torch.zeros(8))

        def forward(self, x):  # type: ignore[no-untyped-def]
            hw, d = self.spatial.shape
            pos = torch.repeat_interleave(self.temporal, hw, dim=0)
            pos.add_(self.spatial.unsqueeze(0).expand(2, -1, -1).reshape(-1, d))
            pos = torch.cat((self.cls.unsqueeze(0), pos), dim=0).unsqueeze(0)
            return x + pos

    model = frontend.build_module(Pos)
    a = analyze(read(model, (1, 9, 8), "fx"))
    add = next(r for r in a.layers if r["op"] == "add")
    assert add["params"] == 32 + 16 + 8 == module_figures(model)["params"]
    assert "params_not_in_trace" not in a.totals


class Table(nn.Module):
    """A bias table read through an index: computed in forward (mvit_v2's rel_pos[dist]), or a
    buffer that symbolic tracing folds into a constant (maxvit's relative_position_index.view(-1))."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.zeros(7, 4))
        self.register_buffer("index", torch.zeros(3, 2, dtype=torch.long))
        self.register_buffer("scaled", torch.zeros(6, dtype=torch.long))

    def forward(self, x):  # type: ignore[no-untyped-def]
        computed = self.table[torch.arange(6) % 7]  # an index made from nothing the model reads
        viewed = self.table[self.index.view(-1)]  # fx: a constant that is a view of the buffer
        _ = self.scaled * 2  # fx: a new constant, no tensor of the model (and unused)
        return x + computed + viewed


@pytest.mark.parametrize("path", ["fx", "dispatch"])
def test_weights_read_through_an_index_count_at_the_layer(path: str) -> None:
    model = frontend.build_module(Table)
    a = analyze(read(model, (1, 6, 4), path))
    expected = module_figures(model)
    for key in STORED_KEYS:
        assert a.totals[key] == expected[key], key  # the folded constants are not counted again
    add = next(r for r in a.layers if r["op"] == "add")
    assert add["params"] == 28  # the table, at the first add that reads it
    assert a.totals["params_not_in_trace"]["modules"] == [{"name": "scaled", "params": 0, "buffers": 6}]
    assert_sums(a)
    assert sum(r["buffers"] for r in a.layers) == 6  # the index (fx: the constant viewing it stands for it)


def test_graph_json_keeps_params_not_in_trace() -> None:
    g = read(frontend.build_module(Partial), (1, 3, 8, 8), "fx")
    d = graph_to_dict(g)
    assert [p["name"] for p in d["params_not_in_trace"]][:3] == ["scale", "aux.0.weight", "aux.0.bias"]
    back = graph_from_dict(d)
    assert back == g and analyze(back).totals == analyze(g).totals


class Dropouts(nn.Module):
    """Every dropout flavour and torchvision's stochastic depth, as modules and as functions."""

    def __init__(self) -> None:
        super().__init__()
        import torchvision

        self.conv = nn.Conv2d(3, 4, 3)
        self.drops = nn.ModuleList(
            [nn.Dropout(0.1), nn.Dropout2d(0.1), nn.AlphaDropout(0.1), nn.FeatureAlphaDropout(0.1)]
        )
        self.sd = torchvision.ops.StochasticDepth(0.2, "row")

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = self.conv(x)
        for d in self.drops:
            x = d(x)
        x = self.sd(x)
        x = F.dropout(x, 0.1, training=False)
        x = F.dropout2d(x, 0.1, training=False)
        x = F.alpha_dropout(x, 0.1, training=False)
        x = F.feature_alpha_dropout(x, 0.1, training=False)
        return x + 1


@pytest.mark.parametrize("path", ["fx", "dispatch"])
def test_identity_at_inference_ops_are_counted_at_zero_cost(path: str) -> None:
    a = analyze(read(frontend.build_module(Dropouts), (1, 3, 8, 8), path))
    assert a.totals["coverage"]["percent"] == 100.0 and a.totals["coverage"]["uncounted_ops"] == {}
    drops = [r for r in a.layers if r["op"] == OpKind.DROPOUT.value]
    # fx sees the modules and the functions; dispatch sees the modules (the functions run no aten op in eval)
    names = {r["source_op"] for r in drops}
    assert {"Dropout", "Dropout2d", "AlphaDropout", "FeatureAlphaDropout"} <= names
    assert ("stochastic_depth" in names) if path == "fx" else ("StochasticDepth" in names)
    if path == "fx":
        assert {"dropout", "dropout2d", "alpha_dropout", "feature_alpha_dropout"} <= names
    assert all(r["macs"] == 0 and r["flops"] == 0 and r["activation_bytes"] == 0 for r in drops)
    conv = next(r for r in a.layers if r["op"] == "conv")
    assert a.totals["macs"] == conv["macs"] == 4 * 36 * 27  # by hand: outputs x (3 x 3 x 3)


@pytest.mark.slow
def test_identity_at_inference_aten_ops_in_export_files(tmp_path: Path) -> None:
    """torch.export keeps aten.dropout / alpha_dropout / feature_alpha_dropout in eval graphs."""
    model = Dropouts().eval()
    path = tmp_path / "drops.pt2"
    torch.export.save(torch.export.export(model, (torch.randn(1, 3, 8, 8),)), str(path))
    graph, _ = frontend.graph_from_file(path, None, trust=False)
    a = analyze(graph)
    assert a.totals["coverage"]["uncounted_ops"] == {}
    assert {"dropout", "alpha_dropout", "feature_alpha_dropout"} <= {r["source_op"] for r in a.layers}


# --- torchvision models against their weight metadata (whole builds: slow) ----------------------------------


def torchvision_analysis(name: str, shape: tuple[int, ...]) -> tuple[Any, dict[str, Any]]:
    import torchvision

    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    model = frontend.build_module(frontend.torchvision_builder(name))
    return analyze(frontend.graph_from_module(model, [shape], name)), meta


@pytest.mark.slow
def test_inception_v3_counts_auxlogits() -> None:
    """torchvision's num_params includes AuxLogits, which eval never calls (27,161,264; 3,326,696 of it)."""
    a, meta = torchvision_analysis("inception_v3", (1, 3, 299, 299))
    assert a.totals["params"] == meta["num_params"] == 27_161_264
    outside = a.totals["params_not_in_trace"]
    assert outside["params"] == 3_326_696
    assert outside["modules"] == [{"name": "AuxLogits", "params": 3_326_696, "buffers": 2 * (128 + 768) + 2}]
    assert_sums(a)
    assert round(a.totals["macs"] / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-9)  # the trace's cost only


@pytest.mark.slow
def test_mvit_v1_b_counts_its_positional_encoding() -> None:
    a, meta = torchvision_analysis("mvit_v1_b", (1, 3, 16, 224, 224))
    assert a.totals["params"] == meta["num_params"] == 36_610_672
    assert "params_not_in_trace" not in a.totals  # used through repeat_interleave: in the layer's row
    assert_sums(a)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["convnext_tiny", "efficientnet_b0"])
def test_stochastic_depth_models_are_fully_covered(name: str) -> None:
    a, meta = torchvision_analysis(name, (1, 3, 224, 224))
    assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]["uncounted_ops"]
    assert any(r["source_op"] == "stochastic_depth" for r in a.layers)
    assert round(a.totals["macs"] / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-9)
    assert a.totals["params"] == meta["num_params"]


@pytest.mark.slow
def test_googlenet_built_without_weights_keeps_its_aux_heads() -> None:
    """GoogLeNet() has aux1/aux2 (never called in eval); torchvision deletes them only after loading
    weights, so its num_params (6,624,904) is the smaller model's. zooprof counts the module built."""
    a, meta = torchvision_analysis("googlenet", (1, 3, 224, 224))
    model = frontend.build_module(frontend.torchvision_builder("googlenet"))
    assert a.totals["params"] == module_figures(model)["params"] == meta["num_params"] + 6_379_984
    outside = a.totals["params_not_in_trace"]
    assert {m["name"] for m in outside["modules"]} == {"aux1", "aux2"} and outside["params"] == 6_379_984
    assert a.totals["params"] - outside["params"] == meta["num_params"]  # the layers: the weights' model
    assert_sums(a)

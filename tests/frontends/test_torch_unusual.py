"""PyTorch models that break the usual assumptions, each reproduced by a small module: a Linear fed
by a buffer (Swin V2), a conv fed by a constant grid (RAFT), a builder that needs real tensors
(RegNet), a traced function that mutates a list argument (Swin3D). The slow tests read the
torchvision models themselves against torchvision's metadata and FlopCounterMode."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from zooprof.analysis import analyze  # noqa: E402
from zooprof.errors import ZooprofError  # noqa: E402
from zooprof.frontends.torch import read as frontend  # noqa: E402
from zooprof.frontends.torch.dispatch import trace_dispatch  # noqa: E402


def reference_macs(model: nn.Module, *shapes: tuple[int, ...]) -> int:
    """MACs of a real CPU forward: FlopCounterMode's FLOPs / 2 (it counts only matmul-like ops)."""
    torch.manual_seed(0)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.eval()(*[torch.rand(s) for s in shapes])
    return counter.get_total_flops() // 2


class BiasFromTable(nn.Module):
    """Swin V2's continuous position bias: an MLP on a buffer, added to the features."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.register_buffer("table", torch.rand(1, 15, 15, 2))
        self.mlp = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 8, bias=False))

    def forward(self, x: Any) -> Any:
        bias = self.mlp(self.table)[:, :8, :8, :].permute(0, 3, 1, 2)  # (1, 8, 8, 8)
        return self.conv(x) + bias


class ConvOnGrid(nn.Module):
    """RAFT's first flow update: a conv fed only by coordinate grids built from the input size."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Conv2d(3, 4, 3, padding=1)
        self.flow = nn.Conv2d(2, 4, 7, padding=3)

    def forward(self, x: Any) -> Any:
        n, _, h, w = x.shape
        ys, xs = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
        grid = torch.stack([xs, ys], dim=0).float().unsqueeze(0).repeat(n, 1, 1, 1)
        flow = grid - grid  # zero flow, as RAFT's first iteration: coords1 - coords0
        return self.features(x) + self.flow(flow)


def test_linear_fed_by_a_buffer_has_rf_none_and_counts() -> None:
    model = frontend.build_module(BiasFromTable)
    a = analyze(frontend.graph_from_module(model, [(1, 3, 8, 8)], "bias"))
    rows = {r["name"]: r for r in a.layers}
    assert rows["mlp.0"]["rf"]["size"] == "none" and rows["mlp.2"]["rf"]["size"] == "none"
    add = next(r for r in a.layers if r["op"] == "add")
    assert add["rf"] == rows["conv"]["rf"]  # the constant does not widen the field
    assert rows["mlp.0"]["macs"] == 225 * 2 * 16 and rows["mlp.2"]["macs"] == 225 * 16 * 8
    assert a.totals["macs"] == reference_macs(BiasFromTable(), (1, 3, 8, 8))
    assert a.totals["params"] == sum(p.numel() for p in BiasFromTable().parameters())
    assert a.totals["coverage"]["percent"] == 100.0 and a.notes == []


@pytest.mark.parametrize("path", ["fx", "hooks+dispatch"])
def test_conv_fed_by_a_constant_grid_has_rf_none_and_counts(path: str) -> None:
    model = frontend.build_module(ConvOnGrid)
    shape = (2, 3, 12, 10)
    if path == "fx":
        graph = frontend.graph_from_module(model, [shape], "grid")
    else:
        graph = trace_dispatch(model, frontend.meta_inputs([shape]), "grid", path, [])
    assert graph.trace_method == path
    a = analyze(graph)
    flow = next(r for r in a.layers if r["name"].startswith("flow"))
    assert flow["rf"]["size"] == "none" and flow["macs"] == 2 * 4 * 12 * 10 * 2 * 49
    assert a.totals["macs"] == reference_macs(ConvOnGrid(), shape)
    assert a.notes == []


WIDTHS: list[list[int]] = []


def regnet_like(depth: int = 3) -> nn.Module:
    """Widths derived with torch ops and `.tolist()`, as RegNet's BlockParams: no data on meta."""
    widths = (torch.round(16 * torch.pow(torch.tensor(1.5), torch.arange(depth))) // 8 * 8).int().tolist()
    layers: list[nn.Module] = []
    c = 3
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
        c = w
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))
    WIDTHS.append([int(layers[0].weight.is_meta)])  # the weight was already meta when the builder saw it
    return model


def test_builder_needing_real_tensors_builds_on_cpu_with_meta_parameters() -> None:
    with pytest.raises(NotImplementedError, match="meta"), torch.device("meta"):
        regnet_like()
    WIDTHS.clear()
    model, note = frontend.build_module_noted(regnet_like)
    assert WIDTHS == [[1]]  # parameters moved to meta at registration: never allocated as weights twice
    assert all(p.is_meta for p in model.parameters()) and all(b.is_meta for b in model.buffers())
    assert note is not None and note.startswith("built on the CPU: the builder needs real tensors (NotImplementedError")
    graph = frontend.noted(frontend.graph_from_module(model, [(1, 3, 16, 16)], "r"), note)
    assert graph.trace_method == "cpu-build+fx" and graph.notes[0] == note
    a = analyze(graph)
    real = regnet_like()
    assert a.totals["params"] == sum(p.numel() for p in real.parameters())
    assert a.totals["macs"] == reference_macs(real, (1, 3, 16, 16))


def test_builder_on_meta_takes_no_note_and_tied_weights_stay_tied() -> None:
    def tied() -> nn.Module:
        if torch.empty(0).device.type == "meta":
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")  # force the CPU way
        a, b = nn.Linear(4, 4), nn.Linear(4, 4)
        b.weight = a.weight
        return nn.Sequential(a, b)

    model, note = frontend.build_module_noted(tied)
    assert note is not None and model[0].weight is model[1].weight and model[0].weight.is_meta
    assert frontend.build_module_noted(lambda: nn.Linear(2, 2))[1] is None


def test_builder_reading_its_own_weights_builds_on_plain_cpu() -> None:
    def reads_weights() -> nn.Module:
        lin = nn.Linear(4, 4)
        scale = float(lin.weight.detach().abs().sum())  # needs the weight's values
        return nn.Sequential(lin, nn.Linear(4, 2 if scale >= 0 else 3))

    model, note = frontend.build_module_noted(reads_weights)
    assert note is not None and "reads its own weights" in note and all(p.is_meta for p in model.parameters())


def test_builder_failing_every_way_reports_its_own_error() -> None:
    def broken() -> nn.Module:
        raise ValueError("depth must be positive")

    with pytest.raises(ValueError, match="depth must be positive"):
        frontend.build_module_noted(broken)


@torch.fx.wrap
def shrink_window(window: list[int], size: list[int]) -> list[int]:
    """Mutates its list argument, as torchvision's swin3d `_get_window_and_shift_size`."""
    for i in range(len(window)):
        if size[i] <= window[i]:
            window[i] = size[i]
    return window


class MutatesList(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.window = [7, 7]
        self.proj = nn.Conv2d(3, 4, 1)

    def forward(self, x: Any) -> Any:
        window = shrink_window(self.window.copy(), [x.shape[2], x.shape[3]])
        return nn.functional.avg_pool2d(self.proj(x), window)


def test_traced_function_mutating_a_list_argument_reads_with_fx() -> None:
    graph = frontend.graph_from_module(frontend.build_module(MutatesList), [(1, 3, 5, 9)], "mutates")
    assert graph.trace_method == "fx"
    assert graph.layers[-1].output.shape == (1, 4, 1, 1)  # window shrunk to 5 x 7
    assert MutatesList().window == [7, 7]


def test_building_errors_are_one_line() -> None:
    from zooprof.frontends import ReadOptions
    from zooprof.reference.resolve import resolve

    ref = resolve("tests.frontends.test_torch_unusual:broken_builder")
    with pytest.raises(ZooprofError, match="building .* failed: ValueError: depth must be positive"):
        frontend.read(ref, [(1, 3, 8, 8)], ReadOptions())


def broken_builder() -> nn.Module:
    raise ValueError("depth must be positive")


# --- the torchvision models themselves ---------------------------------------------------------


def tv_meta(name: str) -> dict[str, Any]:
    import torchvision

    return torchvision.models.get_model_weights(name).DEFAULT.meta


def inspect(name: str, shape: str) -> Any:
    import zooprof

    return zooprof.inspect("torchvision:" + name, input_shape=shape, use_cache=False)


@pytest.mark.slow
def test_regnet_reads_with_torchvision_params_and_macs() -> None:
    import torchvision

    r = inspect("regnet_y_400mf", "1x3x224x224")
    meta = tv_meta("regnet_y_400mf")
    assert r.model["trace_method"] == "cpu-build+fx" and "needs real tensors" in r.model["notes"][0]
    assert r.totals["params"] == meta["num_params"] == 4_344_144
    assert round(r.totals["macs"] / 1e9, 3) == meta["_ops"]  # GMACs to 3 decimals
    assert r.totals["macs"] == reference_macs(torchvision.models.regnet_y_400mf(), (1, 3, 224, 224))


@pytest.mark.slow
def test_swin_v2_reads_with_rf_none_on_its_position_bias_mlp() -> None:
    r = inspect("swin_v2_t", "1x3x256x256")
    assert r.totals["params"] == tv_meta("swin_v2_t")["num_params"] == 28_351_570
    mlp = next(row for row in r.layers if row["name"] == "features.1.0.attn.cpb_mlp.0")
    assert mlp["rf"]["size"] == "none" and mlp["counted"]
    assert mlp["macs"] == 15 * 15 * 2 * 512  # the (1, 15, 15, 2) coordinate table through Linear(2, 512)
    assert not any("unknown for" in n for n in r.model["notes"])
    assert round(r.totals["macs"] / 1e9, 3) == tv_meta("swin_v2_t")["_ops"]  # 5.940 GMACs


@pytest.mark.slow
def test_raft_reads_and_counts_like_flop_counter() -> None:
    import torchvision

    r = inspect("raft_small", "1x3x128x128,1x3x128x128")
    assert r.totals["params"] == tv_meta("raft_small")["num_params"] == 990_162
    first = next(row for row in r.layers if row["name"] == "update_block.motion_encoder.convflow1.0")
    assert first["rf"]["size"] == "none" and first["macs"] > 0  # iteration 1: flow = coords1 - coords0
    torch.manual_seed(0)
    assert r.totals["macs"] == reference_macs(
        torchvision.models.get_model("raft_small"), (1, 3, 128, 128), (1, 3, 128, 128)
    )


@pytest.mark.slow
def test_swin3d_reads_with_fx_and_torchvision_params_and_macs() -> None:
    import torchvision

    r = inspect("swin3d_t", "1x3x16x224x224")
    assert r.model["trace_method"] == "fx"
    assert r.totals["params"] == tv_meta("swin3d_t")["num_params"] == 28_158_070
    assert round(r.totals["macs"] / 1e9, 3) == tv_meta("swin3d_t")["_ops"]  # 43.882 GMACs at 16x224x224
    small = inspect("swin3d_t", "1x3x8x64x64")  # a real forward at full size is slow on a CPU
    assert small.totals["macs"] == reference_macs(torchvision.models.get_model("swin3d_t"), (1, 3, 8, 64, 64))

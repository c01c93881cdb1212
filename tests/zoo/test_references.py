"""Every zoo entry against independent references: its manifest (published figures with a
citation), torchvision's own weight metadata, the course slide's shapes and the
google-research/receptive_field table. Plus invariants that hold for every model."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

pytest.importorskip("torch")

import zooprof  # noqa: E402
from zooprof.reference.registry import zoo  # noqa: E402
from zooprof.result.document import ProfileResult  # noqa: E402

#: detection entries that take several seconds (real CPU runs; see tests/detection): slow
HEAVY = {"ssd300_vgg16", "fasterrcnn_mobilenet_v3_large_fpn", "retinanet_resnet50_fpn"}
NAMES = zoo().names()


def params(names: list[str]) -> list[object]:
    return [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in names]


@cache
def result(name: str) -> ProfileResult:
    return zooprof.inspect(name, use_cache=False)


def test_seed_zoo_is_registered() -> None:
    for name in (
        "mnist-mlp",
        "alexnet-2012",
        "alexnet",
        "vgg16",
        "mobilenet_v2",
        "resnet18",
        "resnet50",
        "mobilenet_v3_large",
    ):
        assert name in NAMES


@pytest.mark.parametrize("name", params(NAMES))
def test_manifest_reference_figures(name: str) -> None:
    r = result(name)
    ref = zoo().get(name).reference
    assert ref.get("citation"), f"{name}: reference figures need a citation"
    checks = r.model["reference_check"]
    assert "params" in checks and "macs" in checks
    for key, check in checks.items():
        assert check["ok"], f"{name} {key}: expected {check['expected']:,}, got {check['actual']:,}"
    rows = {row["name"]: row for row in r.layers}
    for layer, shape in ref.get("output_shapes", {}).items():
        assert rows[layer]["output_shape"] == shape, layer
    for layer, (size, stride, padding) in ref.get("rf", {}).items():
        rf = rows[layer]["rf"]
        assert (rf["size"], rf["stride"], rf["padding"]) == (size, stride, padding), layer


@pytest.mark.parametrize("name", params([n for n in NAMES if zoo().get(n).source.startswith("torchvision:")]))
def test_torchvision_weight_metadata(name: str) -> None:
    """torchvision ships num_params and _ops (GMACs, 3 decimals) with each weight enum."""
    import torchvision

    meta = torchvision.models.get_model_weights(zoo().get(name).source.split(":")[1]).DEFAULT.meta
    r = result(name)
    assert r.totals["params"] == meta["num_params"]
    assert round(r.totals["macs"] / 1e9, 3) == pytest.approx(meta["_ops"], abs=1e-9)


@pytest.mark.parametrize("name", params(NAMES))
def test_per_layer_sums_equal_totals(name: str) -> None:
    r = result(name)
    fixed = [row for row in r.layers if not row.get("data_dependent")]  # detection: totals are the fixed cost
    outside = r.totals.get("params_not_in_trace") or {}  # stored tensors no layer uses (PyTorch)
    for key in ("params", "trainable_params", "buffers", "weight_bytes"):
        assert sum(row[key] for row in r.layers) + outside.get(key, 0) == r.totals[key], key
    assert sum(row["activation_bytes"] for row in r.layers) == r.totals["activation_bytes"]
    for key in ("macs", "flops"):
        assert sum(row[key] for row in fixed) == r.totals[key], key
        assert sum(row[key] for row in r.layers if row.get("data_dependent")) == r.totals.get("data_dependent", {}).get(
            key, 0
        ), key
    uncounted = [row for row in r.layers if not row["counted"]]
    assert all(row.get("stage") == "postprocess" for row in uncounted), r.totals["coverage"]  # only post-processing
    assert r.totals["shape_mismatches"] == 0
    assert r.totals["flops"] >= 2 * r.totals["macs"]


def test_alexnet_2012_is_the_slide() -> None:
    r = result("alexnet-2012")
    rows = {row["name"]: row for row in r.layers}
    assert rows["conv1"]["formula"] == ["(224 + 2*2 - 11)/4 + 1 = 55"] * 2
    assert rows["pool1"]["formula"][0] == "(55 + 2*0 - 3)/2 + 1 = 27"
    assert rows["conv2"]["groups"] == 2 and rows["conv4"]["groups"] == 2 and rows["conv3"]["groups"] == 1
    assert r.totals["params"] == 60_965_224 and r.totals["macs"] == 724_406_816


def test_alexnet_2012_trap_at_224_pad_0() -> None:
    """REFERENCES.md: 224 input with conv1 padding 0 gives 54x54 and 49,430,888 params."""
    from zooprof.analysis import analyze
    from zooprof.frontends.torch import read as frontend
    from zooprof.reference.models.alexnet2012 import alexnet_2012

    model = frontend.build_module(alexnet_2012)
    model.conv1.padding = (0, 0)
    model.fc6 = type(model.fc6)(256 * 5 * 5, 4096, device="meta")
    a = analyze(frontend.graph_from_module(model, [(1, 3, 224, 224)], "trap"))
    assert a.layers[0]["output_shape"] == [1, 96, 54, 54]
    assert a.totals["params"] == 49_430_888 and a.totals["macs"] == 643_026_048


def test_mnist_mlp() -> None:
    r = result("mnist-mlp")
    assert r.totals["params"] == 13_002 and r.totals["macs"] == 12_960
    assert [row["output_shape"] for row in r.layers if row["op"] == "dense"] == [[1, 16], [1, 16], [1, 10]]


def test_vgg16_pool5_receptive_field() -> None:
    rf = {row["name"]: row["rf"] for row in result("vgg16").layers}["features.30"]
    assert (rf["size"], rf["stride"], rf["padding"]) == (212, 32, 90)


def test_alexnet_last_pool_rf() -> None:
    rf = {row["name"]: row["rf"] for row in result("alexnet").layers}["features.12"]
    assert (rf["size"], rf["stride"]) == (195, 32)


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large"])
def test_multipath_models_are_aligned_everywhere(name: str) -> None:
    r = result(name)
    assert not r.totals["rf_not_aligned"]
    for row in r.layers:
        assert row["rf"] is None or row["rf"]["aligned"], row["name"]
    adds = [row for row in r.layers if row["op"] == "add"]
    assert adds, "residual adds must be layers"


def test_global_after_pooling() -> None:
    rows = result("resnet50").layers
    gap = next(row for row in rows if row["name"] == "avgpool")
    assert gap["rf"]["size"] == "global"
    assert rows[-1]["rf"]["size"] == "global"


def test_a_source_checkout_reads_its_own_zoo_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """zooprof run from a checkout on PYTHONPATH (no install, as on a lent GPU host) finds the
    manifests in the checkout's zoo/ without the installed package's zooprof.zoo mapping."""
    import importlib.resources

    from zooprof.reference import registry

    def no_package(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.setattr(importlib.resources, "files", no_package)
    root = Path(registry.__file__).resolve().parents[2]
    assert registry.zoo_dir() == root / "zoo" and (root / "zoo" / "mobilenet_v2.toml").is_file()

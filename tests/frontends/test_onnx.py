"""ONNX frontend: parity with the PyTorch frontend on exported torchvision models, dynamic
input dimensions, broken files, unknown ops, auto_pad, external data and the onnxruntime fallback."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from torch import nn  # noqa: E402

import zooprof  # noqa: E402
from zooprof.analysis import analyze  # noqa: E402
from zooprof.errors import ModelShapeError, UsageError  # noqa: E402
from zooprof.frontends.onnx.build import scope_of  # noqa: E402
from zooprof.frontends.onnx.read import read_onnx  # noqa: E402
from zooprof.ir.ops import OpKind  # noqa: E402

F = TensorProto.FLOAT


def export(model: nn.Module, shape: tuple[int, ...], path: Path, **kwargs: object) -> Path:
    """torch.onnx.export with the TorchScript-based exporter (dynamo=False), opset 17, eval mode."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation warnings
        torch.onnx.export(model.eval(), (torch.zeros(shape),), str(path), dynamo=False, opset_version=17, **kwargs)
    return path


def randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give biases and BatchNorm statistics distinct values, as in a trained model.

    torchvision initialises biases to zero and BN to (1, 0, 0, 1). torch.onnx.export merges
    equal tensors into one initialiser (the ONNX file then holds one all-zero bias that many
    convs read), which zooprof counts once, as the file stores it once. Distinct values keep
    one initialiser per PyTorch tensor, so the parameter counts can be compared.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
                m.running_mean.uniform_(-0.5, 0.5, generator=g)
            if getattr(m, "bias", None) is not None:
                m.bias.uniform_(-0.5, 0.5, generator=g)
    return model


def make_model(
    nodes: list,
    inputs: list,
    outputs: list,
    inits: list | None = None,
    opset: int = 17,
    domains: tuple[str, ...] = (),
    value_info: list | None = None,
) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits or [], value_info=value_info or [])
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)  # onnxruntime 1.31 reads IR <= 13


def weight(name: str, *shape: int) -> TensorProto:
    return numpy_helper.from_array(np.random.default_rng(0).standard_normal(shape).astype(np.float32), name)


def f32(name: str, value: object) -> TensorProto:
    return numpy_helper.from_array(np.array(value, dtype=np.float32), name)


def i64(name: str, value: object) -> TensorProto:
    return numpy_helper.from_array(np.array(value, dtype=np.int64), name)


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


class Small(nn.Module):
    """Conv-BN-ReLU-pool, then x.view(x.size(0), -1): a dynamic batch exports Shape/Gather/Concat."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        x = x.view(x.size(0), -1)
        return torch.softmax(self.fc(x), dim=1)


# --------------------------------------------------------------------------------------
# parity with the PyTorch frontend


def _bn_folding_delta(model: nn.Module) -> tuple[int, int]:
    """(BN gamma + beta parameters, conv biases the exporter adds): each BN folds into the conv before it."""
    removed = added = 0
    last_conv = None
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            last_conv = m
        elif isinstance(m, nn.BatchNorm2d):
            removed += 2 * m.num_features
            assert last_conv is not None and last_conv.out_channels == m.num_features
            if last_conv.bias is None:
                added += last_conv.out_channels
    return removed, added


@pytest.mark.slow
@pytest.mark.parametrize("name", ["alexnet", "vgg16", "mobilenet_v2"])
def test_parity_with_pytorch_frontend(name: str, tmp_path: Path) -> None:
    import torchvision

    model = randomise(torchvision.models.get_model(name, weights=None))
    torch_params = sum(p.numel() for p in model.parameters())
    removed, added = _bn_folding_delta(model)
    path = export(model, (1, 3, 224, 224), tmp_path / f"{name}.onnx")
    del model

    graph, shapes = read_onnx(path, None)
    assert shapes == [(1, 3, 224, 224)]
    assert graph.framework == "onnx" and graph.trace_method == "onnx"
    ours = analyze(graph)
    ref = zooprof.inspect(name, use_cache=False)

    assert ours.totals["shape_mismatches"] == 0
    assert ours.totals["coverage"]["percent"] == 100.0, ours.totals["coverage"]
    assert ours.totals["macs"] == ref.totals["macs"]
    assert ref.totals["params"] == torch_params
    if name == "mobilenet_v2":
        # BN folded into the convs: gamma/beta gone, a bias per folded conv; running stats gone too
        assert removed and added
        assert ours.totals["params"] == torch_params - removed + added == 3_487_816
        assert ours.totals["buffers"] == 0 < ref.totals["buffers"]
        assert any("BatchNorm folded" in n for n in graph.notes), graph.notes
        assert "0 BatchNormalization node(s)" in graph.notes
    else:
        assert removed == added == 0
        assert ours.totals["params"] == ref.totals["params"]
        assert not any("folded" in n for n in graph.notes)

    convs = [r for r in ours.layers if r["op"] == "conv"]
    ref_convs = [r for r in ref.layers if r["op"] == "conv"]
    assert [r["output_shape"] for r in convs] == [r["output_shape"] for r in ref_convs]
    assert [r["scope"] for r in convs] == [r["name"] for r in ref_convs]  # module paths rebuilt from node names
    assert convs[-1]["rf"] == ref_convs[-1]["rf"]  # last conv before global pooling
    assert convs[-1]["macs"] == ref_convs[-1]["macs"]


# --------------------------------------------------------------------------------------
# input shapes


@pytest.fixture(scope="module")
def dynamic_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "small.onnx"
    return export(
        randomise(Small()),
        (1, 3, 32, 32),
        path,
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
    )


def test_dynamic_batch_defaults_to_one(dynamic_batch: Path) -> None:
    graph, shapes = read_onnx(dynamic_batch, None)
    assert shapes == [(1, 3, 32, 32)]
    assert any("dynamic batch dimension ('batch') taken as 1" in n for n in graph.notes)


def test_dynamic_spatial_dims_need_a_shape(tmp_path: Path) -> None:
    path = export(
        randomise(Small()),
        (1, 3, 32, 32),
        tmp_path / "hw.onnx",
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "batch", 2: "h", 3: "w"}, "probs": {0: "batch"}},
    )
    with pytest.raises(UsageError) as err:
        read_onnx(path, None)
    msg = str(err.value)
    assert "input 'image'" in msg and "dynamic dimension(s) 0 ('batch'), 2 ('h'), 3 ('w')" in msg
    assert "--input-shape 1x3x224x224" in msg


def test_dynamic_batch_with_a_shape(dynamic_batch: Path) -> None:
    graph, shapes = read_onnx(dynamic_batch, [(2, 3, 32, 32)])
    assert shapes == [(2, 3, 32, 32)]
    assert [t.shape for t in graph.inputs] == [(2, 3, 32, 32)] and graph.inputs[0].name == "image"
    assert graph.outputs == ("probs",)
    assert all(layer.output.shape[0] == 2 for layer in graph.layers)
    # the shape computation of x.view(x.size(0), -1) is not a layer
    assert [layer.source_op for layer in graph.layers] == ["Conv", "Relu", "MaxPool", "Reshape", "Gemm", "Softmax"]
    assert graph.layers[-1].outputs[0].name == "probs"
    a = analyze(graph)
    assert a.totals["shape_mismatches"] == 0
    # BN folded: conv 3*8*9 weights + 8 bias; fc 512*10 + 10
    assert a.totals["params"] == 3 * 8 * 9 + 8 + 512 * 10 + 10
    assert a.totals["macs"] == 2 * 8 * 16 * 16 * 27 + 2 * 10 * 512
    assert a.layers[0]["scope"] == "conv" and a.layers[4]["scope"] == "fc"
    # every layer input is a graph input or an earlier layer's output
    known = {t.name for t in graph.inputs}
    for layer in graph.layers:
        assert all(t.name in known for t in layer.inputs), layer.name
        known.update(t.name for t in layer.outputs)


@pytest.mark.parametrize(
    ("shapes", "match"),
    [
        ([(1, 3, 32)], "rank 4"),
        ([(1, 3, 32, 32), (1, 4)], "1 input"),
        ([(2, 3, 16, 32)], "fixed size 32 at dimension 2"),
    ],
)
def test_bad_input_shapes(dynamic_batch: Path, shapes: list, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        read_onnx(dynamic_batch, shapes)


def test_too_small_input_names_the_layer(tmp_path: Path) -> None:
    m = make_model(
        [helper.make_node("Conv", ["x", "W"], ["y"], kernel_shape=[5, 5], name="big_conv")],
        [helper.make_tensor_value_info("x", F, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("y", F, None)],
        [weight("W", 4, 3, 5, 5)],
    )
    with pytest.raises(ModelShapeError, match="big_conv"):
        read_onnx(save(m, tmp_path / "m.onnx"), [(1, 3, 3, 3)])


# --------------------------------------------------------------------------------------
# broken files


def test_truncated_file(tmp_path: Path, dynamic_batch: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(dynamic_batch.read_bytes()[:100])
    with pytest.raises(UsageError) as err:
        read_onnx(path, None)
    assert "model.onnx is not a valid ONNX file" in str(err.value)
    assert err.value.hint and "truncated" in err.value.hint


@pytest.mark.parametrize("content", [b"hello, this is a text file\nnot a model\n", b""])
def test_not_an_onnx_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.onnx"
    path.write_bytes(content)
    with pytest.raises(UsageError, match="notes.onnx is not a valid ONNX file"):
        read_onnx(path, [(1, 3, 8, 8)])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_onnx(tmp_path / "nope.onnx", None)


# --------------------------------------------------------------------------------------
# op mapping


def test_unknown_ops_are_flagged(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", F, [1, 3, 8, 8])
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Sin", ["c"], ["e"], name="sin"),  # a standard op without a rule
        helper.make_node("Mystery", ["e"], ["m"], domain="com.example", name="mystery"),
        helper.make_node("Relu", ["m"], ["y"], name="relu"),
    ]
    vi = [helper.make_tensor_value_info("m", F, [1, 4, 8, 8])]  # the custom op's output, declared by the file
    m = make_model(
        nodes,
        [x],
        [helper.make_tensor_value_info("y", F, None)],
        [weight("W", 4, 3, 3, 3), weight("B", 4)],
        domains=("com.example",),
        value_info=vi,
    )
    graph, _ = read_onnx(save(m, tmp_path / "m.onnx"), None)
    ops = {layer.name: layer for layer in graph.layers}
    assert ops["sin"].op is OpKind.UNKNOWN and ops["mystery"].op is OpKind.UNKNOWN
    assert ops["mystery"].source_op == "com.example::Mystery"
    assert ops["relu"].op is OpKind.RELU
    a = analyze(graph)
    assert a.totals["coverage"]["percent"] == 50.0
    assert a.totals["coverage"]["uncounted_ops"] == {"Sin": 1, "com.example::Mystery": 1}
    assert a.layers[3]["rf"]["size"] == "unknown"
    assert any("custom domains" in n for n in graph.notes)


def test_same_upper_and_asymmetric_pads(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", F, [1, 3, 17, 16])
    nodes = [
        helper.make_node(
            "Conv", ["x", "W1"], ["a"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER", name="same_upper"
        ),
        helper.make_node("Conv", ["a", "W2", "B2"], ["b"], strides=[1, 2], pads=[0, 1, 1, 2], name="asym"),
        helper.make_node(
            "MaxPool", ["b"], ["c"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER", name="same_lower"
        ),
        helper.make_node(
            "AveragePool",
            ["c"],
            ["d"],
            kernel_shape=[2, 2],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
            ceil_mode=1,
            name="ceil",
        ),
        helper.make_node("Conv", ["d", "W3"], ["y"], kernel_shape=[1, 1], auto_pad="VALID", group=4, name="grouped"),
    ]
    inits = [weight("W1", 8, 3, 3, 3), weight("W2", 8, 8, 3, 3), weight("B2", 8), weight("W3", 8, 2, 1, 1)]
    m = make_model(nodes, [x], [helper.make_tensor_value_info("y", F, None)], inits)
    graph, _ = read_onnx(save(m, tmp_path / "pads.onnx"), None)
    su, asym, sl, ceil, grouped = graph.layers
    # SAME_UPPER, stride 2: out = ceil(in/2); total pad = (out-1)*2 + 3 - in, the odd pixel at the end
    assert su.output.shape == (1, 8, 9, 8)
    assert su.attrs["padding"] == ((1, 1), (0, 1)) and su.attrs["stride"] == (2, 2)
    assert su.attrs["in_channels"] == 3 and su.attrs["out_channels"] == 8 and su.attrs["bias"] is False
    assert asym.attrs["padding"] == ((0, 1), (1, 2)) and asym.attrs["bias"] is True
    assert asym.output.shape == (1, 8, 8, 5)
    assert sl.attrs["padding"] == ((1, 0), (1, 1))  # SAME_LOWER: the odd pixel at the start
    assert ceil.attrs["ceil_mode"] is True and ceil.attrs["padding"] == (1, 1)
    # ceil mode drops a last window that would start in the end padding (onnxruntime, PyTorch); onnx's
    # shape inference before opset 22 keeps it (3x3): the frontend sizes it as the runtime does
    assert ceil.output.shape == (1, 8, 3, 2)
    assert any("ceil-mode pooling" in n for n in graph.notes)
    assert grouped.attrs["groups"] == 4 and grouped.attrs["in_channels"] == 8 and grouped.attrs["padding"] == (0, 0)
    a = analyze(graph)
    assert a.totals["shape_mismatches"] == 0, [r.get("shape_mismatch") for r in a.layers]
    assert a.layers[0]["macs"] == 8 * 9 * 8 * 27
    assert a.layers[4]["macs"] == grouped.output.numel * 2


def test_clip_gemm_matmul_reduce_and_pad(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", F, [2, 4, 6, 6])
    nodes = [
        helper.make_node("Clip", ["x", "zero", "six"], ["r6"], name="relu6"),
        helper.make_node("Clip", ["r6", "", "six"], ["ht"], name="clip_max"),
        helper.make_node("Pad", ["ht", "pads"], ["p"], name="pad"),
        helper.make_node("ReduceSum", ["p", "axes"], ["gap"], keepdims=0, name="gap"),
        helper.make_node("Gemm", ["gap", "Wt", "b"], ["fc"], transB=1, name="fc"),
        helper.make_node("MatMul", ["fc", "W2"], ["d2"], name="dense"),
        helper.make_node("Transpose", ["d2"], ["d2t"], perm=[1, 0], name="t"),
        helper.make_node("MatMul", ["d2", "d2t"], ["mm"], name="matmul"),
        helper.make_node("Add", ["mm", "bias2"], ["y"], name="add_bias"),
    ]
    inits = [
        f32("zero", 0.0),
        f32("six", 6.0),
        i64("pads", [0, 0, 1, 2, 0, 0, 1, 2]),
        i64("axes", [2, 3]),
        weight("Wt", 5, 4),
        weight("b", 5),
        weight("W2", 5, 3),
        weight("bias2", 2),
    ]
    m = make_model(nodes, [x], [helper.make_tensor_value_info("y", F, None)], inits)
    graph, _ = read_onnx(save(m, tmp_path / "m.onnx"), None)
    by = {layer.name: layer for layer in graph.layers}
    assert by["relu6"].op is OpKind.RELU6 and not by["relu6"].params
    assert by["clip_max"].op is OpKind.HARDTANH and by["clip_max"].attrs["max"] == 6.0
    assert by["pad"].attrs["padding"] == ((1, 1), (2, 2)) and by["pad"].output.shape == (2, 4, 8, 10)
    assert by["gap"].op is OpKind.SUM and by["gap"].attrs["axis"] == (2, 3)
    assert by["fc"].op is OpKind.DENSE and by["fc"].attrs == {"in_features": 4, "out_features": 5, "bias": True}
    assert by["dense"].op is OpKind.DENSE and by["dense"].attrs["out_features"] == 3
    assert by["matmul"].op is OpKind.MATMUL and len(by["matmul"].inputs) == 2
    assert by["t"].op is OpKind.PERMUTE
    assert [p.name for p in by["add_bias"].params] == ["bias2"]
    a = analyze(graph)
    assert a.totals["params"] == 5 * 4 + 5 + 5 * 3 + 2  # bounds, pads and axes are not parameters
    assert a.totals["macs"] == 2 * 5 * 4 + 2 * 3 * 5 + 2 * 2 * 3
    rf = {r["name"]: r["rf"] for r in a.layers}
    assert rf["gap"]["size"] == "global"
    assert a.totals["shape_mismatches"] == 0


def test_old_opset_clip_attributes_and_batchnorm(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", F, [1, 3, 4, 4])
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "b", "mean", "var"], ["bn"], name="bn"),
        helper.make_node("Clip", ["bn"], ["y"], min=0.0, max=6.0, name="clip"),
    ]
    inits = [weight("g", 3), weight("b", 3), weight("mean", 3), weight("var", 3)]
    m = make_model(nodes, [x], [helper.make_tensor_value_info("y", F, None)], inits, opset=9)
    graph, _ = read_onnx(save(m, tmp_path / "m.onnx"), None)
    assert [layer.op for layer in graph.layers] == [OpKind.BATCHNORM, OpKind.RELU6]
    a = analyze(graph)
    assert a.totals["params"] == 6 and a.totals["buffers"] == 6  # running mean/var are buffers, as in PyTorch
    assert "1 BatchNormalization node(s)" in graph.notes


def test_shared_initialiser_counts_once(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", F, [1, 4, 5, 5])
    nodes = [
        helper.make_node("Identity", ["W"], ["W_alias"], name="dedup"),  # what the exporter leaves for equal tensors
        helper.make_node("Conv", ["x", "W"], ["a"], pads=[1, 1, 1, 1], name="c1"),
        helper.make_node("Conv", ["a", "W_alias"], ["y"], pads=[1, 1, 1, 1], name="c2"),
    ]
    m = make_model(nodes, [x], [helper.make_tensor_value_info("y", F, None)], [weight("W", 4, 4, 3, 3)])
    graph, _ = read_onnx(save(m, tmp_path / "m.onnx"), None)
    assert [layer.name for layer in graph.layers] == ["c1", "c2"]  # Identity on a weight is not a layer
    assert graph.layers[1].params[0].name == "W"
    a = analyze(graph)
    assert a.totals["params"] == 4 * 4 * 9
    assert a.layers[1]["shared_params"] == ["W"]
    assert any("counted once" in n for n in graph.notes)


def test_unnamed_nodes_and_scopes() -> None:
    node = helper.make_node("Conv", ["x", "W"], ["y"], name="/features/features.1/conv/conv.0/conv.0.0/Conv")
    assert scope_of(node) == "features.1.conv.0.0"
    assert scope_of(helper.make_node("Relu", ["x"], ["y"], name="/features/features.0/Relu")) == "features.0"
    assert scope_of(helper.make_node("Flatten", ["x"], ["y"], name="/Flatten")) == ""
    assert scope_of(helper.make_node("Relu", ["x"], ["y"], name="relu_7")) == ""
    dyn = helper.make_node("Relu", ["x"], ["y"], name="n4")
    dyn.metadata_props.add(
        key="pkg.torch.onnx.name_scopes", value="['', 'features', 'features.0', 'features.0.2', 'relu']"
    )
    assert scope_of(dyn) == "features.0.2"


def test_unnamed_nodes_get_unique_names(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", F, [1, 4])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Relu", ["a"], ["b"], name="dup"),
        helper.make_node("Sigmoid", ["b"], ["y"], name="dup"),
    ]
    m = make_model(nodes, [x], [helper.make_tensor_value_info("y", F, None)])
    graph, _ = read_onnx(save(m, tmp_path / "m.onnx"), None)
    assert [layer.name for layer in graph.layers] == ["Relu_0", "dup", "dup_1"]


class ClassToken(nn.Module):
    """A ViT-style class token expanded to the batch size: the exporter computes the expand
    shape with Shape/Equal/Where, which onnx shape inference cannot follow on its own."""

    def __init__(self) -> None:
        super().__init__()
        self.cls = nn.Parameter(torch.randn(1, 1, 8))
        self.fc = nn.Linear(8, 4)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.fc(torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1))


def test_shape_computations_are_folded_statically(tmp_path: Path) -> None:
    path = export(ClassToken(), (1, 5, 8), tmp_path / "tok.onnx", input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    graph, _ = read_onnx(path, [(3, 5, 8)])
    assert "shapes: onnx.shape_inference (static, no weights read)" in graph.notes  # no onnxruntime run
    cat = next(layer for layer in graph.layers if layer.op is OpKind.CONCAT)
    assert cat.output.shape == (3, 6, 8)
    assert [p.name for p in cat.params] == ["cls"]  # Expand(class token) stands for the parameter
    a = analyze(graph)
    assert a.totals["params"] == 8 + 8 * 4 + 4
    assert a.totals["macs"] == 3 * 6 * 4 * 8
    assert a.totals["coverage"]["percent"] == 100.0 and a.totals["shape_mismatches"] == 0


# --------------------------------------------------------------------------------------
# external data and the onnxruntime fallback


def test_external_data(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", F, [1, 3, 8, 8])
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv"),
        helper.make_node("Clip", ["c", "lo", "hi"], ["y"], name="clip"),
    ]
    inits = [weight("W", 4, 3, 3, 3), weight("B", 4), f32("lo", 0.0), f32("hi", 6.0)]
    m = make_model(nodes, [x], [helper.make_tensor_value_info("y", F, None)], inits)
    path = tmp_path / "ext.onnx"
    onnx.save_model(
        m,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="ext.onnx.data",
        size_threshold=0,
    )
    graph, _ = read_onnx(path, None)
    assert [layer.op for layer in graph.layers] == [OpKind.CONV, OpKind.RELU6]  # bounds read from the .data file
    assert analyze(graph).totals["params"] == 4 * 27 + 4
    (tmp_path / "ext.onnx.data").unlink()
    with pytest.raises(UsageError, match="ext.onnx.data"):
        read_onnx(path, None)


def test_onnxruntime_measures_what_inference_cannot(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    x = helper.make_tensor_value_info("x", F, ["n", 3, 9, 9])
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["c"], strides=[2, 2], name="conv"),
        helper.make_node("Gelu", ["c"], ["g"], domain="com.microsoft", name="ms_gelu"),  # no ONNX schema
        helper.make_node("Relu", ["g"], ["y"], name="relu"),
    ]
    m = make_model(
        nodes, [x], [helper.make_tensor_value_info("y", F, None)], [weight("W", 4, 3, 3, 3)], domains=("com.microsoft",)
    )
    graph, _ = read_onnx(save(m, tmp_path / "ms.onnx"), [(2, 3, 9, 9)])
    assert [layer.op for layer in graph.layers] == [OpKind.CONV, OpKind.UNKNOWN, OpKind.RELU]
    assert graph.layers[2].output.shape == (2, 4, 4, 4)
    assert any("onnxruntime" in n for n in graph.notes)


@pytest.mark.slow
def test_dynamo_exporter_file(tmp_path: Path) -> None:
    """The torch.export-based exporter: external weights, node metadata scopes, BN fused by onnxscript."""
    pytest.importorskip("onnxscript")
    model = randomise(Small()).eval()
    path = tmp_path / "small_dynamo.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 32, 32),), str(path), dynamo=True, verbose=False)
    graph, _ = read_onnx(path, None)
    a = analyze(graph)
    legacy = analyze(read_onnx(export(model, (1, 3, 32, 32), tmp_path / "legacy.onnx"), None)[0])
    assert a.totals["macs"] == legacy.totals["macs"]
    assert a.totals["params"] == legacy.totals["params"]
    assert a.totals["shape_mismatches"] == 0 and a.totals["coverage"]["percent"] == 100.0
    assert next(r for r in a.layers if r["op"] == "dense")["scope"] == "fc"
    assert any("BatchNorm folded" in n for n in graph.notes), graph.notes


@pytest.mark.parametrize(
    "mode, kind, flops",
    [("nearest", OpKind.RESIZE, 0), ("linear", OpKind.RESIZE, 7 * 2 * 8 * 8), ("cubic", OpKind.UNKNOWN, 0)],
)
def test_resize_by_mode(tmp_path: Path, mode: str, kind: OpKind, flops: int) -> None:
    """Resize x2 of a 1x2x4x4 image: nearest copies (0 FLOPs), bilinear weighs 4 neighbours
    (4 multiplies + 3 adds per output element), cubic has no rule (listed, uncounted)."""
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode=mode)
    model = make_model(
        [node],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8])],
        [f32("scales", [1, 1, 2, 2])],
    )
    graph, _ = read_onnx(save(model, tmp_path / f"{mode}.onnx"), None)
    (layer,) = graph.layers
    assert layer.op == kind and layer.output.shape == (1, 2, 8, 8)
    row = analyze(graph).layers[0]
    assert row["counted"] is (kind != OpKind.UNKNOWN) and row["flops"] == flops

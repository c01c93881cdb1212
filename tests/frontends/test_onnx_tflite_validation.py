"""Validation of ONNX and TFLite files before anything is computed (issue 16), in process:
frontends/onnx/validate.py, the folding budget in frontends/onnx/infer.py,
frontends/tflite/validate.py, the file size caps (frontends/limits.py) and the folder walk of
result/cache.py. The same files run through the CLI in tests/hostile/test_onnx_tflite_files.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.hostile import onnx_tflite_builders as b
from zooprof.errors import UsageError
from zooprof.frontends.onnx import infer as onnx_infer
from zooprof.frontends.onnx.protos import attr_values
from zooprof.frontends.onnx.read import read_onnx
from zooprof.frontends.onnx.validate import normalise_strings, order_nodes
from zooprof.frontends.tflite.read import read_tflite
from zooprof.result import cache

pytest.importorskip("onnx")

TM = Path("/work/shared/fixtures/teachable-machine/tflite-2class")


def _write(tmp_path: Path, model: Any, name: str = "model.onnx") -> Path:
    path = tmp_path / name
    path.write_bytes(model if isinstance(model, bytes) else b.onnx_bytes(model))
    return path


ONNX_REFUSED = {
    "dims-disagree-with-data": (lambda: b.onnx_model(weight_raw=bytes(864)), "needs 1,728 bytes of data, it holds 864"),
    "dims-without-data": (lambda: b.onnx_model(weight_dims=[10**9, 10**9]), "dimension 1,000,000,000"),
    "no-data": (lambda: b.onnx_model(weight_dims=[16, 3, 3, 3]), "needs 432 values in float_data, it holds 0"),
    "negative-dims": (lambda: b.onnx_model(weight_dims=[-16, 3, 3, 3]), "dimension -16"),
    "kernel-string": (
        lambda: b.set_attr(b.onnx_model(), "conv1", "kernel_shape", "3x3"),
        "'kernel_shape' is a string, the op takes a ints",
    ),
    "stride-0": (lambda: b.onnx_model({"strides": [0, 0]}), "'strides' is [0, 0]; each value must be >= 1"),
    "pads-minus-100": (lambda: b.onnx_model({"pads": [-100] * 4}), "'pads' is [-100, -100, -100, -100]"),
    "group-0": (lambda: b.onnx_model({"group": 0}), "'group' is 0; it must be >= 1"),
    "group-impossible": (lambda: b.onnx_model({"group": 3}), "group 3 does not divide the 16 channels"),
    "group-vs-input": (
        lambda: b.onnx_model({"group": 2}, weight_dims=[16, 3, 3, 3], weight_raw=bytes(1728)),
        "has 3 channels, weight 'w' (dims [16, 3, 3, 3]) with group 2 takes 6",
    ),
    "dilation-0": (lambda: b.onnx_model({"dilations": [0, 0]}), "'dilations' is [0, 0]"),
    "kernel-vs-weight": (lambda: b.onnx_model({"kernel_shape": [5, 5]}), "the kernel [3, 3], attribute"),
    "flatten-axis-99": (
        lambda: b.set_attr(b.onnx_model(), "flatten", "axis", 99),
        "'axis' is 99; its input has rank 4",
    ),
    "cycle": (b.onnx_cycle, "node 'a' (Add) is in a cycle"),
    "self-loop": (b.onnx_self_loop, "node 'loop' (Add) reads its own output 'y'"),
}


@pytest.mark.parametrize("case", sorted(ONNX_REFUSED))
def test_onnx_refused_naming_node_and_field(case: str, tmp_path: Path) -> None:
    make, words = ONNX_REFUSED[case]
    with pytest.raises(UsageError) as err:
        read_onnx(_write(tmp_path, make()), None)
    assert words in err.value.message and err.value.message.startswith("model.onnx: ")
    assert "\n" not in str(err.value)


def test_onnx_valid_model_reads(tmp_path: Path) -> None:
    graph, shapes = read_onnx(_write(tmp_path, b.onnx_model()), None)
    assert shapes == [(1, 3, 8, 8)] and [layer.name for layer in graph.layers][0] == "conv1"


def test_reverse_chain_of_20000_nodes_orders_linearly(tmp_path: Path) -> None:
    model = b.onnx_reverse_chain()
    start = time.monotonic()
    nodes, changed = order_nodes(list(model.graph.node), {"x"}, "m.onnx")
    assert time.monotonic() - start < 1.0
    assert changed and nodes[0].name == "relu0" and nodes[-1].name == "relu19999"
    start = time.monotonic()
    graph, _ = read_onnx(_write(tmp_path, model), None)
    assert time.monotonic() - start < 5.0
    assert len(graph.layers) == 20_000 and graph.layers[0].name == "relu0"


@pytest.mark.parametrize(
    ("offset", "length", "words"),
    [
        (0, 5 * 2**30, "needs 1,728 bytes, its external data says 5,368,709,120"),
        (4096, 1728, "lie beyond the end of 'weights.bin' (2,048 bytes)"),
    ],
)
def test_external_data_checked_against_file_size(tmp_path: Path, offset: int, length: int, words: str) -> None:
    model, data = b.onnx_external(offset, length)
    (tmp_path / "weights.bin").write_bytes(data)
    with pytest.raises(UsageError, match="external data|beyond the end") as err:
        read_onnx(_write(tmp_path, model), None)
    assert words in err.value.message


def test_external_data_offset_not_a_number(tmp_path: Path) -> None:
    model, data = b.onnx_external(0, 1728)
    (tmp_path / "weights.bin").write_bytes(data + bytes(1024))
    model.graph.initializer[0].external_data[1].value = "-5"
    with pytest.raises(UsageError, match="offset '-5' is not a number of bytes"):
        read_onnx(_write(tmp_path, model), None)


@pytest.mark.parametrize("op", ["Expand", "ConstantOfShape", "Range"])
def test_huge_constants_stay_symbolic(op: str, tmp_path: Path) -> None:
    start = time.monotonic()
    graph, _ = read_onnx(_write(tmp_path, b.onnx_huge_constant(op)), None)
    assert time.monotonic() - start < 10.0
    add = graph.layers[-1]
    assert add.outputs[0].shape == ((1, 600_000_000) if op == "Range" else (33000, 33000))


def test_fold_size_before_computing() -> None:
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    assert onnx_infer.fold_size("ConstantOfShape", [i64([33000, 33000])], {}) == 33000 * 33000
    assert onnx_infer.fold_size("Expand", [np.ones(1, np.float32), i64([33000, 33000])], {}) == 33000**2
    ranges = [np.array(v, np.float32) for v in (0.0, 6e8, 1.0)]
    assert onnx_infer.fold_size("Range", ranges, {}) == 600_000_000
    assert onnx_infer.fold_size("Range", [np.array(0), np.array(5), np.array(0)], {}) is None
    assert onnx_infer.fold_size("Tile", [np.ones((2, 3)), i64([1000, 1000])], {}) == 6_000_000
    assert onnx_infer.fold_size("Resize", [np.ones(4)], {}) is None
    assert onnx_infer.fold_size("Add", [np.ones(4), np.ones(3)], {}) == 12


def test_non_utf8_strings_become_text(tmp_path: Path) -> None:
    """A byte flip in a name leaves bytes that are not UTF-8: the protobuf runtime hands them
    over as bytes; they are decoded where the model is read, so the result is JSON."""
    import onnx

    model = b.onnx_model(names={"conv": "convX1"})
    model.doc_string = "docXYZ"
    data = b.onnx_bytes(model).replace(b"convX1", b"conv\xff1").replace(b"docXYZ", b"d\xfe\xffocZ")
    raw = onnx.load_from_string(data)
    assert isinstance(raw.graph.node[0].name, bytes)
    normalise_strings(raw)
    assert raw.graph.node[0].name == "conv\ufffd1" and isinstance(raw.doc_string, str)
    graph, _ = read_onnx(_write(tmp_path, data), None)
    assert graph.layers[0].name == "conv\ufffd1"
    json.dumps([(layer.name, layer.attrs, layer.scope) for layer in graph.layers])


def test_attr_values_are_plain_values() -> None:
    from onnx import helper

    node = helper.make_node("X", [], ["y"], a=b"\xff", s=[b"ok", b"\xfe"], t=helper.make_tensor("t", 1, [1], [1.0]))
    assert attr_values(node) == {"a": "\ufffd", "s": ["ok", "\ufffd"]}


def test_onnx_size_cap_overridable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, b.onnx_model())
    monkeypatch.setenv("ZOOPROF_MAX_ONNX_BYTES", "100")
    with pytest.raises(UsageError, match="more than zooprof reads as an ONNX file") as err:
        read_onnx(path, None)
    assert "ZOOPROF_MAX_ONNX_BYTES" in (err.value.hint or "")
    monkeypatch.setenv("ZOOPROF_MAX_ONNX_BYTES", str(10**6))
    read_onnx(path, None)


def test_onnx_special_files(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo.onnx"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        read_onnx(fifo, None)
    sparse = tmp_path / "sparse.onnx"
    with open(sparse, "wb") as f:
        f.truncate(5 * 2**30)
    with pytest.raises(UsageError, match="more than zooprof reads"):
        read_onnx(sparse, None)


# --------------------------------------------------------------------------------------
# TFLite

TFLITE_WORDS = {
    "tflite-input-minus-224": "has the dimension -224 at axis 1",
    "tflite-input-zero": "input 'input' has the shape [1, 0, 8, 3]",
    "tflite-input-int32-max": "has the dimension 2,147,483,647 at axis 1",
    "tflite-weight-empty-buffer": "reads tensor 'conv/filter', which has no data (buffer 3)",
    "tflite-weight-short-buffer": "needs 432 bytes, its buffer 1 holds 100",
    "tflite-op-reads-own-output": "operator 1 (RELU) reads its own output 'relu'",
    "tflite-op-reads-later-output": "written by the later operator 1",
    "tflite-opcode-out-of-range": "uses operator code 7, the file defines 2",
    "tflite-buffer-offset-out-of-range": "a tensor buffer at byte 1000000000",
    "tflite-buffer-index-out-of-range": "refers to buffer 99, the file has 4",
}


@pytest.mark.parametrize("name", sorted(b.TFLITE_MUTATIONS))
def test_tflite_refused(name: str, tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(b.tflite_model(b.TFLITE_MUTATIONS[name]))
    with pytest.raises(UsageError) as err:
        read_tflite(path)
    assert TFLITE_WORDS[name] in err.value.message


def test_tflite_valid_and_real_files_read(tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(b.tflite_model())
    graph, _ = read_tflite(path)
    assert [layer.source_op for layer in graph.layers] == ["CONV_2D", "RELU"]
    assert sum(p.numel for p in graph.layers[0].params) == 4 * 27 + 4
    for real in sorted(TM.glob("*/*.tflite")):
        graph, shapes = read_tflite(real)
        assert graph.layers and shapes == [(1, 3, 224, 224)]


def test_tflite_size_cap_and_special_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sparse = tmp_path / "sparse.tflite"
    with open(sparse, "wb") as f:
        f.truncate(5 * 2**30)
    with pytest.raises(UsageError, match="ZOOPROF_MAX_TFLITE_BYTES"):
        read_tflite(sparse)
    folder = tmp_path / "dir.tflite"
    folder.mkdir()
    with pytest.raises(UsageError, match="is a folder"):
        read_tflite(folder)
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    with pytest.raises(UsageError, match="too few for a flatbuffer"):
        read_tflite(empty)


# --------------------------------------------------------------------------------------
# result cache: folder hashes


def test_deep_folder_refused_without_recursion(tmp_path: Path) -> None:
    import os

    deep = tmp_path / "tm"
    deep.mkdir()
    fd = os.open(deep, os.O_RDONLY)
    for _ in range(1500):  # relative to an open folder: the whole path is longer than PATH_MAX
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    try:
        with pytest.raises(UsageError, match="nested more than 32 levels"):
            cache.path_hash(deep)
    finally:  # removed bottom-up by hand: shutil.rmtree recurses once per level
        fds = [os.open(deep, os.O_RDONLY)]
        for _ in range(1499):
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        for fd in reversed(fds):
            os.rmdir("d", dir_fd=fd)
            os.close(fd)


def test_folder_hash_unchanged_for_ordinary_folders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name, data in (("model.json", b"{}"), ("weights.bin", b"\0" * 10), ("sub/metadata.json", b"[]")):
        (tmp_path / name).write_bytes(data)
    h = hashlib.sha256()
    for p in sorted(q for q in tmp_path.rglob("*") if q.is_file()):  # the former walk
        h.update(f"{p.relative_to(tmp_path)}:{hashlib.sha256(p.read_bytes()).hexdigest()};".encode())
    assert cache.path_hash(tmp_path) == h.hexdigest()


def test_too_many_files_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_FOLDER_FILES", 5)
    for i in range(7):
        (tmp_path / f"f{i}").write_bytes(b"x")
    with pytest.raises(UsageError, match="more than 5 files"):
        cache.path_hash(tmp_path)


def test_a_float_attribute_that_is_not_finite_is_refused(tmp_path: Path) -> None:
    """NaN would reach the result as JSON's non-standard NaN; a model with it is malformed."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from zooprof.errors import UsageError as Refused

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])
    inits = [numpy_helper.from_array(np.ones(3, np.float32), n) for n in ("s", "b", "m", "v")]
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn", epsilon=float("nan"))
    model = helper.make_model(
        helper.make_graph([node], "g", [x], [y], inits), opset_imports=[helper.make_opsetid("", 17)]
    )
    path = tmp_path / "nan.onnx"
    onnx.save(model, str(path))
    import zooprof

    with pytest.raises(Refused, match="attribute 'epsilon' is not a finite number"):
        zooprof.inspect(str(path), use_cache=False)

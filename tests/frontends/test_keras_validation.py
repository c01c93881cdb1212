"""The Keras config checks (zooprof/frontends/keras/validate.py, limits.py): code refused at any
depth by inspect and by the tensorflow runtime before any Keras loader runs; malformed fields
refused with the file, the layer and the field named; limits; graph ordering linear in layers."""

from __future__ import annotations

import importlib.util
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.frontends import keras_fixtures as F
from tests.hostile import keras_files as K
from zooprof.errors import UsageError
from zooprof.frontends.keras.graph import graph_from_config
from zooprof.frontends.keras.limits import check_zip, json_depth_exceeds, load_json
from zooprof.frontends.keras.validate import check_manifest, scan_config

WRAPPERS = ("TimeDistributed", "Bidirectional", "Sequential", "TimeDistributedModel")


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_nested_lambda_is_refused_unless_trusted(wrapper: str, tmp_path: Path) -> None:
    cfg = K.wrapped_lambda_model(wrapper, tmp_path / "PWNED")
    with pytest.raises(UsageError, match=r"m\.h5: the model has a Lambda layer .*code would run"):
        scan_config(cfg, "m.h5", trust=False)
    scan_config(cfg, "m.h5", trust=True)


def test_keras3_serialised_lambda_and_custom_classes_are_code() -> None:
    act = {"class_name": "__lambda__", "config": {"code": "x"}}
    cfg = K.functional(
        [
            K.input_layer([None, 8]),
            K.call({"class_name": "Dense", "config": {"units": 2, "activation": act}}, "d", "input_1"),
        ]
    )
    with pytest.raises(UsageError, match="serialised Python function"):
        scan_config(cfg, "m.keras", trust=False)
    inner = {"class_name": "TimeDistributed", "config": {"layer": {"class_name": "Evil", "config": {}}}}
    cfg = K.functional([K.input_layer([None, 4, 8]), K.call(inner, "td", "input_1")])
    with pytest.raises(UsageError, match="custom layer of class 'Evil' inside layer 'td'"):
        scan_config(cfg, "m.h5", trust=False)


def test_tensorflow_runtime_checks_before_any_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("h5py")
    from zooprof.frontends.keras import loading
    from zooprof.runtimes import tf_rt

    path = K.write_h5(tmp_path / "m.h5", K.wrapped_lambda_model("TimeDistributed", tmp_path / "PWNED"))

    def no_keras() -> Any:
        raise AssertionError("a Keras loader was reached")

    monkeypatch.setattr(loading, "import_keras", no_keras)
    with pytest.raises(UsageError, match="Lambda layer"):
        tf_rt._load_file(path, trust=False)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs tensorflow's metadata")
def test_keras_to_tflite_refuses_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zooprof.measure.convert import keras_to_tflite

    monkeypatch.setenv("ZOOPROF_CACHE_DIR", str(tmp_path / "cache"))
    path = K.write_h5(tmp_path / "m.h5", K.wrapped_lambda_model("Bidirectional", tmp_path / "PWNED"))
    with pytest.raises(UsageError, match="Lambda layer"):
        keras_to_tflite({"model": str(path), "trust": False})
    assert not (tmp_path / "PWNED").exists()


BAD_FIELDS: dict[str, tuple[Any, str]] = {
    "strides": (lambda ls: ls[0]["config"].update(strides=[0, 0]), r"'conv2d_Conv2D1' \(Conv2D\): strides \[0, 0\]"),
    "dilation": (lambda ls: ls[0]["config"].update(dilation_rate=0), "dilation_rate 0 is not a positive"),
    "groups": (lambda ls: ls[0]["config"].update(groups=0), "groups 0 is not a positive integer"),
    "kernel": (lambda ls: ls[0]["config"].update(kernel_size="x"), "kernel_size 'x'"),
    "filters": (lambda ls: ls[0]["config"].update(filters=None), "has no filters"),
    "input-nan": (lambda ls: ls[0]["config"].update(batch_input_shape=[None, float("nan"), 32, 3]), "dimension nan"),
    "input-huge": (lambda ls: ls[0]["config"].update(batch_input_shape=[None, 10**12, 10**12, 3]), "1000000000000"),
    "units": (lambda ls: ls[5]["config"].pop("units"), r"'dense_Dense1' \(Dense\): has no units"),
    "zeropad": (
        lambda ls: ls.insert(1, {"class_name": "ZeroPadding2D", "config": {"name": "zp", "padding": -50}}),
        "padding -50 is not an integer >= 0",
    ),
    "config-int": (lambda ls: ls[4].update(config=7), "its config is 7, not a JSON object"),
    "bn-axis": (lambda ls: ls[3]["config"].update(axis=99), "axis 99 is not an axis"),
    "bn-axis-rank": (lambda ls: ls[3]["config"].update(axis=9), "axis 9 is outside its input of rank 4"),
}


@pytest.mark.parametrize("name", sorted(BAD_FIELDS))
def test_bad_fields_name_the_file_layer_and_field(name: str) -> None:
    edit, message = BAD_FIELDS[name]
    with pytest.raises(UsageError, match=message) as info:
        graph_from_config(K.mutated_topology(edit), source="model.json")
    assert info.value.message.startswith("model.json: ")


@pytest.mark.parametrize(("node", "index"), [(0, -1), (-1, 0)])
def test_negative_inbound_indices_are_refused(node: int, index: int) -> None:
    dense = {"class_name": "Dense", "config": {"units": 2}}
    cfg = K.functional([K.input_layer([None, 8]), K.call(dense, "d", "input_1", node, index)])
    with pytest.raises(UsageError, match="is not an integer >= 0"):
        graph_from_config(cfg, source="m.h5")


def test_inbound_index_out_of_range_is_named() -> None:
    dense = {"class_name": "Dense", "config": {"units": 2}}
    cfg = K.functional([K.input_layer([None, 8]), K.call(dense, "d", "input_1", 0, 5)])
    with pytest.raises(UsageError, match="reads from output 5 of 'input_1', which has 1"):
        graph_from_config(cfg, source="m.h5")


def test_20000_layers_in_reverse_order_read_in_seconds(tmp_path: Path) -> None:
    from zooprof.frontends.tfjs import read_model_json

    path = K.tfjs(tmp_path, K.reversed_chain(20_000), [])
    start = time.monotonic()
    graph, _ = read_model_json(path, None, False)
    assert time.monotonic() - start < 5
    assert [layer.name for layer in graph.layers[:2]] == ["r0", "r1"] and len(graph.layers) == 20_000


def test_sorted_functional_keeps_list_order() -> None:
    graph, _ = graph_from_config(K.reversed_chain(3), source="m.h5")
    assert [layer.name for layer in graph.layers] == ["r0", "r1", "r2"]


def test_nesting_limits() -> None:
    with pytest.raises(UsageError, match="nested more than 32 deep"):
        graph_from_config(json.loads(K.nested_sequential(40)), source="m.h5")
    with pytest.raises(UsageError, match="nests JSON more than 200 levels deep"):
        load_json("[" * 5000 + "]" * 5000, "model.json")
    with pytest.raises(UsageError, match="more than 200 levels"):
        load_json("[" * 300 + "]" * 300, "model.json")
    assert not json_depth_exceeds({"a": [[1]]})


def test_json_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOOPROF_MAX_JSON_BYTES", "10")
    with pytest.raises(UsageError, match="more than zooprof reads.*ZOOPROF_MAX_JSON_BYTES"):
        load_json(b'{"a": 12345678}', "model.json")


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("kernel", "weights 'kernel' is not a list"),
        ([1, 2], "a weight is 1, not an object"),
        ([{"name": "a", "shape": ["x"]}], "shape"),
    ],
)
def test_manifest_shapes(weights: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        check_manifest([{"paths": ["w.bin"], "weights": weights}], "model.json", "hint")


def test_zip_members_checked_before_expanding(tmp_path: Path) -> None:
    path = K.write_keras_zip(tmp_path / "m.keras", {"class_name": "Sequential", "config": {"layers": []}})
    for kw, message in (
        ({"flags": 1}, "is encrypted"),
        ({"method": 99}, "compression method 99"),
        ({"size": 0xFFFFFFF0}, "unpacks to more than"),
    ):
        copy = tmp_path / f"c{len(message)}.keras"
        copy.write_bytes(path.read_bytes())
        K.patch_zip(copy, "config.json", **kw)
        with zipfile.ZipFile(copy) as z, pytest.raises(UsageError, match=message):
            check_zip(z, copy.name, max_total=1 << 30)


def test_model_weights_dataset_is_a_usage_error(tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    from zooprof.frontends.keras.files import read_file

    cfg = K.functional(
        [K.input_layer([None, 8]), K.call({"class_name": "Dense", "config": {"units": 2}}, "d", "input_1")]
    )
    with pytest.raises(UsageError, match="is an HDF5 dataset, not a group"):
        read_file(K.write_h5(tmp_path / "m.h5", cfg, weights_as_dataset=True))


def test_real_topology_still_reads() -> None:
    graph, _ = graph_from_config(F.TFJS_TOPOLOGY, source="model.json")
    assert len(graph.layers) > 5

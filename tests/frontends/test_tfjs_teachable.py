"""TF.js layers models and Teachable Machine exports (folders and zips): figures, the
weight-shard check, safe extraction, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest

import zooprof
from tests.frontends import keras_fixtures as F
from tests.helpers import run
from zooprof.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
TM = ROOT.parent / "shared" / "fixtures" / "teachable-machine"
needs_tm = pytest.mark.skipif(
    not (TM / "tfjs-5class" / "model.json").is_file(), reason="../shared/fixtures/teachable-machine is not present"
)


def inspect(path: Path | str, **kw: Any) -> Any:
    return zooprof.inspect(str(path), use_cache=False, **kw)


def layer_view(r: Any) -> list[tuple[Any, ...]]:
    return [
        (row["name"], row["op"], tuple(row["output_shape"]), row["params"], row["macs"], row["flops"])
        for row in r.layers
    ]


# --------------------------------------------------------------------------------------
# TF.js, self-made


def test_tfjs_hand_written(tmp_path: Path) -> None:
    r = inspect(F.write_tfjs(tmp_path / "m"))
    assert r.model["kind"] == "tfjs" and r.model["framework"] == "tfjs"
    assert r.totals["params"] == F.TFJS_PARAMS and r.totals["trainable_params"] == F.TFJS_TRAINABLE
    assert r.totals["macs"] == F.TFJS_MACS
    assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0
    shapes = {row["name"]: row["output_shape"] for row in r.layers}
    assert shapes["conv2d_Conv2D1"] == [1, 8, 32, 32]
    assert shapes["depthwise_conv2d_DepthwiseConv2D1"] == [1, 8, 14, 14]
    assert shapes["dense_Dense1/activation"] == [1, 10]
    # the folder resolves to its model.json
    assert inspect(tmp_path / "m").totals["params"] == F.TFJS_PARAMS


def test_tfjs_input_shape_is_nchw(tmp_path: Path) -> None:
    topology = json.loads(json.dumps(F.TFJS_TOPOLOGY))
    del topology["config"]["layers"][-2:]  # no Flatten/Dense: any spatial size works
    weights = F.TFJS_WEIGHTS[:8]
    r = inspect(F.write_tfjs(tmp_path / "m", topology, weights), input_shape="2x3x64x48")
    assert r.model["input_shape"] == [2, 3, 64, 48]
    assert r.layers[-1]["output_shape"] == [2, 8, 30, 22]
    assert any("analysed at 2x3x64x48" in n for n in r.model["notes"])


@pytest.mark.parametrize(
    ("shard_bytes", "message"),
    [
        (-1, "the weight file weights.bin listed in model.json is missing"),
        (
            F.TFJS_BYTES - 4,
            f"weights.bin holds {F.TFJS_BYTES - 4:,} bytes, but model.json lists weights of {F.TFJS_BYTES:,} bytes",
        ),
        (F.TFJS_BYTES + 8, f"weights.bin holds {F.TFJS_BYTES + 8:,} bytes"),
    ],
)
def test_tfjs_weight_shards_are_checked_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shard_bytes: int, message: str
) -> None:
    broken = json.loads(json.dumps(F.TFJS_TOPOLOGY))
    broken["config"]["layers"][0]["class_name"] = "NoSuchLayer"  # would fail later: the shards come first
    path = F.write_tfjs(tmp_path / "m", broken, shard_bytes=shard_bytes)
    with pytest.raises(UsageError, match=message):
        inspect(path)
    code, _, err = run(capsys, "inspect", str(path), "--no-cache")
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_tfjs_manifest_must_match_the_topology(tmp_path: Path) -> None:
    weights = json.loads(json.dumps(F.TFJS_WEIGHTS))
    weights[-2]["shape"] = [1000, 10]
    with pytest.raises(
        UsageError,
        match=r"weight 'dense_Dense1/kernel' is 1000x10 in the file, the config gives "
        r"1568x10",
    ):
        inspect(F.write_tfjs(tmp_path / "m", weights=weights))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"modelTopology": {"class_name": "Sequential", "config": {"layers": [', "model.json is not valid JSON"),
        ('{"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": []}', "TF.js graph model"),
        ('{"weightsManifest": []}', "it has no modelTopology"),
    ],
)
def test_tfjs_bad_model_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        inspect(path)
    code, _, err = run(capsys, "inspect", str(path), "--no-cache")
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_tfjs_shard_outside_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * F.TFJS_BYTES)
    with pytest.raises(UsageError, match="outside its folder"):
        inspect(F.write_tfjs(tmp_path / "m", shard="../secret.bin", shard_bytes=-1))


@pytest.mark.slow
def test_inspecting_tfjs_and_teachable_imports_no_tensorflow(tmp_path: Path) -> None:
    """Performance requirement: a TF.js export is read without importing TensorFlow."""
    F.write_tfjs(tmp_path / "m")
    tm = F.write_tm_tfjs(tmp_path / "tm", ["a", "b"])
    F.zip_folder(tm, tmp_path / "tm.zip")
    paths = [str(tmp_path / "m" / "model.json"), str(tm), str(tmp_path / "tm.zip")]
    if (TM / "tfjs-5class" / "model.json").is_file():
        paths.append(str(TM / "tfjs-5class"))
    code = textwrap.dedent(f"""
        import sys
        from zooprof.cli import main
        for p in {paths!r}:
            try:
                main(["inspect", p, "--no-cache", "--format", "json"])
            except SystemExit as exc:
                assert not exc.code, exc.code
        print("HEAVY=" + ",".join(m for m in ("tensorflow", "keras", "tf_keras", "torch", "h5py") if m in sys.modules))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY=" in r.stdout, r.stderr[-2000:]
    assert r.stdout.split("HEAVY=")[1].strip() == ""


# --------------------------------------------------------------------------------------
# Teachable Machine, self-made


def test_teachable_tfjs_folder_and_zip_are_identical(tmp_path: Path) -> None:
    labels = ["cat", "dog", "neither"]
    folder = F.write_tm_tfjs(tmp_path / "my_model", labels)
    flat = F.zip_folder(folder, tmp_path / "flat.zip")
    nested = F.zip_folder(folder, tmp_path / "tm-my-image-model.zip", prefix="my_model/")
    a, b, c = inspect(folder), inspect(flat), inspect(nested)
    assert a.model["kind"] == b.model["kind"] == "teachable"
    assert a.totals["params"] == F.tm_small_params(3)
    for other in (b, c):
        assert layer_view(other) == layer_view(a)
        for key in ("params", "trainable_params", "macs", "flops", "peak_activation_bytes"):
            assert other.totals[key] == a.totals[key], key
    notes = "\n".join(a.model["notes"])
    assert "3 classes: cat, dog, neither" in notes and "tmVersion 2.4.7" in notes and "imageSize 32" in notes
    assert "(x / 127.5) - 1" in notes
    assert a.model["notes"] == c.model["notes"]


def test_teachable_keras_zip_without_tensorflow(tmp_path: Path) -> None:
    """A Keras export made here with h5py only: the TM nesting written as model_config."""
    h5py = pytest.importorskip("h5py")
    topology, weights = F.tm_tfjs_topology(2)
    folder = tmp_path / "converted_keras"
    folder.mkdir()
    with h5py.File(folder / "keras_model.h5", "w") as f:
        f.attrs["model_config"] = json.dumps(topology)
        f.attrs["keras_version"] = "2.4.0"
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = ["sequential_1", "sequential_2"]
        for group, prefix in (("sequential_1", ("Conv1", "bn_Conv1")), ("sequential_2", ("dense_",))):
            sub = g.create_group(group)
            names = [w["name"] + ":0" for w in weights if w["name"].startswith(prefix)]
            sub.attrs["weight_names"] = names
            for w in weights:
                if w["name"].startswith(prefix):
                    sub.create_dataset(w["name"] + ":0", shape=tuple(w["shape"]), dtype="float32")
    (folder / "labels.txt").write_text("0 Class 1\n1 Class 2\n")
    zipped = F.zip_folder(folder, tmp_path / "converted_keras.zip")
    a, b = inspect(folder), inspect(zipped)
    assert a.totals["params"] == F.tm_small_params(2) and a.model["framework"] == "keras"
    assert layer_view(a) == layer_view(b)
    assert any("2 classes: Class 1, Class 2" in n for n in a.model["notes"])


def test_teachable_tflite_is_delegated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TFLite exports go to zooprof.frontends.tflite.read with a tflite-file reference."""
    from zooprof.frontends.keras import graph as keras_graph

    seen: dict[str, Any] = {}

    def fake_read(ref: Any, shapes: Any, options: Any) -> Any:
        seen.update(kind=ref.kind, name=Path(ref.source).name, exists=Path(ref.source).is_file())
        return keras_graph.graph_from_config(F.TFJS_TOPOLOGY, framework="tflite")

    monkeypatch.setitem(sys.modules, "zooprof.frontends.tflite.read", types.SimpleNamespace(read=fake_read))
    folder = tmp_path / "converted_tflite_quantized"
    folder.mkdir()
    (folder / "model.tflite").write_bytes(b"TFL3")
    (folder / "labels.txt").write_text("0 a\n1 b\n")
    r = inspect(F.zip_folder(folder, tmp_path / "converted_tflite_quantized.zip"))
    assert seen == {"kind": "tflite-file", "name": "model.tflite", "exists": True}
    notes = "\n".join(r.model["notes"])
    assert "TFLite quantized" in notes and "zero point 127" in notes and "scale 1/127.5" in notes


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"readme.txt": b"hello"}, "no Teachable Machine model found (files: readme.txt)"),
        ({"../evil.txt": b"x", "labels.txt": b"0 a"}, "'../evil.txt' that points outside the archive"),
        ({"my_model/../../evil.txt": b"x"}, "points outside the archive"),
        ({"/etc/evil.txt": b"x"}, "'/etc/evil.txt' that points outside the archive"),
        ({}, "no Teachable Machine model found (it is empty)"),
    ],
)
def test_bad_zips(tmp_path: Path, capsys: pytest.CaptureFixture[str], entries: dict[str, bytes], message: str) -> None:
    path = _zip(tmp_path / "export.zip", entries)
    with pytest.raises(UsageError) as exc:
        inspect(path)
    assert message in str(exc.value)
    assert not (tmp_path / "evil.txt").exists() and not Path("/etc/evil.txt").exists()
    code, _, err = run(capsys, "inspect", str(path), "--no-cache")
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_damaged_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = F.write_tm_tfjs(tmp_path / "m", ["a", "b"])
    data = F.zip_folder(folder, tmp_path / "ok.zip").read_bytes()
    bad = tmp_path / "converted_tfjs.zip"
    bad.write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "inspect", str(bad), "--no-cache")
    assert code == 2 and "converted_tfjs.zip" in err and "Traceback" not in err


def test_zip_with_a_short_weights_bin_names_the_file(tmp_path: Path) -> None:
    topology, weights = F.tm_tfjs_topology(2)
    folder = tmp_path / "m"
    F.write_tfjs(folder, topology, weights, shard_bytes=100, metadata={"labels": ["a", "b"]})
    with pytest.raises(UsageError, match="export.zip: weights.bin holds 100 bytes, but model.json lists weights of "):
        inspect(F.zip_folder(folder, tmp_path / "export.zip"))


def test_extraction_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zooprof.frontends import teachable

    folder = F.write_tm_tfjs(tmp_path / "m", ["a", "b"])
    path = F.zip_folder(folder, tmp_path / "export.zip")
    monkeypatch.setattr(teachable, "MAX_BYTES", 1000)
    with pytest.raises(UsageError, match="unpacks to more than"):
        inspect(path)
    monkeypatch.setattr(teachable, "MAX_BYTES", 1 << 30)
    monkeypatch.setattr(teachable, "MAX_FILES", 2)
    with pytest.raises(UsageError, match="holds 3 entries"):
        inspect(path)


# --------------------------------------------------------------------------------------
# the real exports (../shared/fixtures/teachable-machine)


@needs_tm
def test_real_tfjs_5class() -> None:
    folder = TM / "tfjs-5class"
    manifest = json.loads((folder / "model.json").read_text())["weightsManifest"]
    values = sum(F._numel(w["shape"]) for g in manifest for w in g["weights"])
    assert values * 4 == (folder / "weights.bin").stat().st_size == 2_155_232
    r = inspect(folder)
    assert r.totals["params"] == 538_808 == values
    assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0
    notes = "\n".join(r.model["notes"])
    assert "5 classes: Nothing, In-ear headphones" in notes and "tmVersion 2.4.7" in notes
    assert "538,808 values" in notes
    direct = inspect(folder / "model.json")
    assert layer_view(direct) == layer_view(r)


@needs_tm
def test_real_tfjs_short_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "tfjs"
    folder.mkdir()
    for name in ("model.json", "metadata.json"):
        (folder / name).write_bytes((TM / "tfjs-5class" / name).read_bytes())
    (folder / "weights.bin").write_bytes((TM / "tfjs-5class" / "weights.bin").read_bytes()[:1_000_000])
    code, _, err = run(capsys, "inspect", str(folder), "--no-cache")
    assert code == 2 and "weights.bin holds 1,000,000 bytes, but model.json lists weights of 2,155,232 bytes" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@needs_tm
def test_real_exports_zipped_and_unzipped(tmp_path: Path) -> None:
    for sub in ("tfjs-5class", "keras-2class"):
        folder = TM / sub
        a = inspect(folder)
        b = inspect(F.zip_folder(folder, tmp_path / f"{sub}.zip", prefix=f"{sub}/"))
        assert layer_view(a) == layer_view(b)
        assert a.totals["params"] == b.totals["params"] == (538_808 if sub.startswith("tfjs") else 538_508)
        assert a.totals["macs"] == b.totals["macs"]


@needs_tm
def test_real_tflite_exports(tmp_path: Path) -> None:
    try:
        import zooprof.frontends.tflite.read  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the TFLite frontend is not available: {exc}")
    folder = TM / "tflite-2class" / "converted_tflite"
    a = inspect(folder)
    b = inspect(F.zip_folder(folder, tmp_path / "converted_tflite.zip"))
    assert layer_view(a) == layer_view(b)
    notes = "\n".join(a.model["notes"])
    assert "TFLite float" in notes and "2 classes" in notes
    q = inspect(TM / "tflite-2class" / "converted_tflite_quantized")
    assert "zero point 127" in "\n".join(q.model["notes"])

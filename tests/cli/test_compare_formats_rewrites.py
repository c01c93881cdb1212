"""`zooprof compare-formats`, Keras against TFLite: what the converter rewrites beyond BN folding
and biases, each explained from the layers as one exact sum of terms (zooprof.compare.parity.rewrites):
LayerNorm written as element-wise ops, input preprocessing kept (its constants become weights)
or removed, repeated ops merged, reshape targets computed from shapes. Self-made models here
(hand calculations); the keras.applications models they stand for, slow, against Keras' own
layers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zooprof.compare.parity import compare
from zooprof.compare.parity.model import ParityReport, Term


def terms(items: list[Term]) -> dict[str, int]:
    return {t.cause: t.value for t in items}


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three self-made models of tflite_fixtures, saved as .keras and converted to float TFLite."""
    pytest.importorskip("tensorflow", reason="TensorFlow converts the self-made models to TFLite")
    from tests.frontends import tflite_fixtures as fx

    fx._quiet()
    folder = tmp_path_factory.mktemp("rewritten")
    for name in ("layernorm", "identity_normalization", "repeated_ops"):
        model = getattr(fx, f"{name}_model")()
        model.save(folder / f"{name}.keras")
        (folder / f"{name}.tflite").write_bytes(fx._convert(model, "float"))
        (folder / f"{name}.json").write_text(json.dumps({"params": int(model.count_params())}))
    return folder


def pair(folder: Path, name: str) -> ParityReport:
    return compare([str(folder / f"{name}.keras"), str(folder / f"{name}.tflite")])


def test_layernorm_written_as_elementwise_ops(rewritten: Path) -> None:
    """By hand (layernorm_model): conv 8x8x8 = 512 outputs, LayerNorm over C = 8 at 64 positions,
    a Dense(16) on the image (64 rows), LayerNorm over C = 16 at 1 position, Dense(4)."""
    c = pair(rewritten, "layernorm")
    keras, tfl = c.formats[0].read_figures, c.formats[1].read_figures
    assert keras.params == json.loads((rewritten / "layernorm.json").read_text())["params"] == 484
    assert tfl.coverage_percent == 100.0 and c.macs.equal and c.layers.agree
    assert keras.layernorm.norms == 2 and keras.layernorm.channels == 8 + 16 and keras.layernorm.params == 48
    dec = tfl.decomposed_norms
    # MEAN, NEG, SQUARED_DIFFERENCE, MEAN, ADD, RSQRT, MUL (gamma), MUL, MUL, ADD per LayerNorm
    assert (dec.norms, dec.layers, dec.channels, dec.params) == (2, 20, 24, 24)
    # n elements, N positions: means 2 (n + N), neg N, squared difference 2n, add N, rsqrt N, 4 x n
    assert dec.flops == sum(8 * n + 5 * p for n, p in ((512, 64), (16, 1))) == 4_549
    assert keras.layernorm.flops == 8 * (512 + 16)

    (params,) = c.params_findings
    assert params.explained and params.difference == 446 - 484 == sum(t.value for t in params.terms)
    assert terms(params.terms) == {
        "dropped dense biases": -(16 + 4),
        "decomposed layer norms": -(8 + 16),  # the all-zero beta; gamma is kept
        "input preprocessing": 3 + 3,  # the Normalization's mean and 1/std become weights
    }
    assert "keep 24 of the 48 values Keras float32 counts (the scale; the offset" in params.text
    assert keras.preprocessing.sources == {"Rescaling": 1, "Normalization": 2}
    assert (keras.preprocessing.params, tfl.preprocessing.params) == (0, 6)
    assert keras.preprocessing.flops == tfl.preprocessing.flops == 3 * 8 * 8 * 3

    (flops,) = c.flops_findings
    assert flops.explained and flops.difference == sum(t.value for t in flops.terms)
    assert terms(flops.terms) == {
        "dropped dense biases": -(64 * 16 + 4),
        "decomposed layer norms": 5 * 64 + 5 * 1,
        "shape computations": 3 + 1,  # REDUCE_PROD over (N, H, W) and over (C,)
    }
    assert tfl.shape_ops.sources == {"SHAPE": 1, "GATHER": 2, "REDUCE_PROD": 2, "CONCATENATION": 1, "PACK": 1}
    d = c.to_dict()
    for key in ("layernorm", "decomposed_norms", "preprocessing", "duplicates", "shape_ops"):
        assert key in d["formats"][0] and key in d["formats"][1]
    assert sum(t["value"] for t in d["params"]["findings"][0]["terms"]) == params.difference
    assert sum(t["value"] for t in d["flops"]["findings"][0]["terms"]) == flops.difference


def test_untrained_normalization_is_removed(rewritten: Path) -> None:
    """EfficientNetB0's stem: the converter removes the never-adapted Normalization (mean 0,
    variance 1, count: 7 weights) and folds the Rescaling into the conv."""
    c = pair(rewritten, "identity_normalization")
    keras, tfl = c.formats[0].read_figures, c.formats[1].read_figures
    assert keras.params == json.loads((rewritten / "identity_normalization.json").read_text())["params"] == 267
    assert tfl.preprocessing.layers == 0 and keras.preprocessing.layers == 3
    (params,) = c.params_findings
    assert params.explained and terms(params.terms) == {"dropped dense biases": -4, "input preprocessing": -7}
    assert "has none of the 3 element-wise ops with a constant" in params.text
    (flops,) = c.flops_findings
    assert flops.explained and terms(flops.terms) == {"dropped dense biases": -4, "input preprocessing": -3 * 192}


def test_repeated_ops_are_merged(rewritten: Path) -> None:
    """NASNet's cells: the ReLU and the 3x3 average pool on one 8x8x8 tensor twice in Keras, once
    in TFLite: 512 (ReLU, 1 per element) + 9 x 512 (pool, kernel area per output) FLOPs."""
    c = pair(rewritten, "repeated_ops")
    keras = c.formats[0].read_figures
    assert keras.duplicates.sources == {"relu": 1, "avgpool": 1} and keras.duplicates.params == 0
    (flops,) = c.flops_findings
    assert flops.explained and terms(flops.terms) == {"dropped dense biases": -4, "repeated ops merged": -(512 + 4608)}
    assert "Keras float32 computes 2 layers a second time on the same input (relu, avgpool" in flops.text
    assert all(p.explained for p in c.params_findings) and c.macs.equal and c.layers.agree


# --------------------------------------------------------------------------------------
# the keras.applications models (slow: building and converting them takes 20 s to 3 minutes)

APPS_SCRIPT = """
import json, sys, warnings
warnings.simplefilter("ignore")
import keras
from zooprof.compare.parity import compare
from zooprof.measure.convert import keras_to_tflite

name, folder = sys.argv[1], sys.argv[2]
model = getattr(keras.applications, name)(weights=None)
model.save(f"{folder}/{name}.keras")
tflite, _ = keras_to_tflite({"model": f"{folder}/{name}.keras"})
L = keras.layers


def walk(m):  # nested models (ConvNeXt's stem and downsampling layers are Sequential) flattened
    for l in m.layers:
        yield from walk(l) if hasattr(l, "layers") else [l]


ref = {
    "params": int(model.count_params()),
    "dense_bias": sum(int(l.bias.shape[0]) for l in walk(model) if isinstance(l, L.Dense) and l.use_bias),
    "ln_beta": sum(int(l.beta.shape[0]) for l in walk(model) if isinstance(l, L.LayerNormalization) and l.center),
    "ln_positions": sum(int(l.output.shape[1]) * int(l.output.shape[2]) if len(l.output.shape) == 4 else 1
                        for l in walk(model) if isinstance(l, L.LayerNormalization)),
    "norm_weights": sum(int(l.count_params()) for l in walk(model) if isinstance(l, L.Normalization)),
    "norm_channels": sum(int(l.output.shape[-1]) for l in walk(model) if isinstance(l, L.Normalization)),
    "input_elements": int(model.inputs[0].shape[1] * model.inputs[0].shape[2] * model.inputs[0].shape[3]),
}
seen, repeated = set(), {}
for l in walk(model):  # a layer of the same class and config (its name aside) on the same tensor
    if l.weights or not isinstance(l, (L.Activation, L.ReLU, L.AveragePooling2D, L.MaxPooling2D)):
        continue
    config = {k: v for k, v in l.get_config().items() if k != "name"}
    key = (type(l).__name__, id(l.input), json.dumps(config, sort_keys=True, default=str))
    if key in seen:
        out = 1
        for d in l.output.shape[1:]:
            out *= int(d)
        area = 1 if not hasattr(l, "pool_size") else l.pool_size[0] * l.pool_size[1]
        cost = out * (area if isinstance(l, L.AveragePooling2D) else area - 1 if isinstance(l, L.MaxPooling2D) else 1)
        repeated[type(l).__name__] = repeated.get(type(l).__name__, 0) + cost
    seen.add(key)
ref["repeated"] = repeated
c = compare([f"{folder}/{name}.keras", str(tflite)])
print("RESULT=" + json.dumps({"report": c.to_dict(), "ref": ref}))
"""


def app_report(name: str, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(compare-formats' JSON, references from the Keras model) for keras.applications NAME, in a
    subprocess: TensorFlow keeps every model it built."""
    pytest.importorskip("tensorflow")
    r = subprocess.run(
        [sys.executable, "-c", APPS_SCRIPT, name, str(tmp_path)], capture_output=True, text=True, timeout=1200
    )
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT=")]
    assert line, r.stderr[-3000:]
    out = json.loads(line[-1][7:])
    return out["report"], out["ref"]


def finding_terms(report: dict[str, Any], kind: str) -> dict[str, int]:
    (finding,) = report[kind]["findings"]
    assert finding["explained"], finding["text"]
    assert sum(t["value"] for t in finding["terms"]) == finding["difference"]
    return {t["cause"]: t["value"] for t in finding["terms"]}


@pytest.mark.slow
def test_convnext_tiny_every_difference_explained(tmp_path: Path) -> None:
    report, ref = app_report("ConvNeXtTiny", tmp_path)
    keras, tfl = report["formats"]
    assert keras["params"] == ref["params"] and tfl["coverage_percent"] == 100.0
    p = finding_terms(report, "params")
    assert p["dropped dense biases"] == -ref["dense_bias"] == -34_120
    assert p["decomposed layer norms"] == -ref["ln_beta"] == -8_160
    assert p["input preprocessing"] == 2 * ref["norm_channels"] == 6  # mean and 1/std, weights in TFLite
    f = finding_terms(report, "flops")
    assert f["decomposed layer norms"] == 5 * ref["ln_positions"]  # 8n + 5N against 8n per LayerNorm
    assert report["macs"]["equal"] and report["layers"]["agree"]


@pytest.mark.slow
def test_efficientnet_b0_every_difference_explained(tmp_path: Path) -> None:
    report, ref = app_report("EfficientNetB0", tmp_path)
    keras, _ = report["formats"]
    assert keras["params"] == ref["params"]
    p = finding_terms(report, "params")
    assert p["input preprocessing"] == -ref["norm_weights"] == -7  # the untrained Normalization, removed
    assert p["dropped dense biases"] == -ref["dense_bias"] == -1_000
    f = finding_terms(report, "flops")
    assert f["input preprocessing"] == -3 * ref["input_elements"]  # Rescaling, subtract, divide
    assert report["macs"]["equal"] and report["layers"]["agree"]


@pytest.mark.slow
def test_efficientnet_v2_b0_every_difference_explained(tmp_path: Path) -> None:
    report, ref = app_report("EfficientNetV2B0", tmp_path)
    keras, _ = report["formats"]
    assert keras["params"] == ref["params"] and ref["norm_weights"] == 0  # mean, variance in the config
    p = finding_terms(report, "params")
    assert p["input preprocessing"] == 2 * ref["norm_channels"] == 6
    finding_terms(report, "flops")
    assert report["macs"]["equal"] and report["layers"]["agree"]


@pytest.mark.slow
def test_nasnet_mobile_every_difference_explained(tmp_path: Path) -> None:
    report, ref = app_report("NASNetMobile", tmp_path)
    keras, _ = report["formats"]
    assert keras["params"] == ref["params"]
    finding_terms(report, "params")
    f = finding_terms(report, "flops")
    assert f["repeated ops merged"] == -sum(ref["repeated"].values()) == -7_096_448
    assert report["macs"]["equal"] and report["layers"]["agree"]

"""Self-made Keras, TF.js and Teachable Machine fixtures, so the frontend tests stand alone.

- TF.js layers models written by hand (no TensorFlow): `TFJS_TOPOLOGY` (a small Sequential with
  figures computed by hand below) and `tm_tfjs_topology` (the Teachable Machine nesting:
  Sequential[Sequential[Model, GlobalAveragePooling2D], Sequential[Dense, Dense]]).
- Keras models built with tf_keras (Keras 2, saved as .h5 / SavedModel) or keras (Keras 3,
  saved as .keras): `feature_model` uses most layer kinds the config reader handles, so the
  shapes and parameter counts Keras computes can be compared layer by layer.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from tests.helpers import load_bench

# --------------------------------------------------------------------------------------
# TF.js, by hand

_CL = {"data_format": "channels_last", "trainable": True}

#: 32x32x3 -> conv 3x3 same (8, relu) -> maxpool 2 -> depthwise 3x3 valid -> BN -> flatten -> dense 10
TFJS_TOPOLOGY: dict[str, Any] = {
    "class_name": "Sequential",
    "keras_version": "tfjs-layers 1.3.1",
    "backend": "tensor_flow.js",
    "config": {
        "name": "sequential_1",
        "layers": [
            {
                "class_name": "Conv2D",
                "config": {
                    "filters": 8,
                    "kernel_size": [3, 3],
                    "strides": [1, 1],
                    "padding": "same",
                    "dilation_rate": [1, 1],
                    "activation": "relu",
                    "use_bias": True,
                    "name": "conv2d_Conv2D1",
                    "batch_input_shape": [None, 32, 32, 3],
                    "dtype": "float32",
                    **_CL,
                },
            },
            {
                "class_name": "MaxPooling2D",
                "config": {
                    "pool_size": [2, 2],
                    "padding": "valid",
                    "strides": [2, 2],
                    "name": "max_pooling2d_MaxPooling2D1",
                    **_CL,
                },
            },
            {
                "class_name": "DepthwiseConv2D",
                "config": {
                    "kernel_size": [3, 3],
                    "strides": [1, 1],
                    "padding": "valid",
                    "depth_multiplier": 1,
                    "use_bias": True,
                    "activation": "linear",
                    "dilation_rate": [1, 1],
                    "name": "depthwise_conv2d_DepthwiseConv2D1",
                    **_CL,
                },
            },
            {
                "class_name": "BatchNormalization",
                "config": {
                    "axis": -1,
                    "center": True,
                    "scale": True,
                    "epsilon": 0.001,
                    "momentum": 0.99,
                    "name": "batch_normalization_BatchNormalization1",
                    "trainable": True,
                },
            },
            {"class_name": "Flatten", "config": {"name": "flatten_Flatten1", "trainable": True}},
            {
                "class_name": "Dense",
                "config": {
                    "units": 10,
                    "activation": "softmax",
                    "use_bias": True,
                    "name": "dense_Dense1",
                    "trainable": True,
                },
            },
        ],
    },
}

TFJS_WEIGHTS: list[dict[str, Any]] = [
    {"name": "conv2d_Conv2D1/kernel", "shape": [3, 3, 3, 8], "dtype": "float32"},
    {"name": "conv2d_Conv2D1/bias", "shape": [8], "dtype": "float32"},
    {"name": "depthwise_conv2d_DepthwiseConv2D1/depthwise_kernel", "shape": [3, 3, 8, 1], "dtype": "float32"},
    {"name": "depthwise_conv2d_DepthwiseConv2D1/bias", "shape": [8], "dtype": "float32"},
    {"name": "batch_normalization_BatchNormalization1/gamma", "shape": [8], "dtype": "float32"},
    {"name": "batch_normalization_BatchNormalization1/beta", "shape": [8], "dtype": "float32"},
    {"name": "batch_normalization_BatchNormalization1/moving_mean", "shape": [8], "dtype": "float32"},
    {"name": "batch_normalization_BatchNormalization1/moving_variance", "shape": [8], "dtype": "float32"},
    {"name": "dense_Dense1/kernel", "shape": [1568, 10], "dtype": "float32"},
    {"name": "dense_Dense1/bias", "shape": [10], "dtype": "float32"},
]

# By hand: conv 3*3*3*8 + 8 = 224; depthwise 3*3*8 + 8 = 80; BN 4*8 = 32 (16 of them moving
# statistics); flatten 14*14*8 = 1568; dense 1568*10 + 10 = 15,690.
TFJS_PARAMS = 224 + 80 + 32 + 15_690  # 16,026
TFJS_TRAINABLE = TFJS_PARAMS - 16  # 16,010
# conv 32*32*8 outputs x 27; depthwise 14*14*8 outputs x 9; dense 10 x 1568
TFJS_MACS = 32 * 32 * 8 * 27 + 14 * 14 * 8 * 9 + 10 * 1568  # 250,976
TFJS_BYTES = TFJS_PARAMS * 4


def _numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def write_tfjs(
    folder: Path,
    topology: dict[str, Any] | None = None,
    weights: list[dict[str, Any]] | None = None,
    shard_bytes: int | None = None,
    metadata: dict[str, Any] | None = None,
    shard: str = "weights.bin",
) -> Path:
    """model.json (+ the shard of zeros, + metadata.json) in `folder`; returns model.json's path."""
    folder.mkdir(parents=True, exist_ok=True)
    topology = TFJS_TOPOLOGY if topology is None else topology
    weights = TFJS_WEIGHTS if weights is None else weights
    manifest = [{"paths": [shard], "weights": weights}]
    (folder / "model.json").write_text(json.dumps({"modelTopology": topology, "weightsManifest": manifest}))
    size = sum(_numel(w["shape"]) * 4 for w in weights) if shard_bytes is None else shard_bytes
    if size >= 0:
        (folder / shard).write_bytes(b"\0" * size)
    if metadata is not None:
        (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder / "model.json"


def tm_tfjs_topology(classes: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A small model with Teachable Machine's nesting (tfjs-layers style) and its manifest weights.

    Backbone: ZeroPadding (0,1) -> Conv 3x3/2 (8, no bias) -> BN -> ReLU6 on 32x32x3 = 216 + 32
    params; head: Dense 100 relu (8*100 + 100) and Dense N softmax without bias (100 N)."""
    backbone = {
        "class_name": "Model",
        "config": {
            "name": "model1",
            "layers": [
                {
                    "name": "input_1",
                    "class_name": "InputLayer",
                    "inbound_nodes": [],
                    "config": {
                        "batch_input_shape": [None, 32, 32, 3],
                        "dtype": "float32",
                        "sparse": False,
                        "name": "input_1",
                    },
                },
                {
                    "name": "Conv1_pad",
                    "class_name": "ZeroPadding2D",
                    "inbound_nodes": [[["input_1", 0, 0, {}]]],
                    "config": {"padding": [[0, 1], [0, 1]], "name": "Conv1_pad", **_CL},
                },
                {
                    "name": "Conv1",
                    "class_name": "Conv2D",
                    "inbound_nodes": [[["Conv1_pad", 0, 0, {}]]],
                    "config": {
                        "filters": 8,
                        "kernel_size": [3, 3],
                        "strides": [2, 2],
                        "padding": "valid",
                        "dilation_rate": [1, 1],
                        "activation": "linear",
                        "use_bias": False,
                        "name": "Conv1",
                        **_CL,
                    },
                },
                {
                    "name": "bn_Conv1",
                    "class_name": "BatchNormalization",
                    "inbound_nodes": [[["Conv1", 0, 0, {}]]],
                    "config": {
                        "axis": -1,
                        "center": True,
                        "scale": True,
                        "epsilon": 0.001,
                        "name": "bn_Conv1",
                        "trainable": True,
                    },
                },
                {
                    "name": "out_relu",
                    "class_name": "ReLU",
                    "inbound_nodes": [[["bn_Conv1", 0, 0, {}]]],
                    "config": {"max_value": 6, "name": "out_relu", "trainable": True},
                },
            ],
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["out_relu", 0, 0]],
        },
    }
    topology = {
        "class_name": "Sequential",
        "keras_version": "tfjs-layers 1.3.1",
        "backend": "tensor_flow.js",
        "config": {
            "name": "sequential_3",
            "layers": [
                {
                    "class_name": "Sequential",
                    "config": {
                        "name": "sequential_1",
                        "layers": [
                            backbone,
                            {
                                "class_name": "GlobalAveragePooling2D",
                                "config": {"name": "global_average_pooling2d_GlobalAveragePooling2D1", **_CL},
                            },
                        ],
                    },
                },
                {
                    "class_name": "Sequential",
                    "config": {
                        "name": "sequential_2",
                        "layers": [
                            {
                                "class_name": "Dense",
                                "config": {
                                    "units": 100,
                                    "activation": "relu",
                                    "use_bias": True,
                                    "name": "dense_Dense1",
                                    "trainable": True,
                                    "batch_input_shape": [None, 8],
                                },
                            },
                            {
                                "class_name": "Dense",
                                "config": {
                                    "units": classes,
                                    "activation": "softmax",
                                    "use_bias": False,
                                    "name": "dense_Dense2",
                                    "trainable": True,
                                },
                            },
                        ],
                    },
                },
            ],
        },
    }
    weights = [
        {"name": "Conv1/kernel", "shape": [3, 3, 3, 8], "dtype": "float32"},
        {"name": "bn_Conv1/gamma", "shape": [8], "dtype": "float32"},
        {"name": "bn_Conv1/beta", "shape": [8], "dtype": "float32"},
        {"name": "bn_Conv1/moving_mean", "shape": [8], "dtype": "float32"},
        {"name": "bn_Conv1/moving_variance", "shape": [8], "dtype": "float32"},
        {"name": "dense_Dense1/kernel", "shape": [8, 100], "dtype": "float32"},
        {"name": "dense_Dense1/bias", "shape": [100], "dtype": "float32"},
        {"name": "dense_Dense2/kernel", "shape": [100, classes], "dtype": "float32"},
    ]
    return topology, weights


def tm_small_params(classes: int) -> int:
    return 216 + 32 + 8 * 100 + 100 + 100 * classes


def write_tm_tfjs(folder: Path, labels: list[str]) -> Path:
    topology, weights = tm_tfjs_topology(len(labels))
    metadata = {
        "tfjsVersion": "1.3.1",
        "tmVersion": "2.4.7",
        "packageVersion": "0.8.4-alpha2",
        "packageName": "@teachablemachine/image",
        "timeStamp": "2024-03-14T20:54:14.209Z",
        "userMetadata": {},
        "modelName": "tm-my-image-model",
        "labels": labels,
        "imageSize": 32,
    }
    write_tfjs(folder, topology, weights, metadata=metadata)
    return folder


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    """Zip the files of `folder` (entries under `prefix`, e.g. 'my_model/')."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, prefix + str(p.relative_to(folder)))
    return archive


# --------------------------------------------------------------------------------------
# Keras (tf_keras or keras 3)


def feature_model(K: Any) -> Any:
    """A functional model with most layer kinds zooprof reads (works with tf_keras and keras 3)."""
    L = K.layers
    i = K.Input((32, 32, 3), name="image")
    x = L.Rescaling(1 / 127.5, offset=-1, name="rescale")(i)
    x = L.ZeroPadding2D(((0, 1), (0, 1)), name="pad")(x)
    x = L.Conv2D(16, 3, strides=2, padding="valid", use_bias=False, name="conv1")(x)  # 16x16x16
    x = L.BatchNormalization(name="bn1")(x)
    x = L.ReLU(6.0, name="relu1")(x)
    y = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
    y = L.Conv2D(16, 1, activation="relu", name="pw")(y)
    x = L.Add(name="add")([x, y])
    s = L.GlobalAveragePooling2D(keepdims=True, name="se_pool")(x)
    s = L.Conv2D(4, 1, activation="relu", name="se_reduce")(s)
    s = L.Conv2D(16, 1, activation="hard_sigmoid", name="se_expand")(s)
    x = L.Multiply(name="se_mul")([x, s])
    a = L.SeparableConv2D(8, 3, strides=2, padding="same", name="sep")(x)  # 8x8x8
    b = L.MaxPooling2D(3, strides=2, padding="same", name="maxpool")(x)  # 8x8x16
    x = L.Concatenate(name="concat")([a, b])  # 8x8x24
    x = L.Conv2D(24, 3, dilation_rate=2, padding="same", activation="swish", name="dilated")(x)
    x = L.AveragePooling2D(2, name="avgpool")(x)  # 4x4x24
    x = L.Conv2DTranspose(8, 3, strides=2, padding="same", name="up")(x)  # 8x8x8
    x = L.Cropping2D(((1, 1), (1, 1)), name="crop")(x)  # 6x6x8
    x = L.LayerNormalization(name="ln")(x)
    x = L.Dense(12, activation="gelu", name="dense_channels")(x)  # 6x6x12
    x = L.Dropout(0.2, name="drop")(x)
    g = L.GlobalMaxPooling2D(name="gmp")(x)  # 12
    x = L.Permute((2, 1, 3), name="permute")(x)
    x = L.Reshape((36, 12), name="reshape")(x)
    x = L.Conv1D(6, 3, padding="causal", name="conv1d")(x)  # 36x6
    x = L.Flatten(name="flatten")(x)  # 216
    x = L.Concatenate(name="concat2")([x, g])  # 228
    x = L.Dense(10, name="logits")(x)
    o = L.Softmax(name="softmax")(x)
    return K.Model(i, o, name="features")


def nested_model(K: Any) -> Any:
    """Teachable Machine's nesting plus a frozen part and a shared layer (called twice)."""
    L = K.layers
    inner_in = K.Input((16, 16, 3), name="inner_input")
    h = L.Conv2D(8, 3, strides=2, padding="same", name="inner_conv")(inner_in)
    h = L.BatchNormalization(name="inner_bn")(h)
    h = L.ReLU(name="inner_relu")(h)
    inner = K.Model(inner_in, h, name="model1")
    inner.trainable = False
    body = K.Sequential([K.Input((16, 16, 3)), inner, L.GlobalAveragePooling2D(name="gap")], name="sequential_1")
    shared = L.Dense(8, activation="relu", name="shared")
    i = K.Input((16, 16, 3), name="image")
    f = body(i)
    a = shared(f)
    b = shared(a)
    o = L.Dense(3, activation="softmax", use_bias=False, name="classes")(L.Add(name="join")([a, b]))
    return K.Model(i, o, name="outer")


def rnn_model(K: Any) -> Any:
    """Recurrent layers: no rule (uncounted), their weights taken from the file."""
    L = K.layers
    i = K.Input((10, 4), name="seq")
    x = L.Bidirectional(L.LSTM(3, return_sequences=True), name="bi")(i)
    x = L.GRU(5, name="gru")(x)
    return K.Model(i, L.Dense(2, name="out")(x), name="rnn")


def lambda_model(K: Any) -> Any:
    L = K.layers
    i = K.Input((8,), name="x")
    h = L.Dense(4, name="d1")(i)
    h = L.Lambda(lambda t: t * 2.0, name="double")(h)
    return K.Model(i, L.Dense(2, name="d2")(h), name="with_lambda")


def logical(shape: Any) -> tuple[int, ...]:
    """A Keras (N, ..., C) shape with batch 1, in zooprof's N, C, spatial order."""
    s = tuple(1 if d is None else int(d) for d in shape)
    return s if len(s) < 3 else (s[0], s[-1], *s[1:-1])


def keras_layer_shapes(model: Any) -> dict[str, tuple[int, ...]]:
    """Output shape (logical, batch 1) of every top-level layer of a Keras model."""
    out = {}
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError, RuntimeError):
            continue
        out[layer.name] = logical(shape)
    return out


def count(model: Any) -> tuple[int, int]:
    """(count_params, trainable count) as Keras gives them."""
    trainable = sum(int(_numel(list(w.shape))) for w in model.trainable_weights)
    return int(model.count_params()), trainable


def tf_profiler_macs(model: Any, shape: tuple[int, ...]) -> int:
    """MACs of a Keras model by TensorFlow's profiler (bench/tf_reference.py, shared with the catalogue)."""
    return load_bench("tf_reference").tf_profiler_macs(model, shape)  # type: ignore[no-any-return]

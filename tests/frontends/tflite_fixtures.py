"""Self-made TFLite files for the TFLite frontend tests (the suite must stand alone).

`build(folder)` makes a small Keras model that uses every op the MobileNet-style exports
use (conv with a fused activation and SAME asymmetric padding, explicit pad, depthwise conv + batch norm + ReLU6, residual add,
SAME conv with asymmetric padding, average and max pooling, channel concat, global average
pooling, dense, softmax) and converts it with TFLiteConverter:

- float32,
- full int8 with a representative dataset (float input and output, so the file starts with
  QUANTIZE and ends with DEQUANTIZE),
- float16 weights (DEQUANTIZE ops expand them),
- a model with a resize (Resizing -> RESIZE_BILINEAR), whose UpSampling2D
  leaves tensor shapes dynamic in the file,
- element-wise, activation and data-movement ops (HARD_SWISH, LOGISTIC, TANH, MUL, SUB, DIV,
  STRIDED_SLICE, TRANSPOSE, RESHAPE),
- a model whose height and width are dynamic (Input((None, None, 3))),
- an "Edge TPU" file: the int8 model's input and output around one `edgetpu-custom-op`,
  written with the flatbuffers package and LiteRT's schema classes (what the Edge TPU
  compiler writes, minus the compiled program).

The expected figures are hand calculations (below), checked against the Keras model itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: MACs by hand, layer by layer (conv: output elements x C_in/groups x kernel area; dense: out x in)
HAND_MACS = {
    "conv1 3x3 s2 3->16, out 16x16x16": 16 * 16 * 16 * 3 * 3 * 3,  # 110,592
    "depthwise 3x3, out 16x16x16": 16 * 16 * 16 * 1 * 3 * 3,  # 36,864
    "pointwise 1x1 16->16, out 16x16x16": 16 * 16 * 16 * 16,  # 65,536
    "conv 3x3 s2 SAME 16->16, out 8x8x16": 8 * 8 * 16 * 16 * 3 * 3,  # 147,456
    "dense 32->64": 64 * 32,  # 2,048
    "dense 64->10": 10 * 64,  # 640
}
MACS = sum(HAND_MACS.values())  # 363,136
RESIZE_MACS = 30 * 30 * 4 * 3 * 3 * 3  # 97,200
DYNAMIC_MACS_AT_32 = 32 * 32 * 8 * 3 * 3 * 3 + 8 * 4  # 221,216 at 1x3x32x32

#: Keras params: conv1 448, depthwise 144 (no bias), BN 64 (gamma, beta, mean, var),
#: pointwise 272, conv 2,320, dense 2,112 and 650
KERAS_PARAMS = 448 + 144 + 4 * 16 + 272 + 2320 + 2112 + 650  # 6,010
#: TFLite folds the BN into the depthwise conv: its 4 x 16 values become a 16-value bias
TFLITE_PARAMS = KERAS_PARAMS - 4 * 16 + 16  # 5,962
#: bias values (int32 in the int8 file): conv1, depthwise (folded BN), pointwise, conv, dense, dense
BIASES = 16 + 16 + 16 + 16 + 64 + 10


@dataclass
class Built:
    folder: Path
    keras_file: Path
    float_file: Path
    int8_file: Path
    fp16_file: Path
    unknown_file: Path
    edgetpu_file: Path
    ops_file: Path
    dynamic_file: Path
    dense_image_file: Path | None = None
    keras_macs: int = 0
    keras_params: int = 0
    info: dict[str, Any] = field(default_factory=dict)


def _quiet() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def small_model() -> Any:
    import keras
    from keras import layers

    inp = keras.Input((32, 32, 3), name="image")
    # the converter turns this pad + VALID conv into one SAME conv with padding (0, 1)
    x = layers.ZeroPadding2D(((0, 1), (0, 1)), name="pad0")(inp)
    x = layers.Conv2D(16, 3, strides=2, padding="valid", activation="relu", name="conv1")(x)
    y = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw")(x)
    y = layers.BatchNormalization(name="dw_bn")(y)
    y = layers.ReLU(6.0, name="dw_relu6")(y)
    y = layers.Conv2D(16, 1, name="pw")(y)
    x = layers.Add(name="residual")([x, y])
    z = layers.Conv2D(16, 3, strides=2, padding="same", name="conv_same")(x)
    p = layers.ZeroPadding2D(1, name="pad")(x)  # stays a PAD: 16 -> 18
    p = layers.AveragePooling2D(3, strides=2, name="avgpool")(p)  # (18 - 3)/2 + 1 = 8
    c = layers.Concatenate(name="concat")([z, p])
    c = layers.MaxPooling2D(2, padding="same", name="maxpool")(c)
    g = layers.GlobalAveragePooling2D(name="gap")(c)
    d = layers.Dense(64, activation="relu", name="fc1")(g)
    out = layers.Dense(10, activation="softmax", name="fc2")(d)
    model = keras.Model(inp, out, name="small")
    randomise(model)
    return model


def randomise(model: Any) -> None:
    """Random weights, biases and batch-norm statistics, as a trained model has: the converter
    merges equal constants (an untrained model's all-zero biases) and drops zero bias adds."""
    import numpy as np
    from keras import layers

    rng = np.random.default_rng(0)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if isinstance(layer, layers.BatchNormalization):  # gamma, beta, moving mean, moving variance
            c = weights[0].shape
            layer.set_weights(
                [rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c), rng.normal(0, 0.1, c), rng.uniform(0.5, 1.5, c)]
            )
        else:
            layer.set_weights([rng.normal(0, 0.2, w.shape).astype(w.dtype) for w in weights])


def unknown_model() -> Any:
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 3), name="image")
    x = layers.Resizing(16, 16, interpolation="bilinear", name="resize")(inp)  # RESIZE_BILINEAR
    x = layers.UpSampling2D(2, name="up")(x)  # Keras 3: SHAPE/TILE/RESHAPE, dynamic shapes in the file
    out = layers.Conv2D(4, 3, name="conv")(x)  # 32x32 -> 30x30x4: 900 x 4 x 27 = 97,200 MACs
    model = keras.Model(inp, out, name="with_resize")
    randomise(model)
    return model


def ops_model() -> Any:
    """Element-wise, activation and data-movement ops (no conv: tensors stay in file order)."""
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 4), name="x")
    a = layers.Activation("hard_swish", name="hswish")(inp)  # HARD_SWISH
    b = layers.Activation("sigmoid", name="sigmoid")(inp)  # LOGISTIC
    c = layers.Activation("tanh", name="tanh")(inp)  # TANH
    x = layers.Multiply(name="mul")([a, b])  # MUL
    x = layers.Subtract(name="sub")([x, c])  # SUB
    x = layers.Lambda(lambda t: t / (t * t + 1.0), name="ratio")(x)  # MUL, ADD, DIV
    x = layers.ReLU(name="relu")(x)  # fused into the DIV
    x = layers.Cropping2D(((1, 1), (2, 0)), name="crop")(x)  # STRIDED_SLICE -> 6x6x4
    x = layers.Permute((3, 1, 2), name="permute")(x)  # TRANSPOSE
    x = layers.Reshape((4 * 6 * 6,), name="reshape")(x)  # RESHAPE
    x = layers.Dense(8, name="fc")(x)  # 144 x 8 = 1,152 MACs
    out = layers.Softmax(name="softmax")(x)
    model = keras.Model(inp, out, name="ops")
    randomise(model)
    return model


def dynamic_model() -> Any:
    """Height and width left open (None): the file stores a placeholder input shape."""
    import keras
    from keras import layers

    inp = keras.Input((None, None, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    out = layers.Dense(4, name="fc")(x)
    model = keras.Model(inp, out, name="dynamic")
    randomise(model)
    return model


def dense_image_model() -> Any:
    """A Dense on an image (as in ConvNeXt): Keras 3 lowers it to RESHAPE [N*H*W, C] ->
    FULLY_CONNECTED -> RESHAPE, and the file leaves the FULLY_CONNECTED's rows at -1."""
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inp)  # 8*8*4 outputs x 27 = 6,912 MACs
    x = layers.Dense(6, name="pointwise")(x)  # 64 rows x 6 x 4 = 1,536 MACs
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    out = layers.Dense(3, name="fc")(x)  # 18 MACs
    model = keras.Model(inp, out, name="dense_image")
    randomise(model)
    return model


def untrained_model() -> Any:
    """An untrained ResNet-style block and a MobileNetV3-style gate, as keras.applications builds
    them with weights=None: BatchNorm everywhere (folded by the converter), a shortcut conv and a
    branch from one tensor (the converter runs them in another order), `ops.add(x, 3.0)` right
    after a conv (folded into its bias), a separable conv whose depthwise part the converter gives
    a zero bias, and a Dense head whose all-zero bias the converter drops."""
    import keras
    from keras import layers, ops

    inp = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="stem")(inp)
    x = layers.ReLU(name="stem_relu")(layers.BatchNormalization(name="stem_bn")(x))
    s = layers.BatchNormalization(name="shortcut_bn")(layers.Conv2D(16, 1, name="shortcut")(x))
    b = layers.BatchNormalization(name="branch_a_bn")(layers.Conv2D(4, 1, name="branch_a")(x))
    b = layers.Conv2D(16, 3, padding="same", name="branch_b")(layers.ReLU(name="branch_a_relu")(b))
    x = layers.Add(name="residual")([s, layers.BatchNormalization(name="branch_b_bn")(b)])
    g = layers.Conv2D(16, 1, name="se_conv")(layers.GlobalAveragePooling2D(keepdims=True, name="se_pool")(x))
    g = ops.multiply(layers.ReLU(6.0, name="se_relu6")(ops.add(g, 3.0)), 1.0 / 6.0)
    x = layers.SeparableConv2D(16, 3, padding="same", name="sep")(layers.Multiply(name="se_mul")([x, g]))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, layers.Dense(10, name="logits")(x), name="untrained")


DENSE_IMAGE_MACS = 8 * 8 * 4 * 27 + 8 * 8 * 6 * 4 + 6 * 3  # 8,466


def layernorm_model() -> Any:
    """ConvNeXt's parts, untrained as keras.applications builds them with weights=None: a
    Rescaling and a Normalization whose mean and variance the config gives (kept by the converter
    as a MUL, a SUB and a MUL whose 3 + 3 values are weights of the file), LayerNorms (written as
    MEAN, SQUARED_DIFFERENCE, NEG, RSQRT, MUL, ADD; the all-zero beta dropped), a Dense on an image
    (its RESHAPE targets computed at run time with SHAPE, GATHER, REDUCE_PROD, PACK) and a Dense
    head, whose all-zero biases the converter drops."""
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inp)
    x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.05, 0.05, 0.06], name="norm")(x)
    x = layers.Conv2D(8, 3, padding="same", name="conv")(x)  # 8x8x8 outputs
    x = layers.LayerNormalization(epsilon=1e-6, name="ln")(x)  # over C = 8 at 64 positions
    x = layers.Dense(16, name="pointwise")(x)  # on the image: 64 rows x 16
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.LayerNormalization(epsilon=1e-6, name="head_ln")(x)  # over C = 16 at 1 position
    return keras.Model(inp, layers.Dense(4, name="fc")(x), name="layernorm")


def identity_normalization_model() -> Any:
    """EfficientNetB0's stem as keras.applications builds it with weights=None: a Rescaling and a
    Normalization that was never adapted (mean 0, variance 1, count 0: 7 weights), which the
    converter removes, folding the Rescaling's scale into the conv after it."""
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inp)
    x = layers.Normalization(name="norm")(x)
    x = layers.Conv2D(8, 3, padding="same", name="conv")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, layers.Dense(4, name="fc")(x), name="identity_normalization")


def repeated_ops_model() -> Any:
    """NASNet's cells: the same ReLU and the same average pool applied twice to one tensor, each
    copy feeding its own branch; the converter computes each once."""
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 4), name="image")
    x = layers.Conv2D(8, 1, name="conv")(inp)  # 8x8x8
    a = layers.Conv2D(8, 3, padding="same", name="branch_a")(layers.Activation("relu", name="relu_a")(x))
    b = layers.Conv2D(8, 1, name="branch_b")(layers.Activation("relu", name="relu_b")(x))
    p = layers.AveragePooling2D(3, strides=1, padding="same", name="pool_a")(x)
    q = layers.AveragePooling2D(3, strides=1, padding="same", name="pool_b")(x)
    y = layers.Add(name="sum")([a, b, p, q])
    y = layers.GlobalAveragePooling2D(name="gap")(y)
    return keras.Model(inp, layers.Dense(4, name="fc")(y), name="repeated_ops")


def keras_macs(model: Any) -> int:
    """MACs of a Keras model's conv and dense layers, from its own layer configs and shapes."""
    from keras import layers

    total = 0
    for layer in model.layers:
        out = layer.output.shape
        elems = 1
        for d in out[1:]:
            elems *= int(d)
        if isinstance(layer, layers.DepthwiseConv2D):
            kh, kw = layer.kernel_size
            total += elems * kh * kw
        elif isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            cin = int(layer.input.shape[-1])
            total += elems * cin // layer.groups * kh * kw
        elif isinstance(layer, layers.Dense):
            total += elems * int(layer.input.shape[-1])
    return total


def _convert(model: Any, mode: str) -> bytes:
    import numpy as np
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode == "int8":
        shape = (1, *model.inputs[0].shape[1:])
        rng = np.random.default_rng(0)

        def representative() -> Any:
            for _ in range(8):
                yield [rng.random(shape, dtype=np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    elif mode == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    return bytes(converter.convert())


def edgetpu_like(int8_tflite: bytes) -> bytes:
    """The int8 model's quantised input and output joined by one `edgetpu-custom-op` (no weights
    in the file: the Edge TPU program lives in the op's custom options)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(int8_tflite, 0)
    g = model.subgraphs[0]
    first, last = g.operators[0], g.operators[-1]
    inp = g.tensors[first.outputs[0]]  # after QUANTIZE: int8 with scale and zero point
    out = g.tensors[last.inputs[0]]  # before DEQUANTIZE
    for t in (inp, out):
        t.buffer = 0
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = 32  # CUSTOM
    code.customCode = "edgetpu-custom-op"
    code.version = 1
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
    op.customOptions = [7] * 1000
    g.tensors, g.inputs, g.outputs, g.operators = [inp, out], [0], [1], [op]
    model.operatorCodes = [code]
    model.buffers = [schema.BufferT()]
    model.signatureDefs, model.metadata, model.metadataBuffer = None, None, None
    builder = flatbuffers.Builder(4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def build(folder: Path) -> Built:
    """Build, save and convert the models into `folder` (about 5 s with TensorFlow imported)."""
    _quiet()
    folder.mkdir(parents=True, exist_ok=True)
    model = small_model()
    built = Built(
        folder,
        folder / "small.keras",
        folder / "small_float.tflite",
        folder / "small_int8.tflite",
        folder / "small_fp16.tflite",
        folder / "with_resize.tflite",
        folder / "small_edgetpu.tflite",
        folder / "ops.tflite",
        folder / "dynamic.tflite",
    )
    model.save(built.keras_file)
    built.keras_macs = keras_macs(model)
    built.keras_params = int(model.count_params())
    built.float_file.write_bytes(_convert(model, "float"))
    int8 = _convert(model, "int8")
    built.int8_file.write_bytes(int8)
    built.fp16_file.write_bytes(_convert(model, "fp16"))
    built.unknown_file.write_bytes(_convert(unknown_model(), "float"))
    built.edgetpu_file.write_bytes(edgetpu_like(int8))
    built.ops_file.write_bytes(_convert(ops_model(), "float"))
    built.dynamic_file.write_bytes(_convert(dynamic_model(), "float"))
    built.dense_image_file = folder / "dense_image.tflite"
    built.dense_image_file.write_bytes(_convert(dense_image_model(), "float"))
    return built

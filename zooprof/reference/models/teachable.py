"""The Teachable Machine image model (website exports, tmVersion 2.x), rebuilt in Keras.

REFERENCES.md, "Teachable Machine (image project) exports": MobileNetV2 alpha=0.35 at
224x224x3, cut at `out_relu` (1280 channels), then GlobalAveragePooling2D -> Dense(100,
relu) -> Dense(N, softmax, no bias). 410,208 backbone parameters (BatchNorm statistics
included) + 128,100 + 100 N: 538,508 for N = 2. The nesting follows the exports
(Sequential[Sequential[backbone, pool], Sequential[Dense, Dense]]).

Zoo entry `tm-image-v2`, source `keras:zooprof.reference.models.teachable:tm_image_v2`; the number of
classes is an option: `tm-image-v2?classes=5`.
"""

from __future__ import annotations

from typing import Any


def tm_image_v2(classes: int = 2, input_shape: tuple[int, int, int] = (224, 224, 3)) -> Any:
    import keras

    if int(classes) < 1:
        raise ValueError(f"classes must be at least 1, got {classes}")
    backbone = keras.applications.MobileNetV2(
        input_shape=tuple(input_shape), alpha=0.35, include_top=False, weights=None, name="model1"
    )
    features = keras.Sequential(
        [keras.Input(tuple(input_shape)), backbone, keras.layers.GlobalAveragePooling2D()], name="sequential_1"
    )
    head = keras.Sequential(
        [
            keras.Input((backbone.output_shape[-1],)),
            keras.layers.Dense(100, activation="relu", name="dense_Dense1"),
            keras.layers.Dense(int(classes), activation="softmax", use_bias=False, name="dense_Dense2"),
        ],
        name="sequential_3",
    )
    return keras.Sequential([keras.Input(tuple(input_shape)), features, head], name="sequential_4")

"""Keras frontend: Keras files and keras.applications models -> Graph.

Every route ends in a Keras model config, read by `zooprof.frontends.keras.graph` (pure
Python: shapes are computed from the layer configs, nothing runs):

| reference | how the config is obtained | TensorFlow imported? |
|---|---|---|
| `model.h5` / `.hdf5` (Keras 2 or 3 HDF5) | the `model_config` attribute, read with h5py; weight shapes from the `model_weights` groups | no |
| `model.keras` (Keras 3 / tf_keras zip) | `config.json` read from the zip; weight shapes from `model.weights.h5` (extracted to a temporary folder) | no |
| a SavedModel folder | `keras_metadata.pb` (decoded here); without it, TensorFlow loads the model (`tf_keras.models.load_model`) | only without keras_metadata.pb |
| `keras:NAME[?opt=value&...]` | `keras.applications.NAME(weights=None, input_shape=..., **options)` then `get_config()` | yes |
| `keras:package.module:callable[?...]` | the callable (returning a Keras model, or a config dict) then `get_config()` | when the callable builds a model |

Teachable Machine's `keras_model.h5` is a Keras 2.4 file that Keras 3 refuses to load
(`DepthwiseConv2D` with `groups: 1`, keras-team/keras#19151); the config reader does not
need Keras and reads it as it is.

When the file holds weights, their shapes are checked against the config; keras: models are
checked against the built model's own weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends import ReadOptions
from zooprof.frontends.keras.constants import Shape
from zooprof.frontends.keras.files import read_file
from zooprof.frontends.keras.graph import graph_from_config
from zooprof.frontends.keras.references import build_config
from zooprof.ir.graph import Graph


def read(ref: Any, shapes: list[Shape] | None, options: ReadOptions) -> tuple[Graph, list[Shape]]:
    """Read a resolved reference (zooprof.reference.resolve.ModelRef): keras-file, keras-app, or a zoo
    entry whose source is keras:..."""
    if ref.kind == "keras-file":
        path = Path(ref.source)
        config, weights, notes = read_file(path, options.trust)
        return graph_from_config(
            config,
            name=ref.name,
            input_shapes=shapes,
            trust=options.trust,
            weights=weights,
            framework="keras",
            trace_method="keras-config",
            source=path.name,
            notes=notes,
        )
    if ref.kind in ("keras-app", "zoo") and str(ref.source).startswith("keras:"):
        shapes = shapes or ref.input_shapes
        config, notes, weights = build_config(ref.source, dict(ref.kwargs), shapes)
        return graph_from_config(
            config,
            name=ref.name,
            input_shapes=shapes,
            trust=True,
            weights=weights,
            framework="keras",
            trace_method="keras-config",
            source=ref.source,
            notes=notes,
        )
    raise UsageError(
        f"the Keras frontend cannot read '{ref.text}' (kind {ref.kind})",
        "give a .h5/.keras file, a SavedModel folder, or keras:NAME",
    )

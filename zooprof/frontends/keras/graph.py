"""A Keras model config -> Graph, in pure Python (no TensorFlow, no Keras import): the entry
`graph_from_config`, and `class_counts`.

The config is the dict that `model.get_config()` returns, the `config` of a `.keras` file's
config.json, the `model_config` attribute of an .h5 file, or the `modelTopology` of a
TF.js layers model (a Keras 2 config written by tfjs-layers). Every dialect (Keras 2,
tf_keras, tfjs-layers, Keras 3) is read, see `zooprof.frontends.keras.dialects`.

Nothing runs: every output shape is computed here from the layer configs, in the Keras
layout (channels last), and converted to zooprof's logical order (N, C, spatial...) when the
tensor is written into the Graph. Nested Sequential and Functional models are flattened;
the nesting stays in the layer names (`sequential_1/model1/Conv1`) and in `Layer.scope`
(`sequential_1.model1`), so `--depth` collapses by nested model.

Weights are described from the configs (kernel, bias, depthwise_kernel, gamma, beta,
moving_mean, moving_variance...). BatchNormalization's moving statistics are
non-trainable parameters, as Keras' `count_params()` counts them, so the total equals
Keras' figure and `trainable_params` equals Keras' trainable count. When the file holds the
weights too (an .h5, a .keras, a TF.js manifest), their shapes are checked against the
config: a disagreement is an error, never a silent guess.

Lambda, TFOpLambda and custom (non-Keras) layer classes carry code: they are refused unless
`trust=True`, and then listed as uncounted (OpKind.UNKNOWN). Keras layers zooprof has no rule
for (LSTM, Embedding, UpSampling2D...) are listed as uncounted too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.keras.builder import GraphBuilder, Nesting
from zooprof.frontends.keras.constants import Shape
from zooprof.frontends.keras.dialects import unwrap_config, uses_channels_first, walk_layers
from zooprof.frontends.keras.validate import scan_config
from zooprof.frontends.keras.walk import ConfigWalker
from zooprof.frontends.keras.weights import FileWeight, check_weights
from zooprof.ir.graph import Graph


def graph_from_config(
    config: Any,
    *,
    name: str | None = None,
    input_shapes: list[Shape] | None = None,
    trust: bool = False,
    weights: list[FileWeight] | None = None,
    framework: str = "keras",
    trace_method: str = "keras-config",
    source: str = "the model",
    notes: Sequence[str] = (),
) -> tuple[Graph, list[Shape]]:
    """Read a Keras model config into a Graph (see the module docstring).

    `input_shapes` are logical (N, C, spatial...) as `--input-shape` gives them; None takes the
    config's own (a dynamic batch is 1). `weights` are the weight tensors a file holds, to be
    checked against the config. Returns the Graph and the logical input shapes used."""
    record = unwrap_config(config)
    scan_config(record, source, trust)
    channels_first = uses_channels_first(record)
    batch = input_shapes[0][0] if input_shapes else 1
    b = GraphBuilder(
        trust=trust,
        channels_first=channels_first,
        batch=batch,
        user_shapes=[tuple(s) for s in input_shapes] if input_shapes else None,
        source=source,
    )
    reader = ConfigWalker(b)
    model_name = name or str((record.get("config") or {}).get("name") or "keras_model")
    trainable = (record.get("config") or {}).get("trainable", True) is not False
    outputs = reader.model(record, Nesting((), (), trainable), None)
    if b.user_shapes is not None and len(b.user_shapes) != reader.n_inputs:
        raise UsageError(
            f"the model has {reader.n_inputs} input(s), --input-shape gives {len(b.user_shapes)}",
            "give one shape per input, separated by commas",
        )
    if not b.layers:
        raise UsageError(f"{source} has no layers", "the model is empty")
    layer_notes = list(notes) + b.input_notes
    if weights is not None:
        layer_notes += check_weights(b, weights, source)
    layer_notes += _summary_notes(b)
    graph = Graph(
        model_name,
        framework,
        tuple(b.inputs),
        tuple(b.layers),
        tuple(t.name for t in outputs),
        trace_method,
        tuple(layer_notes),
    )
    return graph, b.used_shapes


def _summary_notes(b: GraphBuilder) -> list[str]:
    notes = []
    if not b.channels_first and any(len(t.shape) >= 3 for t in b.inputs):
        notes.append("Keras tensors are channels-last (N, H, W, C); shapes are shown as N, C, H, W")
    if any(
        p.kind == "non_trainable" and p.name.endswith(("moving_mean", "moving_variance"))
        for layer in b.layers
        for p in layer.params
    ):
        notes.append(
            "BatchNormalization moving mean/variance are counted as non-trainable parameters, as Keras' "
            "count_params() does"
        )
    if b.dense_as_conv:
        notes.append(
            f"{b.dense_as_conv} Dense layer(s) on a rank > 2 input act on the channel axis: listed as 1x1 "
            "convs (same MACs)"
        )
    if b.unknown:
        notes.append(
            f"{len(b.unknown)} layer(s) without a zooprof rule are uncounted: {', '.join(b.unknown[:4])}"
            f"{' ...' if len(b.unknown) > 4 else ''}"
        )
    if b.assumed_shapes:
        notes.append(
            f"output shape not in the config, assumed equal to the input: {', '.join(b.assumed_shapes[:4])}"
            f"{' ...' if len(b.assumed_shapes) > 4 else ''}"
        )
    return notes


def class_counts(config: Any) -> dict[str, int]:
    """Layer classes of a config (nested models included), for messages and tests."""
    counts: dict[str, int] = {}
    for e in walk_layers(unwrap_config(config)):
        cls = str(e.get("class_name"))
        counts[cls] = counts.get(cls, 0) + 1
    return counts

"""Layer handlers for Keras layers zooprof has no rule for but whose output shapes it
computes, so that the layers after them are read right: UpSampling, Resizing, Embedding, and
the recurrent layers (LSTM, GRU, SimpleRNN, Bidirectional, with their state outputs). They
are emitted as OpKind.UNKNOWN (uncounted). `HANDLERS` maps each Keras class name to its
handler."""

from __future__ import annotations

from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.keras.builder import KTensor
from zooprof.frontends.keras.call import LayerCall, one_input
from zooprof.frontends.keras.constants import Shape
from zooprof.frontends.keras.shapes import axis_tuple, spatial_axes
from zooprof.ir.ops import OpKind


def _unsupported_with_shape(shape_fn: Any) -> Any:
    """A layer without a rule whose output shape zooprof can still compute (listed as uncounted)."""

    def handler(c: LayerCall, inputs: list[KTensor]) -> KTensor:
        x = one_input(c, inputs)
        out, params = shape_fn(c, x)
        return c.emit(OpKind.UNKNOWN, [x], out, {"keras_class": c.cls}, params)

    return handler


def _upsampling_shape(c: LayerCall, x: KTensor) -> tuple[Shape, list[Any]]:
    sp, _ = spatial_axes(len(x.shape), c.get("data_format"))
    size = axis_tuple(c.get("size", 2), len(sp), "size", c.shown)
    shape = list(x.shape)
    for a, s in zip(sp, size, strict=True):
        shape[a] *= s
    return tuple(shape), []


def _resizing_shape(c: LayerCall, x: KTensor) -> tuple[Shape, list[Any]]:
    sp, _ = spatial_axes(len(x.shape), c.get("data_format"))
    if len(sp) != 2:
        raise UsageError(f"{c.where}: resizes two spatial axes, its input {list(x.shape)} has {len(sp)}")
    shape = list(x.shape)
    shape[sp[0]], shape[sp[1]] = int(c.get("height")), int(c.get("width"))
    return tuple(shape), []


def _rnn(c: LayerCall, inputs: list[KTensor]) -> list[KTensor]:
    """LSTM/GRU/SimpleRNN (and Bidirectional around one): no rule, but the output shapes are
    computed (sequence or last step, with the states when return_state), so the layers after
    them are read right. Their weights come from the file when it has them."""
    x = inputs[0]
    cfg, cls = c.cfg, c.cls
    if cls == "Bidirectional":
        inner = cfg.get("layer") or {}
        cfg, cls = inner.get("config") or {}, str(inner.get("class_name"))
    units = int(cfg.get("units"))
    seq = bool(cfg.get("return_sequences", False))
    out = (x.shape[0], x.shape[1], units) if seq else (x.shape[0], units)
    states = {"LSTM": 2, "CuDNNLSTM": 2}.get(cls, 1) if cfg.get("return_state") else 0
    if c.cls == "Bidirectional":
        mode = c.cfg.get("merge_mode", "concat")
        if mode == "concat":
            out = (*out[:-1], 2 * units)
        states *= 2
    y = c.emit(
        OpKind.UNKNOWN,
        [x],
        out,
        {"keras_class": c.cls, "units": units, "return_sequences": seq},
        extra_outputs=[(x.shape[0], units)] * states,
    )
    return [y, *c.b.extra_outputs]


def _embedding_shape(c: LayerCall, x: KTensor) -> tuple[Shape, list[Any]]:
    dim = int(c.get("output_dim"))
    return (*x.shape, dim), [("embeddings", (int(c.get("input_dim")), dim), "trainable")]


HANDLERS: dict[str, Any] = {
    "UpSampling1D": _unsupported_with_shape(_upsampling_shape),
    "UpSampling2D": _unsupported_with_shape(_upsampling_shape),
    "UpSampling3D": _unsupported_with_shape(_upsampling_shape),
    "Resizing": _unsupported_with_shape(_resizing_shape),
    "Embedding": _unsupported_with_shape(_embedding_shape),
    "LSTM": _rnn,
    "GRU": _rnn,
    "SimpleRNN": _rnn,
    "CuDNNLSTM": _rnn,
    "CuDNNGRU": _rnn,
    "Bidirectional": _rnn,
}

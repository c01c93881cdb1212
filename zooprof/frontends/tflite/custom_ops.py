"""The TFLite custom operators zooprof recognises: Edge TPU programs and SSD post-processing.

An `edgetpu-custom-op` (EDGETPU_OP) is a program compiled for the Edge TPU: its layers,
params and MACs cannot be read; `edgetpu_ops(path)` counts them in a file (also used by
zooprof.runtimes.litert_rt to refuse such a file) and `edgetpu_note(count)` is the note
both report. `TFLite_Detection_PostProcess` (DETECTION_POSTPROCESS_OP, SSD box decoding +
NMS) keeps its configuration in FlexBuffer custom options, which
`detection_postprocess_attrs` reads into the layer's attributes.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from zooprof.frontends.tflite.flatbuffer import TFLiteFormatError
from zooprof.frontends.tflite.flexbuffers import FlexBufferError, loads
from zooprof.frontends.tflite.schema import TflModel, TflOp, parse

Shape = tuple[int, ...]

EDGETPU_OP = "edgetpu-custom-op"
DETECTION_POSTPROCESS_OP = "TFLite_Detection_PostProcess"


def detection_postprocess_attrs(m: TflModel, op: TflOp, in_shapes: list[Shape | None]) -> dict[str, Any]:
    """TFLite_Detection_PostProcess (SSD box decoding + NMS): its FlexBuffer options and the
    anchor and class counts of its inputs (box encodings [1, A, 4], class scores [1, A, C+1])."""
    attrs: dict[str, Any] = {}
    if op.custom_options is not None:
        start, length = op.custom_options
        try:
            options = loads(m.raw.data[start : start + length])
        except FlexBufferError as exc:
            attrs["options_unreadable"] = str(exc)
        else:
            if isinstance(options, dict):
                attrs.update(
                    {
                        k: round(v, 6) if isinstance(v, float) else v
                        for k, v in options.items()
                        if isinstance(v, (int, float, str, bool))
                    }
                )
    boxes = in_shapes[0] if in_shapes else None
    if boxes and len(boxes) == 3:
        attrs["anchors"] = int(boxes[1])
    return attrs


def edgetpu_ops(path: Path) -> int:
    """How many Edge TPU custom ops the (valid) .tflite file at `path` has; 0 if unreadable."""
    try:
        model = parse(Path(path).read_bytes())
    except (OSError, TFLiteFormatError, struct.error):
        return 0
    return sum(1 for op in model.ops if model.is_custom(op) and model.op_name(op) == EDGETPU_OP)


def edgetpu_note(count: int) -> str:
    return (
        f"Edge TPU model: {count} op(s) compiled for the Edge TPU ({EDGETPU_OP}); their layers, params and "
        "MACs cannot be read; running it needs an Edge TPU and the libedgetpu delegate"
    )

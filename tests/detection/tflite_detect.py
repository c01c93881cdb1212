"""A hand-built TFLite file ending in SSD post-processing: `TFLite_Detection_PostProcess`.

What the TensorFlow Object Detection API exports as `detect.tflite` (e.g. COCO SSD
MobileNet v1), reduced to its last op: box encodings [1, A, 4] and class scores
[1, A, C + 1] in, the anchors [A, 4] stored in the file, and the four outputs (boxes,
classes, scores, number of detections). The op's options are a FlexBuffer map written with
the flatbuffers package's own FlexBuffers writer (an independent reference for zooprof's
reader).
"""

from __future__ import annotations

from typing import Any

ANCHORS = 1917  # SSD MobileNet v1 at 300x300: 19x19x3 + 10x10x6 + 5x5x6 + 3x3x6 + 2x2x6 + 1x1x6
CLASSES = 90
OPTIONS: dict[str, Any] = {
    "max_detections": 10,
    "max_classes_per_detection": 1,
    "detections_per_class": 100,
    "use_regular_nms": False,
    "nms_score_threshold": 0.30000001192092896,
    "nms_iou_threshold": 0.6000000238418579,
    "num_classes": CLASSES,
    "y_scale": 10.0,
    "x_scale": 10.0,
    "h_scale": 5.0,
    "w_scale": 5.0,
}


def detect_tflite(options: dict[str, Any] | None = None) -> bytes:
    import flatbuffers
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema
    from flatbuffers import flexbuffers

    def tensor(name: str, shape: list[int], buffer: int = 0) -> Any:
        t = schema.TensorT()
        t.name, t.shape, t.type, t.buffer = name, shape, 0, buffer  # type 0: FLOAT32
        return t

    anchors = np.random.default_rng(0).random((ANCHORS, 4), dtype=np.float32)
    empty, data = schema.BufferT(), schema.BufferT()
    data.data = list(anchors.tobytes())
    tensors = [
        tensor("raw_outputs/box_encodings", [1, ANCHORS, 4]),
        tensor("raw_outputs/class_predictions", [1, ANCHORS, CLASSES + 1]),
        tensor("anchors", [ANCHORS, 4], buffer=1),
        tensor("TFLite_Detection_PostProcess", [1, 10, 4]),
        tensor("TFLite_Detection_PostProcess:1", [1, 10]),
        tensor("TFLite_Detection_PostProcess:2", [1, 10]),
        tensor("TFLite_Detection_PostProcess:3", [1]),
    ]
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = 32  # CUSTOM
    code.customCode = "TFLite_Detection_PostProcess"
    code.version = 1
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1, 2], [3, 4, 5, 6]
    op.customOptions = list(flexbuffers.Dumps(options or OPTIONS))
    op.customOptionsFormat = 0  # FLEXBUFFERS
    g = schema.SubGraphT()
    g.tensors, g.inputs, g.outputs, g.operators, g.name = tensors, [0, 1], [3, 4, 5, 6], [op], "main"
    model = schema.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, [code], [g], [empty, data]
    model.description = "zooprof test: SSD post-processing"
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())

"""LiteRT (ai-edge-litert) / TFLite interpreter runtime.

The model is a .tflite file as given, or a Keras model (a file, a `keras:` builder, or a
PyTorch zoo entry's Keras twin such as MobileNetV2 for mobilenet_v2) converted by
zooprof.measure.convert.keras_to_tflite. TFLite models are NHWC: the input shape comes from the
model, with the batch axis set to the requested batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zooprof.errors import UsageError, ZooprofError


def interpreter_class() -> tuple[Any, str]:
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai-edge-litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, "tflite-runtime"
    except ImportError:
        pass
    import tensorflow as tf

    return tf.lite.Interpreter, "tensorflow.lite"


def tflite_file(spec: dict[str, Any]) -> tuple[Path, dict[str, Any] | None]:
    from zooprof.reference.resolve import resolve
    from zooprof.runtimes import incompatible

    ref = resolve(spec["model"])
    if ref.kind == "tflite-file":
        return Path(ref.source), None
    if incompatible("tflite", ref):
        raise UsageError(f"no route from {ref.text} to TFLite", incompatible("tflite", ref) or "")
    from zooprof.measure.convert import keras_to_tflite

    return keras_to_tflite(spec)


def check_runnable(path: Path) -> None:
    """An Edge TPU compiled file cannot run on a stock interpreter: say so before trying."""
    from zooprof.frontends.tflite.custom_ops import edgetpu_note, edgetpu_ops

    count = edgetpu_ops(path)
    if count:
        raise ZooprofError(
            edgetpu_note(count), "profile the CPU export of the same model (model.tflite or model_unquant.tflite)"
        )


class LiteRTSession:
    def __init__(self, spec: dict[str, Any]) -> None:
        import numpy as np

        self.path, self.conversion = tflite_file(spec)
        check_runnable(self.path)
        Interpreter, engine = interpreter_class()
        threads = int(spec["threads"]) if spec.get("threads") else None
        self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        batch = int(spec["input_shapes"][0][0]) if spec.get("input_shapes") else 1
        details = self.interpreter.get_input_details()
        for d in details:
            shape = list(d["shape"])
            if shape and shape[0] != batch:
                self.interpreter.resize_tensor_input(d["index"], [batch, *shape[1:]])
        self.interpreter.allocate_tensors()
        rng = np.random.default_rng(0)
        for d in self.interpreter.get_input_details():
            dtype = d["dtype"]
            data = rng.random(tuple(d["shape"])) * (255 if np.issubdtype(dtype, np.integer) else 1)
            self.interpreter.set_tensor(d["index"], data.astype(dtype))
        self.info = {
            "engine": engine,
            "threads": threads,
            "model_file": str(self.path),
            "model_file_bytes": self.path.stat().st_size,
            "input_shapes": [list(map(int, d["shape"])) for d in self.interpreter.get_input_details()],
        }
        if self.conversion:
            self.info["conversion"] = self.conversion

    def run(self) -> None:
        self.interpreter.invoke()

    def per_layer(self, iterations: int) -> dict[str, Any]:
        return {
            "method": None,
            "reason": "per-layer timing is not available for LiteRT: its Python interpreter "
            "exposes no op profiler (LiteRT's C++ benchmark_model --enable_op_profiling has one)",
        }


def prepare(spec: dict[str, Any]) -> LiteRTSession:
    return LiteRTSession(spec)

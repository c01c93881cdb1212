"""TensorFlow/Keras runtime: the model called through a compiled `tf.function`
(graph mode, training=False), not `model.predict` (whose per-call overhead is large).

Models: `keras:` references and Keras zoo entries (random weights), `.keras` / `.h5` files
(Keras 3, or tf_keras for Keras 2 files such as Teachable Machine's), and PyTorch zoo entries
with a Keras twin. Inputs are NHWC as Keras expects, with the requested batch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError, ZooprofError


def check_file(path: Path, trust: bool) -> None:
    """Read the file's config without Keras and refuse code in it (Lambda, custom classes, at any
    depth) unless trusted: a Keras loader, tf_keras's above all (it has no safe mode), would run it."""
    from zooprof.frontends.keras.dialects import unwrap_config
    from zooprof.frontends.keras.files import read_file
    from zooprof.frontends.keras.validate import scan_config

    config, _, _ = read_file(path, trust)
    scan_config(unwrap_config(config), path.name, trust)


def _load_file(path: Path, trust: bool) -> Any:
    from zooprof.frontends.keras.loading import import_keras, quiet

    check_file(path, trust)  # before any loader sees the file
    keras = import_keras()
    errors = []
    with quiet():
        try:
            return keras.models.load_model(str(path), compile=False, safe_mode=not trust)
        except Exception as exc:  # Keras 3 refuses Keras 2 .h5 files (e.g. DepthwiseConv2D 'groups')
            errors.append(f"keras {keras.__version__}: {str(exc).splitlines()[0][:160]}")
        try:
            import tf_keras

            # no safe mode in tf_keras: reached only for a config check_file found free of code
            return tf_keras.models.load_model(str(path), compile=False)
        except ImportError:
            errors.append("tf_keras is not installed")
        except Exception as exc:
            errors.append(f"tf_keras: {str(exc).splitlines()[0][:160]}")
    raise ZooprofError(
        f"cannot load {path.name} for running: {'; '.join(errors)}",
        "pip install 'zooprof[tf]' (tf_keras loads Keras 2 files)",
    )


def build(spec: dict[str, Any]) -> tuple[Any, str]:
    """(the Keras model, where it came from)."""
    from zooprof.frontends.keras.references import build_model
    from zooprof.reference.resolve import resolve

    ref = resolve(spec["model"])
    if ref.kind == "keras-file":
        path = Path(ref.source)
        if path.is_dir():
            raise UsageError("running a SavedModel folder is not supported yet", "convert it to .keras or TFLite")
        return _load_file(path, bool(spec.get("trust"))), str(path)
    if ref.kind == "teachable":
        raise UsageError("run a Teachable Machine export's keras_model.h5 directly", "give the .h5 path")
    if ref.kind == "keras-app" or (ref.kind == "zoo" and ref.framework == "keras"):
        source = ref.source
    elif ref.entry is not None and ref.entry.twins.get("keras"):
        source = ref.entry.twins["keras"]
    else:
        raise UsageError(
            f"no route from {ref.text} to TensorFlow", "use a Keras model or a zoo entry with a Keras twin"
        )
    nchw = [tuple(s) for s in spec["input_shapes"]] if spec.get("input_shapes") else None
    model, what, built_by, _ = build_model(source, ref.kwargs, nchw)
    if isinstance(model, dict):
        raise UsageError(f"{what} returned a config, not a model that can run")
    return model, built_by


class TFSession:
    def __init__(self, spec: dict[str, Any]) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from zooprof.frontends.compat import triton_first

        triton_first()
        import numpy as np
        import tensorflow as tf

        if spec.get("threads"):
            tf.config.threading.set_intra_op_parallelism_threads(int(spec["threads"]))
            tf.config.threading.set_inter_op_parallelism_threads(1)
        self.model, origin = build(spec)
        batch = int(spec["input_shapes"][0][0]) if spec.get("input_shapes") else 1
        rng = np.random.default_rng(0)
        self.inputs = []
        for inp in self.model.inputs:
            shape = [batch, *[int(d) for d in inp.shape[1:]]]
            self.inputs.append(tf.constant(rng.random(shape).astype("float32")))
        model = self.model
        self.fn = tf.function(lambda *x: model(list(x) if len(x) > 1 else x[0], training=False))
        self.fn(*self.inputs)  # trace once, outside the timed loop
        self.info = {
            "engine": "tensorflow (tf.function)",
            "version": tf.__version__,
            "threads": spec.get("threads"),
            "model": origin,
            "input_shapes": [list(map(int, t.shape)) for t in self.inputs],
        }

    def run(self) -> None:
        out = self.fn(*self.inputs)
        # make sure the work is done before the clock stops (a no-op on the CPU)
        (out[0] if isinstance(out, (list, tuple)) else out).numpy()

    def per_layer(self, iterations: int) -> dict[str, Any]:
        return {"method": None, "reason": "per-layer timing is not available for TensorFlow yet"}


def prepare(spec: dict[str, Any]) -> TFSession:
    return TFSession(spec)

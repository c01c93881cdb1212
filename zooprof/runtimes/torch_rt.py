"""PyTorch eager runtime: the real model (random weights with a fixed seed, or the user's
state_dict), inference mode, thread count set with torch.set_num_threads."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError, ZooprofError


def build_real(spec: dict[str, Any]) -> Any:
    """The model on the CPU with real (random, seeded) weights, in eval mode."""
    from zooprof.frontends.compat import block_triton_after_tensorflow

    block_triton_after_tensorflow()
    import torch

    from zooprof.frontends.torch import read as frontend
    from zooprof.reference.resolve import resolve

    ref = resolve(spec["model"])
    if ref.framework != "torch":
        raise UsageError(
            f"the torch runtime runs PyTorch models, and {ref.text} is {ref.framework}",
            "use --runtime onnxruntime for ONNX files",
        )
    torch.manual_seed(int(spec.get("seed", 0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ref.kind == "torch-file":
            path = Path(ref.source)
            kind = frontend.file_kind(path)
            if kind == "export":
                model = torch.export.load(str(path)).module()
            elif kind == "torchscript":
                model = torch.jit.load(str(path), map_location="cpu")
            elif spec.get("trust"):
                model = torch.load(str(path), map_location="cpu", weights_only=False)
            else:
                raise UsageError(f"{path} is a pickled Python object", "pass --trust if you trust its source")
        else:
            if ref.source.startswith("torchvision:"):
                builder = frontend.torchvision_builder(ref.source.split(":", 1)[1])
            else:
                builder = frontend.import_callable(ref.source)
            model = builder(**ref.kwargs)
            if isinstance(model, type):
                model = model()
    if spec.get("weights"):
        try:
            state = torch.load(spec["weights"], map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ZooprofError(f"cannot read weights file {spec['weights']}: {exc}") from exc
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        model.load_state_dict(state)
    return model.eval()


def example_inputs(shapes: list[tuple[int, ...]]) -> list[Any]:
    import torch

    gen = torch.Generator().manual_seed(0)
    return [torch.rand(s, generator=gen) for s in shapes]


class TorchSession:
    def __init__(self, spec: dict[str, Any]) -> None:
        import torch

        if spec.get("threads"):
            torch.set_num_threads(int(spec["threads"]))
        self.torch = torch
        self.model = build_real(spec)
        from zooprof.frontends.torch import detection

        self.detector = detection.is_detector(self.model)
        shapes = [tuple(s) for s in spec["input_shapes"]]
        # a detector takes one argument, the list of images (NxCxHxW -> N images; same values as the analysis)
        self.inputs = [detection.images(shapes)] if self.detector else example_inputs(shapes)
        self.info = {
            "engine": "pytorch eager",
            "device": "cpu",
            "threads": torch.get_num_threads(),
            "version": torch.__version__,
        }

    def run(self) -> None:
        with self.torch.inference_mode():
            self.model(*self.inputs)

    def per_stage(self, iterations: int) -> dict[str, Any]:
        """Median seconds per stage of a detection model (zooprof.runtimes.stage_timer)."""
        if not self.detector:
            return {
                "method": None,
                "reason": "per-stage timing is for detection models (transform, backbone, neck, "
                "head, postprocess); use --per-layer",
            }
        from zooprof.runtimes.stage_timer import measure_stages

        with self.torch.inference_mode():
            return measure_stages(self.model, lambda: self.model(*self.inputs), iterations)

    def per_layer(self, iterations: int) -> dict[str, Any]:
        """Median seconds per IR layer over `iterations` FX-interpreted passes."""
        from torch import fx

        from zooprof.frontends.torch.fx_trace import LayerTimer

        try:
            gm = self.model if isinstance(self.model, fx.GraphModule) else fx.symbolic_trace(self.model)
        except Exception as exc:
            return {"method": None, "reason": f"per-layer timing needs an FX-traceable model ({type(exc).__name__})"}
        timer = LayerTimer(gm, self.inputs)
        runs = [timer.run(time.perf_counter) for _ in range(iterations + 2)][2:]  # two warm-up passes
        names = list(runs[0])
        layers = []
        for name in names:
            values = sorted(r.get(name, 0.0) for r in runs)
            layers.append({"name": name, "seconds": values[len(values) // 2]})
        totals = sorted(sum(r.values()) for r in runs)
        return {
            "method": "fx interpreter, wall time per layer",
            "iterations": iterations,
            "layers": layers,
            "sum_seconds": sum(x["seconds"] for x in layers),
            "pass_seconds": totals[len(totals) // 2],
        }


def prepare(spec: dict[str, Any]) -> TorchSession:
    return TorchSession(spec)

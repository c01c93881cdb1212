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
    from zooprof.frontends.torch.validate import file_kind
    from zooprof.reference.resolve import resolve

    ref = resolve(spec["model"])
    if ref.framework != "torch":
        raise UsageError(
            f"the torch runtime runs PyTorch models, and {ref.text} is {ref.framework}",
            "use --runtime onnxruntime for ONNX files",
        )
    torch.manual_seed(int(spec.get("seed", 0)))
    exported = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ref.kind == "torch-file":
            path = Path(ref.source)
            trust = bool(spec.get("trust"))
            kind = file_kind(path)
            if kind == "export":  # checked and loaded without unsafe unpickling unless --trust
                model = frontend.load_export(path, trust).module(check_guards=trust)
                exported = True
            elif kind == "torchscript":
                model = _load_torchscript(torch, path)
            elif trust:
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
    if exported:
        return model  # an exported program's module keeps the mode it was exported in (eval() raises)
    return model.eval()


def _load_torchscript(torch: Any, path: Path) -> Any:
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:  # a damaged or foreign file: one line, not a traceback
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise UsageError(f"cannot read TorchScript file {path}: {type(exc).__name__}: {text}".rstrip(": ")) from None


def example_inputs(shapes: list[tuple[int, ...]]) -> list[Any]:
    import torch

    gen = torch.Generator().manual_seed(0)
    return [torch.rand(s, generator=gen) for s in shapes]


DTYPES = {"fp16": "float16", "bf16": "bfloat16"}


class TorchSession:
    """The model and its inputs on `spec["device"]` (cpu or cuda:N) at `spec["precision"]`
    (None/fp32: as built; fp16/bf16: weights and inputs cast, `model.to(dtype)`). On CUDA the
    timed call is eager or, with `cuda_graphs`, the replay of one captured CUDA graph, timed with
    CUDA events (zooprof.runtimes.cuda_timing)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import torch

        if spec.get("threads"):
            torch.set_num_threads(int(spec["threads"]))
        self.torch = torch
        self.device = torch.device(spec.get("device") or "cpu")
        self.cuda = self.device.type == "cuda"
        precision = spec.get("precision")
        dtype = getattr(torch, DTYPES[precision]) if precision in DTYPES else None
        if self.cuda:
            torch.cuda.set_device(self.device)
            torch.backends.cudnn.benchmark = bool(spec.get("cudnn_benchmark"))
        model = build_real(spec)
        from zooprof.frontends.torch import detection

        self.detector = detection.is_detector(model)
        shapes = [tuple(s) for s in spec["input_shapes"]]
        # a detector takes one argument, the list of images (NxCxHxW -> N images; same values as the analysis)
        inputs = detection.images(shapes) if self.detector else example_inputs(shapes)
        inputs = [t.to(self.device, dtype) if dtype is not None else t.to(self.device) for t in inputs]
        self.model = model.to(self.device) if dtype is None else model.to(self.device, dtype)
        self.inputs = [inputs] if self.detector else inputs
        self.info: dict[str, Any] = {
            "engine": "pytorch eager",
            "device": str(self.device),
            "precision": precision or "fp32",
            "precision_method": f"weights and inputs cast to {DTYPES[precision]}" if dtype is not None else "as built",
            "threads": torch.get_num_threads(),
            "version": torch.__version__,
        }
        self.device_memory: dict[str, Any] | None = None
        self._call = self._eager
        if self.cuda:
            self.info.update(
                device_name=torch.cuda.get_device_name(self.device),
                cuda=torch.version.cuda,
                cudnn=torch.backends.cudnn.version(),
                cudnn_benchmark=torch.backends.cudnn.benchmark,
                mode="eager",
            )
            self.loaded_bytes = torch.cuda.memory_allocated(self.device)
            if spec.get("cuda_graphs"):
                self._call = self._capture()
                self.info.update(engine="pytorch cuda graph", mode="cuda graph replay")

    def _eager(self) -> None:
        with self.torch.inference_mode():
            self.model(*self.inputs)

    def _capture(self) -> Any:
        """One CUDA graph of the forward pass on static inputs (warmed up on a side stream, as
        torch.cuda.graphs documents); the timed call is its replay."""
        torch = self.torch
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.inference_mode():
            with torch.cuda.stream(stream):
                for _ in range(3):
                    self.model(*self.inputs)
            torch.cuda.current_stream(self.device).wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            try:
                with torch.cuda.graph(graph):
                    self._static_out = self.model(*self.inputs)
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [""])[0]
                raise ZooprofError(
                    f"CUDA graph capture failed ({type(exc).__name__}: {first}): the model synchronises with "
                    "the host or changes shape during its forward pass; measure it without --cuda-graphs"
                ) from exc
        return graph.replay

    def run(self) -> None:
        self._call()

    def measure(self, max_time: float, target_ci: float, min_time: float, progress: Any) -> dict[str, Any] | None:
        """On CUDA: the timing record with CUDA events, and the device memory of the timed run.
        None on the CPU (the common harness times `run`)."""
        if not self.cuda:
            return None
        from zooprof.runtimes.cuda_timing import measure_cuda

        torch = self.torch
        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        record = measure_cuda(
            self.run, torch.cuda, max_time=max_time, target_ci=target_ci, min_time=min_time, progress=progress
        )
        self.device_memory = {
            "device": str(self.device),
            "allocated_after_load_bytes": self.loaded_bytes,
            "peak_allocated_bytes": torch.cuda.max_memory_allocated(self.device),
            "peak_reserved_bytes": torch.cuda.max_memory_reserved(self.device),
            "peak_covers": "the timed run (torch.cuda.max_memory_allocated / max_memory_reserved, reset after load)",
        }
        return record

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
        sync = (lambda: self.torch.cuda.synchronize(self.device)) if self.cuda else None
        runs = [timer.run(time.perf_counter, sync) for _ in range(iterations + 2)][2:]  # two warm-up passes
        names = list(runs[0])
        layers = []
        for name in names:
            values = sorted(r.get(name, 0.0) for r in runs)
            layers.append({"name": name, "seconds": values[len(values) // 2]})
        totals = sorted(sum(r.values()) for r in runs)
        method = "fx interpreter, wall time per layer"
        if self.cuda:
            method += " with torch.cuda.synchronize() before and after each node (eager, also for a CUDA-graph row)"
        return {
            "method": method,
            "iterations": iterations,
            "layers": layers,
            "sum_seconds": sum(x["seconds"] for x in layers),
            "pass_seconds": totals[len(totals) // 2],
        }


def prepare(spec: dict[str, Any]) -> TorchSession:
    return TorchSession(spec)

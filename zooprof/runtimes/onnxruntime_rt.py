"""ONNX Runtime: an ONNX file as given, or a PyTorch model exported through zooprof.measure.convert.

Provider: `ort_provider` cpu | cuda | tensorrt (default: cpu on the CPU, cuda on a GPU), never
chosen silently: a GPU provider is asked for by name, CPU kept as ONNX Runtime's fallback for
nodes the provider lacks, and the per-layer view says which provider ran each node. On a GPU the
inputs and outputs are bound on the device (IOBinding) so the timed call is the model, not host
copies. Options: `threads` (intra-op), `ort_opt_level` (disable | basic | extended | all),
`precision` (fp16 / int8 through the TensorRT provider only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError, ZooprofError
from zooprof.runtimes.devices import CPU, ORT_PROVIDERS, Device, ort_provider, parse_device

OPT_LEVELS = ("disable", "basic", "extended", "all")
CONTROL_FLOW = frozenset({"If", "Loop", "Scan"})
NUMPY_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}


def onnx_file(spec: dict[str, Any]) -> tuple[Path, dict[str, Any] | None]:
    """The ONNX file to run, converting from PyTorch when the model is not ONNX already."""
    from zooprof.reference.resolve import resolve

    ref = resolve(spec["model"])
    if ref.kind == "onnx-file":
        return Path(ref.source), None
    from zooprof.measure.convert import torch_to_onnx
    from zooprof.runtimes.torch_rt import build_real, example_inputs

    shapes = [tuple(s) for s in spec["input_shapes"]]
    if spec.get("detector"):  # one argument, the image list; the ONNX graph takes one input per image
        from zooprof.frontends.torch.detection import images

        n = sum(s[0] for s in shapes)
        parts = {
            "model": ref.text,
            "source": ref.source,
            "kwargs": ref.kwargs,
            "shape": shapes,
            "detector": True,
            "weights": spec.get("weights"),
        }
        path, info = torch_to_onnx(
            lambda: build_real(spec),
            lambda: [images(shapes)],
            parts,
            input_names=[f"image_{i}" for i in range(n)],
            dynamic_batch=False,
        )
        return path, {**info, "detector": True, "images": n}
    one = [(1, *s[1:]) for s in shapes]
    parts = {
        "model": ref.text,
        "source": ref.source,
        "kwargs": ref.kwargs,
        "shape": one,
        "weights": spec.get("weights"),
    }
    if ref.kind == "torch-file":
        from zooprof.result.cache import file_hash

        parts["file"] = file_hash(ref.source)
    return torch_to_onnx(lambda: build_real(spec), lambda: example_inputs(one), parts)


def providers_for(provider: str, device: Device, precision: str | None, dla_core: int | None) -> list[Any]:
    """The provider list for an InferenceSession: the one asked for, then CPU (ONNX Runtime's
    fallback for nodes the provider lacks); TensorRT with CUDA between them, its engines cached
    under the zooprof cache and its precision from --precision."""
    if provider == "cpu":
        return ["CPUExecutionProvider"]
    index = device.index
    if provider == "cuda":
        return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
    from zooprof.result.cache import cache_dir

    trt: dict[str, Any] = {
        "device_id": index,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache_dir() / "ort-tensorrt"),
    }
    if precision == "fp16":
        trt["trt_fp16_enable"] = True
    elif precision == "int8":
        trt["trt_int8_enable"] = True
    elif precision == "bf16":
        raise UsageError(
            "ONNX Runtime's TensorRT provider has no bf16 option", "use --precision fp16, or --runtime tensorrt"
        )
    if dla_core is not None:
        trt.update(trt_dla_enable=True, trt_dla_core=int(dla_core))
    return [("TensorrtExecutionProvider", trt), ("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]


class OrtSession:
    def __init__(self, spec: dict[str, Any]) -> None:
        import numpy as np
        import onnxruntime as ort

        self.ort = ort
        self.path, self.conversion = onnx_file(spec)
        level = spec.get("ort_opt_level") or "all"
        if level not in OPT_LEVELS:
            raise UsageError(f"unknown --ort-opt-level '{level}'", f"choose from: {', '.join(OPT_LEVELS)}")
        self.options = self._options(spec, level)
        self.device = parse_device(spec.get("device")) or CPU
        self.provider = ort_provider(self.device, spec.get("ort_provider"))
        self.providers = providers_for(self.provider, self.device, spec.get("precision"), spec.get("dla_core"))
        self.session = ort.InferenceSession(str(self.path), self.options, providers=self.providers)
        wanted = ORT_PROVIDERS[self.provider]
        if wanted not in self.session.get_providers():
            raise ZooprofError(
                f"ONNX Runtime did not enable {wanted} (session providers: {', '.join(self.session.get_providers())}): "
                "its CUDA/cuDNN/TensorRT libraries are missing or do not match this onnxruntime build"
            )
        rng = np.random.default_rng(0)
        self.feeds = {}
        if self.conversion and self.conversion.get("detector"):  # the images the torch runtime sees
            from zooprof.frontends.torch.detection import images

            imgs = images([tuple(s) for s in spec["input_shapes"]])
            self.feeds = {meta.name: img.numpy() for meta, img in zip(self.session.get_inputs(), imgs, strict=True)}
        for meta, shape in zip(self.session.get_inputs(), spec["input_shapes"] if not self.feeds else [], strict=False):
            dtype = NUMPY_TYPES.get(meta.type, "float32")
            self.feeds[meta.name] = (
                rng.random(tuple(shape)).astype(dtype) if "float" in dtype else np.zeros(tuple(shape), dtype=dtype)
            )
        self.binding = self._bind() if self.device.kind == "cuda" else None
        self.info = {
            "engine": "onnxruntime",
            "version": ort.__version__,
            "device": str(self.device),
            "precision": spec.get("precision") or "fp32",
            "provider": wanted,
            "providers": self.session.get_providers(),
            "io_binding": f"inputs and outputs on {self.device}" if self.binding is not None else None,
            "threads": spec.get("threads"),
            "graph_optimization": level,
            "model_file": str(self.path),
            "model_file_bytes": self.path.stat().st_size,
        }
        if self.conversion:
            self.info["conversion"] = self.conversion

    def _options(self, spec: dict[str, Any], level: str) -> Any:
        ort = self.ort
        so = ort.SessionOptions()
        so.graph_optimization_level = {
            "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[level]
        if spec.get("threads"):
            so.intra_op_num_threads = int(spec["threads"])
            so.inter_op_num_threads = 1
        so.log_severity_level = 3
        return so

    def _bind(self) -> Any:
        """Inputs copied to the device once; outputs left on it: each run is the model only."""
        ort = self.ort
        binding = self.session.io_binding()
        for name, array in self.feeds.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(array, "cuda", self.device.index))
        for meta in self.session.get_outputs():
            binding.bind_output(meta.name, "cuda", self.device.index)
        return binding

    def run(self) -> None:
        if self.binding is not None:
            self.session.run_with_iobinding(self.binding)
        else:
            self.session.run(None, self.feeds)

    def per_layer(self, iterations: int) -> dict[str, Any]:
        """Kernel time per ONNX node from ORT's profiler (median over iterations).

        Node names are those of the optimised graph: a node that ORT fused (e.g. Conv+Relu)
        appears once under its fused name, marked fused, never split by guesswork.
        """
        import tempfile

        so = self.options
        so.enable_profiling = True
        with tempfile.TemporaryDirectory() as tmp:
            so.profile_file_prefix = str(Path(tmp) / "ort")
            sess = self.ort.InferenceSession(str(self.path), so, providers=self.providers)
            for _ in range(2):
                sess.run(None, self.feeds)
            sess.end_profiling()
            sess = self.ort.InferenceSession(str(self.path), so, providers=self.providers)
            for _ in range(iterations):
                sess.run(None, self.feeds)  # host feeds: the profiler's kernel times are per node either way
            events = json.loads(Path(sess.end_profiling()).read_text())
        so.enable_profiling = False
        return summarize_ort_profile(events, iterations, self.graph_node_names())

    def per_stage(self, iterations: int) -> dict[str, Any]:
        """A detector exported from PyTorch: ORT's kernel time per node, summed per stage by the
        module path in each node's name."""
        if not (self.conversion and self.conversion.get("detector")):
            return {
                "method": None,
                "reason": "per-stage timing on onnxruntime needs a detector exported by zooprof "
                "(node names carry the module path)",
            }
        from zooprof.ir.stages import STAGES, stage_of_onnx_node

        nodes = self.per_layer(iterations)
        seconds: dict[str, float] = {}
        for node in nodes["layers"]:
            if node["op"] in CONTROL_FLOW:  # its time is its subgraph's nodes', timed themselves
                continue
            stage = stage_of_onnx_node(node["name"])
            seconds[stage] = seconds.get(stage, 0.0) + node["seconds"]
        stages = [{"stage": s, "seconds": seconds[s]} for s in STAGES if s in seconds]
        return {
            "method": "onnxruntime profiler: median kernel time per node, summed per stage by the module path in "
            "the node name (nodes outside every module: postprocess; control-flow nodes left out, "
            "their subgraph nodes are timed themselves)",
            "iterations": iterations,
            "stages": stages,
            "sum_seconds": sum(s["seconds"] for s in stages),
            "pass_seconds": nodes["pass_seconds"],
        }

    def graph_node_names(self) -> set[str]:
        try:
            import onnx

            return {n.name for n in onnx.load(str(self.path), load_external_data=False).graph.node}
        except Exception:
            return set()


def summarize_ort_profile(events: list[dict[str, Any]], iterations: int, original: set[str]) -> dict[str, Any]:
    """Per-node median kernel time from ORT profile events; end-to-end from model_run events."""
    per_node: dict[str, list[float]] = {}
    ops: dict[str, str] = {}
    providers: dict[str, str] = {}
    runs = []
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            name = e["name"][: -len("_kernel_time")]
            per_node.setdefault(name, []).append(e["dur"] / 1e6)
            ops[name] = e.get("args", {}).get("op_name", "")
            providers[name] = e.get("args", {}).get("provider", "")
        elif e.get("cat") == "Session" and e.get("name") == "model_run":
            runs.append(e["dur"] / 1e6)
    layers = []
    for name, values in per_node.items():
        values.sort()
        layers.append(
            {
                "name": name,
                "op": ops[name],
                "provider": providers.get(name) or None,
                "seconds": values[len(values) // 2],
                "fused": bool(original) and name not in original,
            }
        )
    runs.sort()
    by_provider: dict[str, int] = {}
    for layer in layers:
        key = layer["provider"] or "unknown"
        by_provider[key] = by_provider.get(key, 0) + 1
    return {
        "method": "onnxruntime profiler, kernel time per node (and the provider that ran it)",
        "nodes_per_provider": by_provider,
        "iterations": iterations,
        "layers": layers,
        "sum_seconds": sum(x["seconds"] for x in layers),
        "pass_seconds": runs[len(runs) // 2] if runs else None,
    }


def prepare(spec: dict[str, Any]) -> OrtSession:
    return OrtSession(spec)

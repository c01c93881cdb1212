"""TensorRT through `trtexec`, the tool every JetPack and TensorRT install ships.

1. ONNX: the file given, or the PyTorch model exported by zooprof.measure.convert (as for ONNX
   Runtime).
2. Engine: built by trtexec (`--onnx ... --saveEngine`) with the precision flags (--fp16, --bf16,
   --int8), `--useDLACore N --allowGPUFallback` for a DLA core, and static `--shapes`; cached under
   the zooprof cache by ONNX file + shapes + flags + trtexec binary (its path, size and time: one
   per TensorRT install), so a second run loads it (`--loadEngine`). A failed build is the row's
   failure with trtexec's last error line.
3. Timing: trtexec's own loop (`--warmUp`, `--duration`, `--iterations`, optionally
   `--useCudaGraph`), every inference's times written with `--exportTimes`; zooprof's statistics
   (median, percentiles, CI) are computed from those per-inference latencies, beside trtexec's
   printed summary (throughput, latency / GPU compute / H2D / D2H / enqueue percentiles).
4. Per layer (`--per-layer`): `--exportProfile` (median time per engine layer, timed in a
   separate profiling run) and `--exportLayerInfo` (which ONNX nodes each engine layer fuses).

The TensorRT Python package is not needed. trtexec's output formats: zooprof.runtimes.trtexec_output.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError, ZooprofError
from zooprof.runtimes.devices import find_trtexec, trtexec_missing

PRECISION_FLAGS = {"fp16": ["--fp16"], "bf16": ["--bf16"], "int8": ["--int8"]}
WARMUP_MS = 500
MIN_DURATION_S = 3.0


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def engine_key(onnx_path: Path, shapes: str, flags: list[str], exe: Path) -> str:
    """The cache key of an engine: ONNX bytes, shapes, build flags and the trtexec binary."""
    from zooprof.result.cache import file_hash

    stat = exe.stat()
    parts = {
        "onnx": file_hash(str(onnx_path)),
        "shapes": shapes,
        "flags": flags,
        "trtexec": [str(exe.resolve()), stat.st_size, int(stat.st_mtime)],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def onnx_inputs(path: Path) -> list[str]:
    try:
        import onnx

        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:
        raise ZooprofError(f"cannot read the ONNX file {path}: {_first_line(str(exc))}") from exc
    initialisers = {i.name for i in graph.initializer}
    return [i.name for i in graph.input if i.name not in initialisers]


def shapes_flag(names: list[str], shapes: list[list[int]]) -> str:
    """--shapes=input:1x3x224x224,... (static shapes: trtexec needs them for dynamic inputs)."""
    return ",".join(f"'{n}':{'x'.join(map(str, s))}" for n, s in zip(names, shapes, strict=False))


def build_flags(spec: dict[str, Any], shapes: str) -> list[str]:
    """trtexec's engine-build flags for a spec: static shapes, precision, DLA core."""
    flags = [f"--shapes={shapes}", *PRECISION_FLAGS.get(spec.get("precision") or "", [])]
    if spec.get("dla_core") is not None:
        flags += [f"--useDLACore={int(spec['dla_core'])}", "--allowGPUFallback"]
    return flags


def run_flags(spec: dict[str, Any], shapes: str) -> list[str]:
    """trtexec's timing-run flags besides the engine, times and duration: shapes, DLA, CUDA graphs."""
    flags = [f"--shapes={shapes}"]
    if spec.get("dla_core") is not None:
        flags += [f"--useDLACore={int(spec['dla_core'])}", "--allowGPUFallback"]
    if spec.get("cuda_graphs"):
        flags.append("--useCudaGraph")
    return flags


def duration_s(max_time: float, min_time: float) -> float:
    """How long trtexec's loop runs: max(the power window, 3 s, a tenth of --max-time)."""
    return max(min_time, MIN_DURATION_S, max_time / 10)


def timing_record(log_text: str, times_data: Any, wall: tuple[float, float], duration: float) -> dict[str, Any]:
    """The row's timing from one trtexec timing run: zooprof's statistics over the per-inference
    times it exported, its parsed log, and host timestamps for the power window."""
    from zooprof.measure.stats import Stats
    from zooprof.runtimes.trtexec_output import parse_log, parse_times

    times = parse_times(times_data)
    latencies = [x / 1000.0 for x in times.get("latency_ms") or []]
    if not latencies:
        raise ZooprofError("trtexec's --exportTimes file has no inferences")
    record: dict[str, Any] = {
        "latency_ms": Stats.from_samples(latencies).to_dict(),
        "timer": "trtexec (its own loop; zooprof's statistics over its --exportTimes per-inference latencies)",
        "warmup_iterations": None,
        "warmup_ms": WARMUP_MS,
        "warmup_stable": None,
        "calls_per_sample": 1,
        "stop_reason": "duration",
        "duration_s": duration,
        "wall_time_s": round(wall[1] - wall[0], 3),
        "trtexec": parse_log(log_text),
    }
    for key in ("compute_ms", "h2d_ms", "d2h_ms", "enqueue_ms"):
        values = [x / 1000.0 for x in times.get(key) or []]
        if values:
            record[key] = Stats.from_samples(values).to_dict()
    record["timestamps_s"] = host_window(times, wall[0], wall[1])
    record["timestamps_note"] = (
        "trtexec's per-inference times placed on the clock of the machine that ran it, with the last inference "
        "ending when trtexec exited (engine teardown is counted as inference time; about 0.1 s)"
    )
    return record


def per_layer_record(profile_data: Any, layers_data: Any) -> dict[str, Any]:
    """The per-layer record from --exportProfile and --exportLayerInfo data (None: not written)."""
    from zooprof.runtimes.trtexec_output import parse_layer_info, parse_profile

    if profile_data is None:
        return {"method": None, "reason": "trtexec wrote no per-layer profile (--exportProfile)"}
    info = parse_layer_info(layers_data) if layers_data is not None else []
    return engine_layers(parse_profile(profile_data), info)


class TrtexecSession:
    def __init__(self, spec: dict[str, Any]) -> None:
        from zooprof.result.cache import cache_dir
        from zooprof.runtimes.onnxruntime_rt import onnx_file

        exe = find_trtexec(spec.get("trtexec"))
        if exe is None:
            raise UsageError(trtexec_missing(spec.get("trtexec")) or "trtexec not found", "give it with --trtexec")
        self.exe = exe
        self.spec = spec
        self.onnx_path, conversion = onnx_file(spec)
        names = onnx_inputs(self.onnx_path)
        shapes = spec["input_shapes"]
        if conversion and conversion.get("detector"):
            raise UsageError(
                "TensorRT through trtexec runs single-input ONNX graphs; a torchvision detector's export takes "
                "a list of images and data-dependent post-processing",
                "profile the detector with --runtime torch or onnxruntime",
            )
        self.shapes = shapes_flag(names, shapes)
        self.build_flags = build_flags(spec, self.shapes)
        dla = spec.get("dla_core")
        device = str(spec.get("device") or "cuda:0")
        self.device_index = int(device.split(":")[1]) if ":" in device else 0
        key = engine_key(self.onnx_path, self.shapes, self.build_flags, exe)
        self.engine = cache_dir() / "tensorrt" / f"{key}.engine"
        self.engine.parent.mkdir(parents=True, exist_ok=True)
        self.build: dict[str, Any] = {"cached": self.engine.is_file()}
        if not self.engine.is_file():
            self.build.update(self._build())
        else:
            sidecar = self.engine.with_suffix(".json")
            if sidecar.is_file():
                self.build.update(json.loads(sidecar.read_text()))
        self.info: dict[str, Any] = {
            "engine": "tensorrt (trtexec)",
            "device": "dla:" + str(dla) if dla is not None else f"cuda:{self.device_index}",
            "precision": spec.get("precision") or "fp32",
            "trtexec": str(exe),
            "tensorrt_version": self.build.get("tensorrt_version"),
            "engine_file": str(self.engine),
            "engine_bytes": self.engine.stat().st_size,
            "build": self.build,
            "cuda_graph": bool(spec.get("cuda_graphs")),
            "model_file": str(self.onnx_path),
        }
        if conversion:
            self.info["conversion"] = conversion
        self.device_memory: dict[str, Any] | None = None
        self.per_layer_record: dict[str, Any] | None = None

    def _trtexec(self, args: list[str], what: str, timeout: float | None = None) -> tuple[str, float]:
        started = time.perf_counter()
        try:
            proc = subprocess.run(  # stderr merged: trtexec writes [W] and [E] lines there, in order
                [str(self.exe), *args, f"--device={self.device_index}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
        except OSError as exc:
            raise ZooprofError(f"cannot run {self.exe}: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise ZooprofError(f"trtexec {what} did not finish in {timeout:g} s") from exc
        seconds = time.perf_counter() - started
        text = proc.stdout or ""
        if proc.returncode != 0:
            from zooprof.runtimes.trtexec_output import parse_log

            lines = [line for line in text.strip().splitlines() if line.strip()]
            last = parse_log(text).get("last_error") or (lines[-1] if lines else "no output")
            raise ZooprofError(f"trtexec {what} failed (exit {proc.returncode}): {last}")
        return text, seconds

    def _build(self) -> dict[str, Any]:
        from zooprof.runtimes.trtexec_output import parse_log

        partial = self.engine.with_suffix(".partial")
        text, seconds = self._trtexec(
            [
                f"--onnx={self.onnx_path}",
                f"--saveEngine={partial}",
                *self.build_flags,
                "--warmUp=0",
                "--iterations=1",
                "--duration=0",
            ],
            "engine build",
        )
        if not partial.is_file():
            raise ZooprofError(f"trtexec reported success but wrote no engine ({partial})")
        partial.replace(self.engine)
        log = parse_log(text)
        record = {
            "seconds": round(seconds, 3),
            "build_seconds": log.get("build_seconds"),
            "tensorrt_version": log.get("tensorrt_version"),
            "flags": self.build_flags,
            "warnings": log.get("warnings"),
        }
        self.engine.with_suffix(".json").write_text(json.dumps(record))
        return record

    def run(self) -> None:
        raise ZooprofError("a TensorRT engine is timed by trtexec itself, not call by call")

    def measure(self, max_time: float, target_ci: float, min_time: float, progress: Any) -> dict[str, Any]:
        """trtexec's loop (`duration_s`) after 500 ms of warm-up; the statistics are zooprof's,
        over the per-inference latencies trtexec exported."""
        duration = duration_s(max_time, min_time)
        with tempfile.TemporaryDirectory() as tmp:
            files = {name: Path(tmp) / f"{name}.json" for name in ("times", "profile", "layers")}
            args = [
                f"--loadEngine={self.engine}",
                f"--warmUp={WARMUP_MS}",
                f"--duration={duration:g}",
                "--iterations=10",
                f"--exportTimes={files['times']}",
                *run_flags(self.spec, self.shapes),
            ]
            if self.spec.get("per_layer"):
                args += [
                    f"--exportProfile={files['profile']}",
                    f"--exportLayerInfo={files['layers']}",
                    "--separateProfileRun",
                    "--profilingVerbosity=detailed",
                ]
            wall_start = time.perf_counter()
            text, _ = self._trtexec(args, "timing run", timeout=duration * 4 + 120)
            wall_end = time.perf_counter()
            data = {name: json.loads(f.read_text()) if f.is_file() else None for name, f in files.items()}
        if data["times"] is None:
            raise ZooprofError("trtexec wrote no per-inference times (--exportTimes)")
        if self.spec.get("per_layer"):
            self.per_layer_record = per_layer_record(data["profile"], data["layers"])
        return timing_record(text, data["times"], (wall_start, wall_end), duration)

    def per_layer(self, iterations: int) -> dict[str, Any]:
        return self.per_layer_record or {"method": None, "reason": "no per-layer profile from trtexec"}


def host_window(times: dict[str, list[float]], wall_start: float, wall_end: float) -> list[list[float]]:
    """(start, end) host-clock seconds per inference: trtexec's own start/end (ms from its origin)
    shifted so that the last inference ends at trtexec's exit, clipped to the process's lifetime."""
    starts, ends = times.get("start_ms") or [], times.get("end_ms") or []
    if not starts or len(starts) != len(ends):
        return [[wall_start, wall_end]]
    shift = wall_end - ends[-1] / 1000.0
    return [
        [max(wall_start, shift + a / 1000.0), max(wall_start, shift + b / 1000.0)]
        for a, b in zip(starts, ends, strict=True)
    ]


def engine_layers(profile: Any, info: list[dict[str, Any]]) -> dict[str, Any]:
    """The per-layer record: each engine layer's median time, the ONNX nodes it implements
    (several: fused), from --exportProfile and --exportLayerInfo."""
    from zooprof.runtimes.trtexec_output import fused_onnx_nodes

    rows = profile["layers"] if isinstance(profile, dict) else profile
    nodes_of = {layer["name"]: layer for layer in info}
    layers = []
    for row in rows:
        meta = nodes_of.get(row["name"]) or {}
        onnx_nodes = meta.get("onnx_nodes") or fused_onnx_nodes(row["name"])
        ms = row.get("median_ms") if row.get("median_ms") is not None else row.get("average_ms")
        layers.append(
            {
                "name": row["name"],
                "op": meta.get("type") or "",
                "seconds": (ms or 0.0) / 1000.0,
                "onnx_nodes": onnx_nodes,
                "fused": len(onnx_nodes) > 1,
                "reformat": bool(meta.get("reformat")),
            }
        )
    total = sum(x["seconds"] for x in layers)
    return {
        "method": "trtexec --exportProfile (median per engine layer, separate profiling run) and "
        "--exportLayerInfo (the ONNX nodes each engine layer fuses)",
        "iterations": profile.get("count") if isinstance(profile, dict) else None,
        "layers": layers,
        "sum_seconds": total,
        "pass_seconds": None,
    }


def module_path(onnx_node: str) -> str | None:
    """The PyTorch module a node exported by torch.onnx.export comes from:
    '/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1'; None for a name without a scope."""
    if not onnx_node.startswith("/"):
        return None
    path = ""
    for seg in onnx_node.strip("/").split("/")[:-1]:
        path = seg if (not path or seg.startswith(path + ".")) else f"{path}.{seg}"
    return path or None


def map_to_ir(record: dict[str, Any] | None, ir_names: list[str]) -> None:
    """Give each engine layer the IR layers it covers: an ONNX node named as an IR layer (an ONNX
    model), or the module a PyTorch export's node came from."""
    if not record or not record.get("layers"):
        return
    known = set(ir_names)
    for layer in record["layers"]:
        covers: list[str] = []
        for node in layer.get("onnx_nodes") or []:
            name = node if node in known else module_path(node)
            if name in known and name not in covers:
                covers.append(name)
        layer["ir_layers"] = covers


def prepare(spec: dict[str, Any]) -> TrtexecSession:
    return TrtexecSession(spec)

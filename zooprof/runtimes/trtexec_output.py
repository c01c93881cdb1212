"""What NVIDIA's `trtexec` prints and writes, read into plain Python values.

Pure functions over text and already-decoded JSON (standard library only, no TensorRT needed),
so results measured on a Jetson can be read anywhere. Every reader is tolerant: a figure the
input lacks is `None` (or an empty list), never an exception.

Formats covered (fixtures and their sources: tests/fixtures/trtexec/SOURCES.md):

* the console log (`parse_log`): the "=== Build Options ===", "=== Inference Options ===",
  "=== Device Information ===" sections and the "=== Performance summary ===" of TensorRT
  8.2 (`percentile(99%)` only, plus "End-to-End Host Latency"), 8.4, 8.5 (JetPack 5,
  `[TensorRT v8502]`), 8.6 and 10.x (`[TensorRT v100300]`, `v101601`: percentile(90%),
  (95%), (99%)); the older multi-line summary ("Host Latency" / "min: X ms" /
  "percentile: X ms at 99%" / "throughput: X qps" / "walltime: X s"); failed runs
  (`&&&& FAILED`, `[E]` lines);
* `--exportTimes` (`parse_times`): a list of per-iteration records with startEnqMs, endEnqMs,
  startH2dMs ... latencyMs (unchanged from 8.x to 10.x; there is no enqueueMs field, so the
  enqueue time is endEnqMs - startEnqMs);
* `--exportProfile` (`parse_profile`): `[{"count": N}, {"name", "timeMs", "averageMs",
  "medianMs", "percentage"}, ...]`; "medianMs" is absent in TensorRT 8.2-era files;
* `--exportLayerInfo` (`parse_layer_info`): `{"Layers": [...], "Bindings": [...]}` where a
  layer is a name (the default `layer_names_only` verbosity) or, with
  `--profilingVerbosity=detailed`, an object with "Name", "LayerType" and (TensorRT 8.6+)
  "Metadata" such as "[ONNX Layer: node_conv2d]\\x1e[ONNX Layer: node_relu]" (10.x Myelin
  layers join with \\x1f).
"""

from __future__ import annotations

import re
from typing import Any

STAT_KEYS = ("min", "max", "mean", "median", "p90", "p95", "p99")

#: performance-summary line heading -> key of `parse_log`'s result.
_STAT_LINES = {
    "Latency": "latency_ms",
    "End-to-End Host Latency": "e2e_ms",
    "Enqueue Time": "enqueue_ms",
    "H2D Latency": "h2d_ms",
    "GPU Compute Time": "gpu_compute_ms",
    "D2H Latency": "d2h_ms",
}
#: section headings of the older multi-line summary (TensorRT 7 / 8.0) -> result key.
_OLD_SECTIONS = {
    "Host Latency": "latency_ms",
    "Enqueue Time": "enqueue_ms",
    "H2D Latency": "h2d_ms",
    "GPU Compute": "gpu_compute_ms",
    "GPU Compute Time": "gpu_compute_ms",
    "D2H Latency": "d2h_ms",
}

_PREFIX = re.compile(r"^\s*(?:\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\]\s*)?\[([A-Z])\]\s?")
_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_STAT_PAIR = re.compile(
    r"(min|max|mean|median|percentile\((\d+(?:\.\d+)?)%\)|percentile:\s*(\d+(?:\.\d+)?)%)"
    r"\s*=\s*" + _NUMBER + r"\s*ms"
)
_OLD_STAT = re.compile(r"^(min|max|mean|median):\s*" + _NUMBER + r"\s*ms")
_OLD_PERCENTILE = re.compile(r"^percentile:\s*" + _NUMBER + r"\s*ms at (\d+(?:\.\d+)?)%")
_VERSION_TAG = re.compile(r"\[TensorRT v(\d{4,6})\]")
_VERSION_LINE = re.compile(r"TensorRT version:\s*(\d+\.\d+(?:\.\d+)*)")
_RESULT = re.compile(r"^&&&& (PASSED|FAILED|RUNNING)\b[^#]*(?:#\s*(.*))?$")
_MIB = 1024 * 1024


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _version_from_tag(digits: str) -> str:
    """`8502` -> 8.5.2 (NV_TENSORRT_VERSION below 10), `100300` -> 10.3.0, `101601` -> 10.16.1."""
    if len(digits) == 4:
        return f"{int(digits[0])}.{int(digits[1])}.{int(digits[2:])}"
    return f"{int(digits[:-4])}.{int(digits[-4:-2])}.{int(digits[-2:])}"


def _empty_stats() -> dict[str, float | None]:
    return dict.fromkeys(STAT_KEYS)


def _stat_key(name: str, percent: str | None) -> str | None:
    if percent is None:
        return name
    value = float(percent)
    return f"p{int(value)}" if value.is_integer() and f"p{int(value)}" in STAT_KEYS else None


def _read_stat_line(rest: str, stats: dict[str, float | None]) -> None:
    for match in _STAT_PAIR.finditer(rest):
        name = "percentile" if match.group(1).startswith("percentile") else match.group(1)
        key = _stat_key(name, match.group(2) or match.group(3))
        if key is not None:
            stats[key] = _number(match.group(4))


def _split_line(line: str) -> tuple[str | None, str]:
    """A log line -> (severity letter or None, message without the "[date] [X] " prefix)."""
    match = _PREFIX.match(line)
    if match is None:
        return None, line.strip()
    return match.group(1), line[match.end() :].rstrip()


def parse_log(text: str) -> dict[str, Any]:
    """Figures of one trtexec console log; every field the log lacks is None.

    Keys: tensorrt_version, passed, command, throughput_qps, latency_ms, gpu_compute_ms,
    h2d_ms, d2h_ms, enqueue_ms, e2e_ms (dicts of STAT_KEYS), host_walltime_s,
    gpu_compute_total_s, build_seconds, engine_bytes (from "Created engine with size: X MiB",
    else the coarser "Loaded engine size: N MiB"), precision ("fp32+fp16"), cuda_graph,
    dla_core, device, last_error, warnings (count of [W] lines), errors (count of [E] lines).
    """
    result: dict[str, Any] = {
        "tensorrt_version": None,
        "passed": None,
        "command": None,
        "throughput_qps": None,
        **{key: _empty_stats() for key in _STAT_LINES.values()},
        "host_walltime_s": None,
        "gpu_compute_total_s": None,
        "build_seconds": None,
        "engine_bytes": None,
        "precision": None,
        "cuda_graph": None,
        "dla_core": None,
        "device": None,
        "last_error": None,
        "warnings": 0,
        "errors": 0,
    }
    tag_version: str | None = None
    loaded_bytes: int | None = None
    section = ""
    old_section: str | None = None
    for line in (text or "").splitlines():
        result_match = _RESULT.match(line.strip())
        if result_match:
            if result_match.group(1) != "RUNNING":
                result["passed"] = result_match.group(1) == "PASSED"
            if result_match.group(2):
                result["command"] = result_match.group(2).strip()
        tag = _VERSION_TAG.search(line)
        if tag:
            tag_version = _version_from_tag(tag.group(1))
        severity, message = _split_line(line)
        if severity == "W":
            result["warnings"] += 1
        elif severity == "E":
            result["errors"] += 1
            result["last_error"] = message
        if message.startswith("=== ") and message.endswith(" ==="):
            section = message.strip("= ").strip()
            continue
        _read_message(message, section, result)
        old_section = _read_old_format(message, old_section, result)
        if match := re.match(r"(?:\[TRT\]\s*)?Loaded engine size:\s*" + _NUMBER + r"\s*MiB", message):
            loaded_bytes = int(round(float(match.group(1)) * _MIB))
    if result["tensorrt_version"] is None:
        result["tensorrt_version"] = tag_version
    if result["engine_bytes"] is None:
        result["engine_bytes"] = loaded_bytes
    command = result["command"] or ""
    if result["cuda_graph"] is None and command:
        result["cuda_graph"] = "--useCudaGraph" in command.split() or None
    if result["dla_core"] is None and (dla := re.search(r"--useDLACore=(\d+)", command)):
        result["dla_core"] = int(dla.group(1))
    return result


def _read_message(message: str, section: str, result: dict[str, Any]) -> None:
    """One log message of the option sections or the performance summary into `result`."""
    head, _, rest = message.partition(":")
    rest = rest.strip()
    if head in _STAT_LINES and "=" in rest:
        _read_stat_line(rest, result[_STAT_LINES[head]])
    elif head == "Throughput" and rest.endswith("qps"):
        result["throughput_qps"] = _number(rest[:-3].strip())
    elif head == "Total Host Walltime" and rest.endswith(" s"):
        result["host_walltime_s"] = _number(rest[:-2])
    elif head == "Total GPU Compute Time" and rest.endswith(" s"):
        result["gpu_compute_total_s"] = _number(rest[:-2])
    elif head == "TensorRT version" and (match := _VERSION_LINE.search(message)):
        result["tensorrt_version"] = match.group(1)
    elif head == "Selected Device" and rest:
        result["device"] = rest
    elif head == "Precision" and section == "Build Options" and rest:
        result["precision"] = rest.lower()
    elif head == "CUDA Graph" and rest in ("Enabled", "Disabled"):
        result["cuda_graph"] = rest == "Enabled"
    elif head == "DLACore" and section == "System Options":
        result["dla_core"] = int(rest) if rest.isdigit() else None
    elif match := re.match(r"Engine built in\s*" + _NUMBER + r"\s*sec", message):
        result["build_seconds"] = _number(match.group(1))
    elif match := re.match(r"Created engine with size:\s*" + _NUMBER + r"\s*MiB", message):
        result["engine_bytes"] = int(round(float(match.group(1)) * _MIB))


def _read_old_format(message: str, current: str | None, result: dict[str, Any]) -> str | None:
    """The multi-line summary of TensorRT 7 / 8.0; returns the section now open."""
    if message in _OLD_SECTIONS:
        return _OLD_SECTIONS[message]
    if current is None:
        return None
    if match := _OLD_STAT.match(message):
        result[current][match.group(1)] = _number(match.group(2))
    elif match := _OLD_PERCENTILE.match(message):
        key = _stat_key("percentile", match.group(2))
        if key is not None:
            result[current][key] = _number(match.group(1))
    elif match := re.match(r"throughput:\s*" + _NUMBER + r"\s*qps", message):
        result["throughput_qps"] = _number(match.group(1))
    elif match := re.match(r"walltime:\s*" + _NUMBER + r"\s*s", message):
        result["host_walltime_s"] = _number(match.group(1))
    else:
        return None
    return current


def _field(record: dict[str, Any], name: str) -> float | None:
    value = record.get(name)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _span(record: dict[str, Any], start: str, end: str) -> float | None:
    first, last = _field(record, start), _field(record, end)
    return None if first is None or last is None else last - first


def parse_times(data: Any) -> dict[str, list[float]]:
    """Per-iteration times (ms) of an --exportTimes file: latency_ms, compute_ms, h2d_ms,
    d2h_ms, enqueue_ms, and start_ms / end_ms (the start of the input copy and the end of the
    output copy, on trtexec's clock). A duration the record lacks is derived from its start/end
    fields (enqueue always is: trtexec writes no enqueueMs); an iteration that has neither is
    left out of that list, so the lists can differ in length."""
    keys = ("latency_ms", "compute_ms", "h2d_ms", "d2h_ms", "enqueue_ms", "start_ms", "end_ms")
    series: dict[str, list[float]] = {key: [] for key in keys}
    for record in data if isinstance(data, list) else []:
        if not isinstance(record, dict):
            continue
        h2d = _field(record, "h2dMs")
        h2d = _span(record, "startH2dMs", "endH2dMs") if h2d is None else h2d
        compute = _field(record, "computeMs")
        compute = _span(record, "startComputeMs", "endComputeMs") if compute is None else compute
        d2h = _field(record, "d2hMs")
        d2h = _span(record, "startD2hMs", "endD2hMs") if d2h is None else d2h
        latency = _field(record, "latencyMs")
        if latency is None and None not in (h2d, compute, d2h):
            latency = h2d + compute + d2h  # type: ignore[operator]
        enqueue = _field(record, "enqueueMs")
        enqueue = _span(record, "startEnqMs", "endEnqMs") if enqueue is None else enqueue
        start = _field(record, "startH2dMs")
        start = _field(record, "startComputeMs") if start is None else start
        end = _field(record, "endD2hMs")
        end = _field(record, "endComputeMs") if end is None else end
        for key, value in (
            ("latency_ms", latency),
            ("compute_ms", compute),
            ("h2d_ms", h2d),
            ("d2h_ms", d2h),
            ("enqueue_ms", enqueue),
            ("start_ms", start),
            ("end_ms", end),
        ):
            if value is not None:
                series[key].append(value)
    return series


def parse_profile(data: Any) -> dict[str, Any]:
    """An --exportProfile file -> {"count": iterations profiled or None, "layers": [{"name",
    "average_ms", "median_ms", "percentage", "total_ms"}, ...]} in the file's order."""
    count: int | None = None
    layers: list[dict[str, Any]] = []
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, dict):
            continue
        if "name" not in entry:
            if isinstance(entry.get("count"), int) and count is None:
                count = entry["count"]
            continue
        layers.append(
            {
                "name": str(entry["name"]),
                "average_ms": _field(entry, "averageMs"),
                "median_ms": _field(entry, "medianMs"),
                "percentage": _field(entry, "percentage"),
                "total_ms": _field(entry, "timeMs"),
            }
        )
    return {"count": count, "layers": layers}


_ONNX_LAYER = re.compile(r"\[ONNX Layer: ([^\]]*)\]")
_COPY_NAME = re.compile(r"^(Reformatting CopyNode for |\[(HostToDevice|DeviceToHost)Copy)")


def parse_layer_info(data: Any) -> list[dict[str, Any]]:
    """The engine's layers of an --exportLayerInfo file, in order: {"name", "type" (None in
    the names-only form), "onnx_nodes", "fused" (more than one ONNX node), "reformat" (a
    reformatting or copy layer that no ONNX node asked for)}. ONNX nodes come from the
    layer's Metadata when the file has it, else from its name (`fused_onnx_nodes`)."""
    layers = data.get("Layers") if isinstance(data, dict) else data
    result: list[dict[str, Any]] = []
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, str):
            name, kind, metadata = layer, None, None
        elif isinstance(layer, dict) and isinstance(layer.get("Name"), str):
            name, kind = layer["Name"], layer.get("LayerType")
            metadata = layer.get("Metadata") if isinstance(layer.get("Metadata"), str) else None
        else:
            continue
        nodes = _metadata_nodes(metadata) if metadata is not None else fused_onnx_nodes(name)
        reformat = not nodes and (bool(_COPY_NAME.match(name)) or kind == "Reformat")
        result.append(
            {
                "name": name,
                "type": kind if isinstance(kind, str) else None,
                "onnx_nodes": nodes,
                "fused": len(nodes) > 1,
                "reformat": reformat,
            }
        )
    return result


def _metadata_nodes(metadata: str) -> list[str]:
    """ONNX node names of a layer's Metadata, in order, each once."""
    return list(dict.fromkeys(_ONNX_LAYER.findall(metadata)))


def _split_top(text: str, separator: str) -> list[str]:
    """`text` split on `separator` where it is outside brackets and braces."""
    parts: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(text):
        char = text[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def fused_onnx_nodes(layer_name: str) -> list[str]:
    """ONNX node names an engine layer's name says it implements: "Conv_0 + Relu_1" ->
    [Conv_0, Relu_1]; "PWN(PWN(/act/Sigmoid), /act/Mul)" -> [/act/Sigmoid, /act/Mul];
    "{ForeignNode[a...b]}" (a Myelin region) -> its first and last node [a, b]. A
    reformatting/copy layer and TensorRT's own "(Unnamed Layer* N) [Shuffle]" give none."""
    if not isinstance(layer_name, str) or _COPY_NAME.match(layer_name.strip()):
        return []
    nodes: list[str] = []
    for part in _split_top(layer_name.strip(), " + "):
        nodes.extend(_unwrap(part))
    return list(dict.fromkeys(nodes))


def _unwrap(part: str) -> list[str]:
    if part.startswith("(Unnamed Layer*"):
        return []
    if part.startswith("{ForeignNode[") and part.endswith("]}"):
        inner = part[len("{ForeignNode[") : -2]
        return [node for node in inner.split("...") if node]
    if part.startswith("PWN(") and part.endswith(")"):
        found: list[str] = []
        for piece in _split_top(part[4:-1], ", "):
            for sub in _split_top(piece, " + "):
                found.extend(_unwrap(sub))
        return found
    return [part]

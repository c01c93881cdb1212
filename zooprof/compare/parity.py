"""Parity view: one model in several formats (Keras, TF.js, TFLite float/int8, ONNX, ...).

`compare(refs, latency, max_time) -> dict` reads every format with `zooprof.measure.static.inspect`
(a format that cannot be read keeps its row, with the reason), lines up their totals and
their conv/dense layers, and explains the differences instead of hiding them:

- params: BatchNorm folding (the converter removes each BN's values and gives the conv
  before it a bias), or BN statistics counted as params in one format and buffers in the
  other, computed from the layers; anything else is an "unexplained difference";
- MACs should be equal; when they are not, by how much and in which layers;
- FLOPs: the BN layers' FLOPs less the bias additions the folded convs gained;
- quantised or float16 weights: the storage dtype, weight bytes against float32, and the
  QUANTIZE/DEQUANTIZE layers.

With `latency`, each format is timed on its default runtime (`zooprof.measure.profiling.measure_model`).
Every figure and every sentence the renderers show is in the returned dict (JSON-ready);
renderers (zooprof/cli/compare_formats_cmd.py) only lay it out. Imports no framework itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zooprof.errors import MissingDependencyError, UsageError, ZooprofError

Progress = Callable[[str], None]

VERSION = 1

#: model files found in a folder, by suffix (model.json and SavedModel folders are named below)
MODEL_SUFFIXES = {".h5": "keras", ".hdf5": "keras", ".keras": "keras", ".tflite": "tflite", ".onnx": "onnx"}
#: display names and order of the frameworks
FRAMEWORKS = {
    "keras": "Keras",
    "tfjs": "TF.js",
    "tflite": "TFLite",
    "onnx": "ONNX",
    "pytorch": "PyTorch",
    "torch": "PyTorch",
}
#: the default runtime of a framework when zooprof.runtimes.DEFAULT_RUNTIME has none
FALLBACK_RUNTIME = {"keras": "tensorflow"}
#: source ops that convert between float and integer tensors
QUANT_OPS = {
    "QUANTIZE": "QUANTIZE",
    "DEQUANTIZE": "DEQUANTIZE",
    "QUANTIZELINEAR": "QUANTIZE",
    "DEQUANTIZELINEAR": "DEQUANTIZE",
    "DYNAMICQUANTIZELINEAR": "QUANTIZE",
}
INT_DTYPES = ("int8", "uint8", "int4", "uint4", "int16")
BYTES = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int64": 8,
    "int32": 4,
    "int16": 2,
    "int8": 1,
    "uint8": 1,
    "int4": 1,
    "uint4": 1,
    "bool": 1,
}
MAX_DEPTH = 4
EDGETPU_REASON = (
    "compiled into an edgetpu-custom-op that runs only on an Edge TPU; its layers, params and MACs cannot be read"
)


# --------------------------------------------------------------------------------------
# finding the formats


def _is_edgetpu(path: Path) -> bool:
    return path.suffix.lower() == ".tflite" and "edgetpu" in path.name.lower()


def discover(root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Model files under `root` (up to MAX_DEPTH folders down) -> ([(path, shown name)], notes).

    .h5/.hdf5/.keras, model.json (TF.js), .tflite, .onnx and SavedModel folders; Edge TPU files
    are returned too (marked by their name) so the caller can list them as not comparable."""
    found: list[tuple[str, str]] = []
    zips: list[str] = []
    frontier = [root]
    for _ in range(MAX_DEPTH + 1):
        nxt = []
        for folder in frontier:
            for child in sorted(folder.iterdir()):
                if child.name.startswith((".", "__MACOSX")) or child.is_symlink():
                    continue
                shown = str(child.relative_to(root))
                if child.is_dir():
                    if (child / "saved_model.pb").is_file():
                        found.append((str(child), shown + "/"))
                    else:
                        nxt.append(child)
                elif child.suffix.lower() in MODEL_SUFFIXES or child.name == "model.json":
                    found.append((str(child), shown))
                elif child.suffix.lower() == ".zip":
                    zips.append(shown)
        frontier = nxt
    if (root / "saved_model.pb").is_file():
        found.insert(0, (str(root), "./"))
    notes = []
    if zips:
        notes.append(
            f"not searched: {', '.join(zips[:4])}{' ...' if len(zips) > 4 else ''} (zip archives: unzip "
            "them into the folder, or give each as its own argument)"
        )
    return found, notes


def _listing(root: Path) -> str:
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    if not files:
        return "it is empty"
    return "files: " + ", ".join(files[:6]) + (" ..." if len(files) > 6 else "")


# --------------------------------------------------------------------------------------
# one format


def _weights(graph: dict[str, Any] | None) -> Counter[str]:
    """Elements stored per dtype, each named tensor once (as the params analysis counts)."""
    seen: set[str] = set()
    out: Counter[str] = Counter()
    for layer in (graph or {}).get("layers", []):
        for p in layer.get("params", []):
            if p["name"] in seen:
                continue
            seen.add(p["name"])
            n = 1
            for d in p["shape"]:
                n *= int(d)
            out[p["dtype"]] += n
    return out


def _shared_values(graph: dict[str, Any] | None) -> int:
    """Parameter values (buffers aside) that several layers read and the analysis counts once:
    tied weights, or equal tensors a converter merged (an untrained model's all-zero biases)."""
    seen: set[str] = set()
    out = 0
    for layer in (graph or {}).get("layers", []):
        for p in layer.get("params", []):
            if p["name"] in seen and p.get("kind") != "buffer":
                out += _numel(p["shape"])
            seen.add(p["name"])
    return out


def _numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _batchnorm(result: Any) -> dict[str, Any]:
    """What folding this format's BatchNorm layers into the layers before them would change."""
    rows = result.layers
    glayers = (result.graph or {}).get("layers") or []
    producer: dict[str, int] = {}
    for i, gl in enumerate(glayers):
        for t in gl.get("outputs", []):
            producer[t["name"]] = i
    out = {
        "layers": 0,
        "channels": 0,
        "params": 0,
        "flops": 0,
        "after_conv_without_bias": 0,
        "after_conv_with_bias": 0,
        "not_after_conv": 0,
        "not_after_conv_channels": 0,
        "bias_gain": 0,
        "bias_add_flops": 0,
    }
    for i, row in enumerate(rows):
        if row["op"] != "batchnorm":
            continue
        shape = row["output_shape"]
        c = int(shape[1]) if len(shape) > 1 else int(shape[0])
        out["layers"] += 1
        out["channels"] += c
        out["params"] += row["params"]
        out["flops"] += row["flops"]
        j = None
        if i < len(glayers) and glayers[i].get("inputs"):
            j = producer.get(glayers[i]["inputs"][0]["name"])
        elif i > 0:
            j = i - 1
        prev = rows[j] if j is not None else None
        if prev is not None and prev["op"] == "conv":
            has_bias = j < len(glayers) and bool(glayers[j]["attrs"].get("bias"))
            if has_bias:
                out["after_conv_with_bias"] += 1
            else:
                out["after_conv_without_bias"] += 1
                out["bias_gain"] += c
                out["bias_add_flops"] += _numel(prev["output_shape"])
        else:
            out["not_after_conv"] += 1
            out["not_after_conv_channels"] += c
    return out


def _by_op(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: Counter[str] = Counter()
    for r in rows:
        out[r["op"]] += r[key]
    return {k: v for k, v in out.items() if v}


def _op_differences(base: dict[str, Any], other: dict[str, Any], key: str) -> str:
    """'by op: dense +300, batchnorm -28,160' (other minus base), or ''."""
    a, b = base[key], other[key]
    parts = [f"{op} {b.get(op, 0) - a.get(op, 0):+,}" for op in sorted(set(a) | set(b)) if a.get(op, 0) != b.get(op, 0)]
    return f" (by op, {other['column']} minus {base['column']}: {', '.join(parts)})" if parts else ""


def _label(fmt: dict[str, Any]) -> str:
    name = FRAMEWORKS.get(fmt["framework"], fmt["framework"] or "?")
    return f"{name} {fmt['storage_dtype']}" if fmt.get("storage_dtype") else name


def _read(ref: str, shown: str) -> tuple[dict[str, Any], Any]:
    """(format record, ProfileResult or None) for one model reference."""
    fmt: dict[str, Any] = {"file": shown, "reference": ref, "status": "ok", "reason": None}
    if _is_edgetpu(Path(ref)):
        fmt.update(status="not comparable", reason=EDGETPU_REASON, framework="tflite", label="Edge TPU")
        return fmt, None
    try:
        from zooprof.measure.static import inspect

        result = inspect(ref, command="zooprof compare-formats")
    except ZooprofError as exc:
        try:
            from zooprof.reference.resolve import resolve

            framework: str | None = resolve(ref).framework
        except ZooprofError:
            framework = MODEL_SUFFIXES.get(Path(ref).suffix.lower(), "tfjs" if ref.endswith("model.json") else None)
        fmt.update(status="failed", reason=str(exc), framework=framework, label=FRAMEWORKS.get(framework or "", "?"))
        return fmt, None
    t = result.totals
    weights = _weights(result.graph)
    storage = max(weights, key=lambda d: weights[d]) if weights else None
    elements = sum(weights.values()) if weights else t["params"] + t["buffers"]
    ops = Counter(QUANT_OPS.get(str(r["source_op"]).upper()) for r in result.layers)
    activations = Counter(r["dtype"] for r in result.layers if r["op"] not in ("copy",))
    mac_layers = [r for r in result.layers if r["macs"] > 0 and r["counted"]]
    fmt.update(
        framework=result.model["framework"],
        kind=result.model["kind"],
        name=result.model["name"],
        params=t["params"],
        trainable_params=t["trainable_params"],
        non_trainable_params=t["non_trainable_params"],
        buffers=t["buffers"],
        non_trainable_or_buffers=t["non_trainable_params"] + t["buffers"],
        macs=t["macs"],
        flops=t["flops"],
        weight_bytes=t["weight_bytes"],
        weight_dtypes=[d for d, _ in weights.most_common()],
        weight_elements=dict(weights.most_common()),
        storage_dtype=storage,
        float32_weight_bytes=4 * elements,
        weight_bytes_ratio=round(4 * elements / t["weight_bytes"], 4) if t["weight_bytes"] else None,
        quantised=any(d in INT_DTYPES for d in weights),
        input_dtypes=[i["dtype"] for i in result.model.get("inputs", [])],
        activation_dtype=activations.most_common(1)[0][0] if activations else None,
        layers=len(result.layers),
        mac_layers=len(mac_layers),
        coverage_percent=t["coverage"]["percent"],
        uncounted_ops=t["coverage"]["uncounted_ops"],
        quantize_layers=ops["QUANTIZE"],
        dequantize_layers=ops["DEQUANTIZE"],
        batchnorm=_batchnorm(result),
        shared_param_values=_shared_values(result.graph),
        params_by_op=dict(sorted(_by_op(result.layers, "params").items())),
        flops_by_op=dict(sorted(t.get("flops_by_op", {}).items())),
    )
    fmt["label"] = _label(fmt)
    if "edgetpu-custom-op" in fmt["uncounted_ops"]:
        fmt.update(status="not comparable", reason=EDGETPU_REASON, label="Edge TPU")
    return fmt, result


# --------------------------------------------------------------------------------------
# explanations


def _n(x: int) -> str:
    return f"{x:,}"


def _count(n: int, noun: str) -> str:
    """'1 BatchNorm layer', '52 BatchNorm layers'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _sharing(fmt: dict[str, Any]) -> str:
    n = fmt.get("shared_param_values", 0)
    return (
        f"{fmt['column']} counts {_n(n)} values that several layers share once (tied weights, or equal tensors "
        "the converter merged, e.g. an untrained model's all-zero biases)"
    )


def params_finding(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """How `other`'s parameter count relates to `base`'s, computed from their layers.

    Values shared by several layers count once in each format's params; the comparison adds
    them back ("as if unshared") before looking for BN folding, and says so."""
    diff = other["params"] - base["params"]
    finding: dict[str, Any] = {
        "format": other["column"],
        "baseline": base["column"],
        "difference": diff,
        "explained": diff == 0,
        "cause": None,
    }
    if diff == 0:
        finding["text"] = f"{other['column']}: params equal to {base['column']} ({_n(base['params'])})"
        return finding
    head = (
        f"{other['column']} has {_n(abs(diff))} {'more' if diff > 0 else 'fewer'} params than {base['column']} "
        f"({_n(other['params'])} vs {_n(base['params'])}): "
    )
    unshared = {id(f): f["params"] + f.get("shared_param_values", 0) for f in (base, other)}
    sharing = [_sharing(f) for f in (base, other) if f.get("shared_param_values")]
    tail = (
        f"; {'; '.join(sharing)}"
        if sharing and base.get("shared_param_values") != other.get("shared_param_values")
        else ""
    )
    a, b = base["batchnorm"], other["batchnorm"]
    with_bn, without_bn = (
        (base, other)
        if a["layers"] and not b["layers"]
        else (other, base)
        if b["layers"] and not a["layers"]
        else (None, None)
    )
    if with_bn is not None and without_bn is not None:
        bn = with_bn["batchnorm"]
        kept = 2 * bn["not_after_conv_channels"]  # a BN with no conv before it stays a scale and an offset
        expected = bn["params"] - bn["bias_gain"] - kept
        finding.update(expected=expected, batchnorm_layers=bn["layers"], channels=bn["channels"])
        if unshared[id(with_bn)] - unshared[id(without_bn)] == expected:
            per = bn["params"] / bn["channels"] if bn["channels"] else 0
            counted = f"{per:g} per channel" if per == int(per) else "per channel"
            detail = (
                f"{with_bn['column']} counts {_n(bn['params'])} BatchNorm values as params ({counted}); "
                f"{without_bn['column']} keeps {_n(bn['bias_gain'])} conv biases instead "
                f"({_count(bn['after_conv_without_bias'], 'conv')} had no bias"
            )
            if bn["after_conv_with_bias"]:
                detail += f", {_count(bn['after_conv_with_bias'], 'BatchNorm')} folded into an existing bias"
            detail += (
                f", {_count(bn['not_after_conv'], 'BatchNorm')} not after a conv kept as a scale and an offset "
                f"({_n(kept)} values)"
                if bn["not_after_conv"]
                else ""
            ) + ")"
            finding.update(explained=True, cause="batchnorm folding" + (" and shared values" if tail else ""))
            what = f"BN folding of {_count(bn['layers'], 'BatchNorm layer')} (sum C = {_n(bn['channels'])})"
            if tail:
                merged = without_bn.get("shared_param_values", 0) - with_bn.get("shared_param_values", 0)
                finding["text"] = head + (
                    f"params differ by {_n(abs(diff))} = {what}, {_n(expected)} values, "
                    f"{'+' if merged >= 0 else '-'} {_n(abs(merged))} shared values counted "
                    f"once: {detail}{tail}"
                )
            else:
                finding["text"] = head + f"params differ by {_n(abs(diff))} = {what}: {detail}"
            return finding
    elif (
        a["layers"]
        and a["layers"] == b["layers"]
        and a["channels"] == b["channels"]
        and unshared[id(other)] - unshared[id(base)] == b["params"] - a["params"]
    ):
        per_a, per_b = a["params"] / a["channels"], b["params"] / b["channels"]
        finding.update(
            explained=True,
            cause="batchnorm statistics counted differently",
            batchnorm_layers=a["layers"],
            channels=a["channels"],
        )
        fewer = other if per_b < per_a else base
        finding["text"] = head + (
            f"params differ by {_n(abs(diff))} = BatchNorm statistics counted differently over "
            f"{_count(a['layers'], 'BatchNorm layer')} (sum C = {_n(a['channels'])}): {base['column']} counts "
            f"{per_a:g} values per channel as params, {other['column']} {per_b:g}"
            + (f" (the moving statistics are buffers in {fewer['column']})" if fewer["buffers"] else "")
            + tail
        )
        return finding
    if tail and unshared[id(other)] == unshared[id(base)]:
        finding.update(explained=True, cause="shared values")
        finding["text"] = head + f"params differ by {_n(abs(diff))} = shared values counted once{tail}"
        return finding
    finding["text"] = (
        head + f"unexplained difference of {_n(abs(diff))}" + _op_differences(base, other, "params_by_op") + tail
    )
    if with_bn is not None:
        layers = _count(with_bn["batchnorm"]["layers"], "BatchNorm layer")
        finding["text"] += f" (BN folding of {layers} would explain {_n(finding['expected'])})"
    return finding


def flops_finding(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    diff = other["flops"] - base["flops"]
    finding: dict[str, Any] = {
        "format": other["column"],
        "baseline": base["column"],
        "difference": diff,
        "explained": diff == 0,
    }
    if diff == 0:
        finding["text"] = f"{other['column']}: FLOPs equal to {base['column']} ({_n(base['flops'])})"
        return finding
    head = (
        f"{other['column']} has {_n(abs(diff))} {'more' if diff > 0 else 'fewer'} FLOPs than {base['column']} "
        f"({_n(other['flops'])} vs {_n(base['flops'])}): "
    )
    a, b = base["batchnorm"], other["batchnorm"]
    with_bn, without_bn = (
        (base, other)
        if a["layers"] and not b["layers"]
        else (other, base)
        if b["layers"] and not a["layers"]
        else (None, None)
    )
    if with_bn is not None and without_bn is not None:
        bn = with_bn["batchnorm"]
        expected = bn["flops"] - bn["bias_add_flops"]
        if with_bn["flops"] - without_bn["flops"] == expected and not bn["not_after_conv"]:
            finding["explained"] = True
            finding["text"] = head + (
                f"FLOPs differ by {_n(abs(diff))} = BN folding: the "
                f"{_count(bn['layers'], 'BatchNorm layer')} ({_n(bn['flops'])} FLOPs) are "
                f"gone, the convs that gained a bias add {_n(bn['bias_add_flops'])}"
            )
            return finding
    finding["text"] = head + f"unexplained difference of {_n(abs(diff))}" + _op_differences(base, other, "flops_by_op")
    return finding


def quant_finding(fmt: dict[str, Any]) -> dict[str, Any] | None:
    """Weights stored in less than float32: the dtype, the byte ratio, the conversion layers."""
    storage = fmt.get("storage_dtype")
    if not fmt.get("quantised") and storage in (None, "float32", "float64"):
        return None
    dtype = (
        storage if storage not in ("float32", "float64") else next(d for d in fmt["weight_dtypes"] if d in INT_DTYPES)
    )
    ratio = fmt["weight_bytes_ratio"]
    others = [d for d in fmt["weight_dtypes"] if d != dtype]
    text = (
        f"{fmt['column']}: weights stored as {dtype}: weight bytes x{ratio:.2f} smaller than float32 "
        f"({_n(fmt['weight_bytes'])} B vs {_n(fmt['float32_weight_bytes'])} B for the same "
        f"{_n(sum(fmt['weight_elements'].values()))} values as float32"
        + (f"; also {', '.join(others)}" if others else "")
        + ")"
    )
    text += (
        f"; {fmt['quantize_layers']} QUANTIZE and {_count(fmt['dequantize_layers'], 'DEQUANTIZE layer')} "
        "(type conversions, 0 FLOPs)"
    )
    if fmt.get("input_dtypes") or fmt.get("activation_dtype"):
        text += f"; input {', '.join(fmt['input_dtypes']) or '?'}, activations mostly {fmt['activation_dtype']}"
    return {
        "format": fmt["column"],
        "dtype": dtype,
        "ratio": ratio,
        "weight_bytes": fmt["weight_bytes"],
        "float32_weight_bytes": fmt["float32_weight_bytes"],
        "quantize_layers": fmt["quantize_layers"],
        "dequantize_layers": fmt["dequantize_layers"],
        "text": text,
    }


def _shape(shape: list[int] | None) -> str:
    return "–" if shape is None else "x".join(str(d) for d in shape)


def align_layers(formats: list[dict[str, Any]], results: dict[str, Any]) -> dict[str, Any]:
    """The layers with MACs (conv, dense...) of every format, side by side in execution order."""
    cols = [f["column"] for f in formats]
    per = {c: [r for r in results[c].layers if r["macs"] > 0 and r["counted"]] for c in cols}
    count = {c: len(per[c]) for c in cols}
    rows = []
    first = None
    mac_diffs = []
    for i in range(max(count.values(), default=0)):
        cells = {c: per[c][i] if i < count[c] else None for c in cols}
        present = [r for r in cells.values() if r is not None]
        shapes = {c: (r["output_shape"] if r else None) for c, r in cells.items()}
        macs = {c: (r["macs"] if r else None) for c, r in cells.items()}
        agree = len(present) == len(cols) and all(s == shapes[cols[0]] for s in shapes.values())
        macs_agree = len(present) == len(cols) and len(set(macs.values())) == 1
        kinds = sorted({r["op"] for r in present})
        row = {
            "index": i + 1,
            "kind": "/".join(kinds),
            "names": {c: (r["name"] if r else None) for c, r in cells.items()},
            "shapes": shapes,
            "shape_text": {c: _shape(s) for c, s in shapes.items()},
            "macs": macs,
            "agree": agree,
            "macs_agree": macs_agree,
        }
        rows.append(row)
        if not agree and first is None:
            missing = [c for c in cols if cells[c] is None]
            where = f"#{i + 1} ({row['kind']} {next(r['name'] for r in present)})"
            if missing:
                first = (
                    f"{where}: {', '.join(missing)} has no layer here ("
                    + ", ".join(f"{c}: {count[c]}" for c in cols)
                    + " conv/dense layers)"
                )
            else:
                first = f"{where}: " + ", ".join(f"{c} {row['shape_text'][c]}" for c in cols)
        if not macs_agree:
            mac_diffs.append(row)
    if not cols:
        text = "no formats to align"
    elif first is None:
        text = (
            f"per-layer shapes: all {count[cols[0]]} conv/dense layers agree in N, C, H, W order across "
            f"{len(cols)} formats"
        )
    else:
        text = f"per-layer shapes: first disagreement at {first}"
    return {
        "formats": cols,
        "count": count,
        "rows": rows,
        "agree": first is None,
        "first_disagreement": first,
        "text": text,
        "_mac_diffs": mac_diffs,
    }


def macs_findings(formats: list[dict[str, Any]], layers: dict[str, Any]) -> dict[str, Any]:
    values = {f["column"]: f["macs"] for f in formats}
    texts = []
    equal = len(set(values.values())) <= 1
    if equal and values:
        texts.append(f"MACs equal across formats: {_n(next(iter(values.values())))}")
    elif values:
        base = formats[0]
        for f in formats[1:]:
            diff = f["macs"] - base["macs"]
            if diff:
                texts.append(
                    f"MACs differ: {f['column']} has {_n(abs(diff))} {'more' if diff > 0 else 'fewer'} than "
                    f"{base['column']} ({_n(f['macs'])} vs {_n(base['macs'])})"
                )
        diffs = layers["_mac_diffs"]
        if diffs:
            shown = []
            for row in diffs[:5]:
                name = next(n for n in row["names"].values() if n)
                shown.append(
                    f"#{row['index']} {name} ("
                    + " vs ".join("–" if row["macs"][c] is None else _n(row["macs"][c]) for c in layers["formats"])
                    + ")"
                )
            texts.append(
                f"layers whose MACs differ ({len(diffs)}; "
                + " vs ".join(layers["formats"])
                + "): "
                + "; ".join(shown)
                + (" ..." if len(diffs) > 5 else "")
            )
    for f in formats:
        if f["coverage_percent"] < 100:
            ops = ", ".join(f"{k} x{v}" for k, v in f["uncounted_ops"].items())
            texts.append(
                f"{f['column']}: MACs leave out uncounted layers ({ops}); coverage {f['coverage_percent']:g} %"
            )
    return {"equal": equal, "values": values, "texts": texts}


# --------------------------------------------------------------------------------------
# latency


def measure_latency(fmt: dict[str, Any], result: Any, max_time: float) -> dict[str, Any]:
    """Median latency (batch 1) on the format's default runtime; a reason instead when it cannot run."""
    from zooprof import runtimes as rt

    framework = fmt["framework"]
    name = rt.DEFAULT_RUNTIME.get(framework) or FALLBACK_RUNTIME.get(framework)
    out: dict[str, Any] = {"runtime": name, "status": "n/a", "median_ms": None, "reason": None}
    if name is None:
        out["reason"] = f"no runtime runs {FRAMEWORKS.get(framework, framework)} models"
    elif name not in rt.RUNTIMES:
        out["reason"] = f"this zooprof has no '{name}' runtime"
    else:
        try:
            from zooprof.reference.resolve import resolve

            rt.check_available(name)
            why = rt.incompatible(name, resolve(fmt["reference"]))
        except (MissingDependencyError, UsageError) as exc:
            why = str(exc)
        if why:
            out["reason"] = why
        else:
            from zooprof.measure.profiling import measure_model

            result.measurements = []
            try:
                measure_model(
                    result, fmt["reference"], [name], [1], max_time=max_time, timeout=max(120.0, 20 * max_time)
                )
                m = result.measurements[0]
            except ZooprofError as exc:
                m = {"status": "failed", "reason": str(exc)}
            if m["status"] == "ok":
                lat = m["timing"]["latency_ms"]
                out.update(
                    status="ok",
                    median_ms=lat["median"],
                    ci_rel_halfwidth=lat.get("ci_rel_halfwidth"),
                    iterations=lat.get("n"),
                    threads=m.get("session", {}).get("threads"),
                )
            else:
                out.update(status="failed", reason=m.get("reason") or m.get("failure") or "failed")
    if out["status"] == "ok":
        out["text"] = f"{out['median_ms']:.3f} ms"
    else:
        out["text"] = f"{out['status']} ({out['reason']})"
    return out


# --------------------------------------------------------------------------------------
# the comparison


SUMMARY_HEADINGS = (
    "Format",
    "File",
    "Params",
    "Trainable",
    "Non-trainable/buffers",
    "MACs",
    "FLOPs",
    "Weight bytes",
    "Weight dtype(s)",
    "Layers",
    "Coverage",
)


def _summary(formats: list[dict[str, Any]], latency: bool) -> dict[str, Any]:
    headings = [*SUMMARY_HEADINGS, *(("Latency (median, batch 1)", "Runtime") if latency else ()), "Status"]
    rows = []
    for f in formats:
        if "params" in f:
            cells = [
                f["column"],
                f["file"],
                _n(f["params"]),
                _n(f["trainable_params"]),
                _n(f["non_trainable_or_buffers"]),
                _n(f["macs"]),
                _n(f["flops"]),
                _n(f["weight_bytes"]),
                ", ".join(f["weight_dtypes"]) or "–",
                str(f["layers"]),
                f"{f['coverage_percent']:g} %",
            ]
        else:
            cells = [f["column"], f["file"], *["–"] * (len(SUMMARY_HEADINGS) - 2)]
        if latency:
            lat = f.get("latency")
            cells += [lat["text"], lat["runtime"] or "–"] if lat else ["–", "–"]
        cells.append("ok" if f["status"] == "ok" else f"{f['status']}: {f['reason']}")
        rows.append(cells)
    return {"headings": headings, "rows": rows}


def _layer_table(layers: dict[str, Any]) -> dict[str, Any]:
    cols = layers["formats"]
    headings = ["#", "Kind", f"Layer ({cols[0]})" if cols else "Layer", *cols, "MACs", "Agree"]
    rows = []
    for r in layers["rows"]:
        macs = [r["macs"][c] for c in cols]
        mac_text = _n(macs[0]) if r["macs_agree"] else " / ".join("–" if m is None else _n(m) for m in macs)
        rows.append(
            [
                str(r["index"]),
                r["kind"],
                r["names"][cols[0]] or "–",
                *(r["shape_text"][c] for c in cols),
                mac_text,
                "yes" if r["agree"] else "NO",
            ]
        )
    return {"headings": headings, "rows": rows}


def _unique_columns(formats: list[dict[str, Any]]) -> None:
    counts = Counter(f["label"] for f in formats)
    for f in formats:
        f["column"] = f["label"] if counts[f["label"]] == 1 else f"{f['label']} ({f['file']})"


def _order(fmt: dict[str, Any]) -> tuple[Any, ...]:
    frameworks = list(FRAMEWORKS)
    fw = fmt.get("framework")
    status = {"ok": 0, "failed": 1}.get(fmt["status"], 2)
    return (
        status,
        frameworks.index(fw) if fw in frameworks else len(frameworks),
        -BYTES.get(fmt.get("storage_dtype") or "float32", 4),
        fmt["file"],
    )


def compare(
    refs: list[str], latency: bool = False, max_time: float = 5.0, progress: Progress | None = None
) -> dict[str, Any]:
    """Compare one model given in several formats: one folder holding them, or several references."""
    if not refs:
        raise UsageError("no model given", "give a folder with several formats, or several model files")
    root = None
    notes: list[str] = []
    if len(refs) == 1 and Path(refs[0]).expanduser().is_dir():
        root = Path(refs[0]).expanduser()
        entries, notes = discover(root)
        if not entries:
            raise UsageError(
                f"no model found in the folder {root} ({_listing(root)})",
                "expected .h5/.keras, model.json, .tflite or .onnx files (or give several models)",
            )
    else:
        entries = [(r, r) for r in refs]
    comparable = [e for e in entries if not _is_edgetpu(Path(e[0]))]
    if len(comparable) < 2:
        where = f"in the folder {root}" if root is not None else "given"
        found = ", ".join(shown for _, shown in entries) or "none"
        raise UsageError(
            f"fewer than 2 formats {where} ({len(comparable)} comparable: {found})",
            "compare-formats needs the same model in at least 2 formats, e.g. keras_model.h5 and "
            "model_unquant.tflite in one folder, or several model files",
        )
    formats: list[dict[str, Any]] = []
    results: dict[int, Any] = {}
    for ref, shown in entries:
        if progress:
            progress(f"reading {shown}")
        fmt, result = _read(ref, shown)
        if result is not None and fmt["status"] == "ok":
            results[id(fmt)] = result
        formats.append(fmt)
    if root is not None:
        formats.sort(key=_order)
    _unique_columns(formats)
    ok = [f for f in formats if f["status"] == "ok"]
    by_column = {f["column"]: results[id(f)] for f in ok}

    explanations: list[str] = []
    not_comparable = []
    for f in formats:
        if f["status"] == "not comparable":
            text = f"{f['label']}: not comparable ({f['file']}: {f['reason']})"
            not_comparable.append({"format": f["column"], "file": f["file"], "reason": f["reason"], "text": text})
        elif f["status"] == "failed":
            explanations.append(f"{f['column']} ({f['file']}) could not be read: {f['reason']}")

    base = ok[0] if ok else None
    params = [params_finding(base, f) for f in ok[1:]] if base else []
    flops = [flops_finding(base, f) for f in ok[1:]] if base else []
    layers = align_layers(ok, by_column)
    macs = macs_findings(ok, layers)
    quant = [q for q in (quant_finding(f) for f in ok) if q]
    if base and len(ok) >= 2:
        if all(p["difference"] == 0 for p in params):
            explanations.append(f"params equal across formats: {_n(base['params'])}")
        else:
            explanations += [p["text"] for p in params if p["difference"]]
        explanations += macs["texts"]
        explanations += [x["text"] for x in flops if x["difference"]]
        explanations.append(layers["text"])
    elif ok:
        explanations.append(f"only {len(ok)} format could be read: nothing to compare")
    explanations += [q["text"] for q in quant]
    explanations += [n["text"] for n in not_comparable]
    explanations += notes

    if latency:
        for f in formats:
            if f["status"] != "ok":
                continue
            if progress:
                progress(f"timing {f['file']}")
            f["latency"] = measure_latency(f, by_column[f["column"]], max_time)
    mac_diffs = layers.pop("_mac_diffs")
    layers["macs_differ"] = [r["index"] for r in mac_diffs]
    comparison = {
        "kind": "zooprof.compare-formats",
        "version": VERSION,
        "inputs": list(refs),
        "folder": str(root) if root is not None else None,
        "latency": latency,
        "max_time": max_time if latency else None,
        "baseline": base["column"] if base else None,
        "formats": formats,
        "params": {"equal": all(p["difference"] == 0 for p in params), "findings": params},
        "macs": {"equal": macs["equal"], "values": macs["values"], "texts": macs["texts"]},
        "flops": {"equal": all(x["difference"] == 0 for x in flops), "findings": flops},
        "quantisation": quant,
        "layers": layers,
        "not_comparable": not_comparable,
        "notes": notes,
        "explanations": explanations,
    }
    comparison["summary_table"] = _summary(formats, latency)
    comparison["layer_table"] = _layer_table(layers)
    comparison["failed"] = sum(1 for f in formats if f["status"] == "failed")
    return comparison

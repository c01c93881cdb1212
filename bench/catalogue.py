"""The catalogue sweep: every torchvision builder (and, with --keras, every keras.applications
model in four forms) read by zooprof and checked against an independent reference.

torchvision: each builder at the input its weights' metadata was measured at (classification:
the eval crop; segmentation: the resize size; video: a 16-frame clip at the crop size; optical
flow: two 512x512 frames; detectors: the transform's own size, the zooprof default). The
references are torchvision's weight metadata: ``num_params`` (exact) and ``_ops`` (GFLOPs
that are multiply-accumulates, 3 decimals: MACs must agree within 0.1 % or the rounding).

With --flop-counter, every non-detection builder is also checked against a second, independent
reference: FlopCounterMode on a real forward of the model (CPU, random weights, eval mode, the
weights' layout, the same input; math SDPA kernel, MultiheadAttention's fast path off), FLOPs / 2
= MACs, within 0.1 % (bench/flop_reference.py; in a worker process: small models share one, each
large one has its own). A model whose
CPU forward would take over two minutes here (estimated from `_ops`) is counted on the meta
device instead, and its row says so.

keras.applications (--keras): ``keras:NAME``, a ``.keras`` file, a ``.h5`` file and a TFLite
float file of each model (random weights), against ``model.count_params()`` (TFLite: the
file's float constants, which the converter may fold) and zooprof's own ``keras:`` MACs.

    .venv/bin/python bench/catalogue.py [--sample] [--only vit_b_16,swin_t] [--keras] [--flop-counter]
        [--markdown docs/catalogue.md]

Exit status 1 when a model is an internal error or disagrees with its reference.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: one model per family and form: what `make test` checks (tests/zoo/test_catalogue.py)
SAMPLE = [
    "alexnet",
    "resnet18",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "convnext_tiny",
    "regnet_y_400mf",
    "shufflenet_v2_x0_5",
    "squeezenet1_1",
    "inception_v3",
    "vit_b_32",
    "swin_t",
    "swin_v2_t",
    "maxvit_t",
    "quantized_mobilenet_v2",
    "lraspp_mobilenet_v3_large",
    "r3d_18",
    "mvit_v2_s",
    "raft_small",
    "ssdlite320_mobilenet_v3_large",
]
KERAS_SAMPLE = ["MobileNetV3Small", "ConvNeXtTiny"]
#: builder options of the layout torchvision's weights have (what `num_params` and `_ops` describe):
#: the builders switch these on or off when weights are given
WEIGHTS_LAYOUT: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False},  # the aux heads are dropped after loading the weights
    "quantized_googlenet": {"aux_logits": False},
    "vit_h_14": {"image_size": 518},  # the weights are for 518 px
    "fcn_resnet50": {"aux_loss": True},
    "fcn_resnet101": {"aux_loss": True},
    "deeplabv3_resnet50": {"aux_loss": True},
    "deeplabv3_resnet101": {"aux_loss": True},
    "deeplabv3_mobilenet_v3_large": {"aux_loss": True},
}
MACS_REL_TOL = 0.001
OPS_ROUNDING = 0.0005e9  # _ops has three decimals (GMACs)
#: --flop-counter: a CPU forward estimated longer than this (from `_ops`) is counted on meta tensors
FC_FORWARD_LIMIT_S = 120.0
FC_TIMEOUT_S = 900  # one model in the FlopCounter worker process (build + forward)
FC_SHARED_LIMIT_S, FC_SHARED_PARAMS = 10.0, 50_000_000  # larger models run in a process of their own


@dataclass
class Row:
    model: str
    group: str
    input: str = ""
    params: int | None = None
    ref_params: int | None = None
    macs: int | None = None
    ref_macs: float | None = None
    coverage: float | None = None
    seconds: float = 0.0
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    tolerance: float = MACS_REL_TOL  # relative, for MACs
    fc_macs: int | None = None  # FlopCounterMode's MACs (FLOPs / 2) on a real forward (--flop-counter)
    fc_seconds: float = 0.0

    @property
    def macs_diff(self) -> float | None:
        if self.macs is None or not self.ref_macs:
            return None
        return (self.macs - self.ref_macs) / self.ref_macs

    @property
    def fc_diff(self) -> float | None:
        if self.macs is None or not self.fc_macs:
            return None
        return (self.macs - self.fc_macs) / self.fc_macs

    def check(self) -> None:
        """Set `status` from the figures: ok, or what disagrees."""
        if self.status != "ok":
            return
        wrong = []
        if self.ref_params is not None and self.params != self.ref_params:
            wrong.append("params n/a" if self.params is None else f"params {self.params - self.ref_params:+,}")
        if self.ref_macs is not None and self.macs is not None:
            tolerance = max(self.tolerance * self.ref_macs, OPS_ROUNDING if self.group != "keras" else 0.0)
            if abs(self.macs - self.ref_macs) > tolerance:
                wrong.append(f"MACs {100 * (self.macs_diff or 0):+.2f} %")
        if (
            self.fc_macs is not None
            and self.macs is not None
            and abs(self.macs - self.fc_macs) > MACS_REL_TOL * self.fc_macs
        ):
            off = f"{100 * self.fc_diff:+.2f} %" if self.fc_diff is not None else f"{self.macs:,} MACs against 0"
            wrong.append(f"FlopCounter {off}")
        if wrong:
            self.status = "differs: " + ", ".join(wrong)


# --------------------------------------------------------------------------------------
# torchvision


def group_of(name: str) -> str:
    from torchvision.models import get_model_builder

    parts = get_model_builder(name).__module__.split(".")
    return (
        parts[2]
        if len(parts) > 3 and parts[2] in ("detection", "segmentation", "video", "optical_flow", "quantization")
        else "classification"
    )


def input_shape(name: str, group: str) -> str | None:
    """The input torchvision's metadata was measured at (None: the model's own default)."""
    from torchvision.models import get_model_weights

    keywords = getattr(get_model_weights(name).DEFAULT.transforms, "keywords", {}) or {}
    if group in ("classification", "quantization"):
        crop = WEIGHTS_LAYOUT.get(name, {}).get("image_size") or keywords.get("crop_size", 224)
        crop = crop[0] if isinstance(crop, (tuple, list)) else crop
        return f"1x3x{crop}x{crop}"
    if group == "segmentation":
        size = keywords.get("resize_size", 520)
        return f"1x3x{size}x{size}"
    if group == "video":
        h, w = keywords.get("crop_size", (112, 112))
        return f"1x3x16x{h}x{w}"
    if group == "optical_flow":
        return "1x3x512x512,1x3x512x512"
    return None  # detectors: the transform's own size


def reference_text(name: str, group: str) -> str:
    """The zooprof reference of a builder in its weights' layout."""
    if group == "detection":
        # the COCO checkpoints of the v1 models freeze their batch norms (FrozenBatchNorm2d: buffers, not params)
        frozen = not name.endswith("_v2") and not name.startswith("ssd")
        return f"zooprof.frontends.torch.detection:torchvision_detector?model={name}" + (
            "&coco_layout=true" if frozen else ""
        )
    options = "&".join(f"{k}={v}" for k, v in WEIGHTS_LAYOUT.get(name, {}).items())
    return f"torchvision:{name}" + (f"?{options}" if options else "")


def detector_convention(name: str, row: Row, totals: dict[str, Any]) -> None:
    """torchvision's `_ops` of a detector counts one run of its model (docs/detection.md): the fixed
    cost; for a two-stage model plus the RoI box head at the RPN's test-time proposal limit
    (`post_nms_top_n`, 1,000); for Mask R-CNN and Keypoint R-CNN plus the mask or keypoint head at the
    detections of torchvision's own measuring run, a whole number from 0 to `detections_per_img`
    (maskrcnn_resnet50_fpn 0, maskrcnn_resnet50_fpn_v2 100, keypointrcnn_resnet50_fpn 1). Accept the
    fixed cost, fixed + box head x limit, or that + head x n for the one n that gives `_ops` to its
    three decimals; say which."""
    import torchvision

    if (
        row.ref_macs is None
        or row.macs is None
        or abs(row.macs - row.ref_macs) <= max(MACS_REL_TOL * row.ref_macs, OPS_ROUNDING)
    ):
        row.notes.append("fixed cost")
        return
    model = torchvision.models.get_model(name, weights=None, weights_backbone=None)
    rpn = getattr(model, "rpn", None)
    limit = rpn._post_nms_top_n["testing"] if rpn is not None else None
    parts = (totals.get("data_dependent") or {}).get("parts", [])
    boxes = [p for p in parts if p.get("unit") == "proposal"]
    heads = [p for p in parts if p.get("unit") == "detection"]
    if not (limit and boxes and all(p.get("counted") and p.get("macs_per_unit") for p in boxes)):
        if boxes:
            row.notes.append("per-proposal heads not costed (docs/detection.md)")
        return
    row.macs += sum(p["macs_per_unit"] for p in boxes) * limit
    note = f"fixed cost + RoI box head x {limit} proposals"
    if not heads or abs(row.macs - row.ref_macs) <= OPS_ROUNDING:
        measured = f" + {', '.join(p['name'] for p in heads)} x 0 detections (torchvision's measuring run)"
        row.notes.append(note + (measured if heads else ""))
        return
    if len(heads) != 1 or not heads[0].get("counted") or not heads[0].get("macs_per_unit"):
        row.notes.append(note + "; per-detection head not costed in this run (no detection, docs/detection.md)")
        return
    head, most = heads[0], model.roi_heads.detections_per_img
    n = round((row.ref_macs - row.macs) / head["macs_per_unit"])
    if 0 < n <= most and abs(row.macs + n * head["macs_per_unit"] - row.ref_macs) <= OPS_ROUNDING:
        row.macs += n * head["macs_per_unit"]
        row.notes.append(note + f" + {head['name']} x {n} detections (torchvision's measuring run)")
    else:
        row.notes.append(note + f"; no whole number of detections (0-{most}) of {head['name']} gives _ops")


def flop_counter(row: Row) -> None:
    """Add FlopCounterMode's MACs of a torchvision model (same input, weights' layout) to its row, counted
    in a worker process (bench/flop_reference.py): small models share one, a large one has its own (its
    memory is returned), a crash costs one row."""
    from flop_reference import CPU_MACS_PER_S, isolated

    if row.group == "detection":
        row.notes.append("FlopCounter not run: a detector's heads depend on its detections (docs/detection.md)")
        return
    estimate = (row.ref_macs or row.macs or 0) / CPU_MACS_PER_S
    device = "cpu" if estimate <= FC_FORWARD_LIMIT_S else "meta"
    started = time.perf_counter()
    try:
        layout = WEIGHTS_LAYOUT.get(row.model, {})
        # a large model (by params or forward time) gets a fresh process, ended after it: memory returned
        fresh = device == "meta" or estimate > FC_SHARED_LIMIT_S or (row.params or 0) > FC_SHARED_PARAMS
        counted = isolated(row.model, row.input, layout, device, FC_TIMEOUT_S, fresh)
    except RuntimeError as exc:
        row.status = f"reference failed: FlopCounter: {exc}"
        return
    finally:
        row.fc_seconds = time.perf_counter() - started
    row.fc_macs = int(counted["macs"])
    if device == "meta":
        row.notes.append(f"FlopCounter on meta tensors: a CPU forward would take ~{estimate:.0f} s here")


def torchvision_row(name: str, with_flop_counter: bool = False) -> Row:
    from torchvision.models import get_model_weights

    import zooprof
    from zooprof.errors import ZooprofError

    group = group_of(name)
    meta = get_model_weights(name).DEFAULT.meta
    row = Row(name, group, input_shape(name, group) or "native")
    row.ref_params = meta.get("num_params")
    row.ref_macs = float(meta["_ops"]) * 1e9 if meta.get("_ops") is not None else None
    started = time.perf_counter()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            result = zooprof.inspect(reference_text(name, group), input_shape=input_shape(name, group), use_cache=False)
    except ZooprofError as exc:
        row.status = f"refused: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - the sweep reports internal errors and goes on
        row.status = f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    else:
        t = result.totals
        row.params, row.macs = t["params"], t["macs"]
        row.coverage = t["coverage"]["percent"]
        if row.input == "native":
            row.input = "x".join(map(str, result.model.get("input_shape") or [])) or "native"
        if group == "detection":
            detector_convention(name, row, t)
        if t.get("params_not_in_trace"):
            row.notes.append("params not in trace")
    row.seconds = time.perf_counter() - started
    if with_flop_counter and row.macs is not None:
        flop_counter(row)
    row.check()
    return row


# --------------------------------------------------------------------------------------
# keras.applications

KERAS_MACS_TOL = 0.005  # against TensorFlow's profiler (conv and matmul float ops / 2)


KERAS_STAGE_TIMEOUT_S = 1800


def keras_files(name: str, tmp: Path) -> dict[str, str]:
    """What zooprof reads of a model, by form (the TFLite file comes from the 'tflite' stage)."""
    return {"keras:": f"keras:{name}", ".keras": str(tmp / f"{name}.keras"), ".h5": str(tmp / f"{name}.h5")}


def keras_read(ref: str) -> dict[str, Any]:
    """zooprof's figures of one form, or 'status': why none."""
    import zooprof
    from zooprof.errors import ZooprofError

    out: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        result = zooprof.inspect(ref, use_cache=False)
        out["params"], out["macs"] = result.totals["params"], result.totals["macs"]
        out["coverage"] = result.totals["coverage"]["percent"]
        out["input"] = "x".join(map(str, result.model.get("input_shape") or []))
    except ZooprofError as exc:
        out["status"] = f"refused: {exc.message}"
    except Exception as exc:  # noqa: BLE001
        out["status"] = f"internal error: {type(exc).__name__}: {exc}"
    return {**out, "seconds": time.perf_counter() - started}


def keras_stage(stage: str, name: str, tmp: Path, reads: list[str]) -> dict[str, Any]:
    """One stage of a keras.applications model's checks, in a process of its own (keras_isolated):
    'reference' builds keras:NAME (random weights), takes `count_params()` and TensorFlow's
    profiler MACs and saves the .keras and .h5 files; 'tflite' converts the .keras file to TFLite
    float; 'read' does nothing more. Then zooprof reads `reads` (keras_read). A JSON-able dict;
    'error': what failed."""
    files = keras_files(name, tmp)
    out: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if stage == "reference":
                from tf_reference import tf_profiler_macs

                from zooprof.frontends.keras.references import build_model

                model = build_model(files["keras:"], {}, None)[0]
                out["params"] = int(model.count_params())
                out["macs"] = tf_profiler_macs(model, (1, *model.input_shape[1:]))
                model.save(files[".keras"])
                model.save(files[".h5"])  # Keras 3 writes the legacy HDF5 format for .h5
            elif stage == "tflite":
                from zooprof.measure.convert import keras_to_tflite

                out["tflite"] = str(keras_to_tflite({"model": files[".keras"]})[0])
    except Exception as exc:  # noqa: BLE001
        return {"error": f"build failed: {type(exc).__name__}: {exc}"}
    out["seconds"] = time.perf_counter() - started
    out["reads"] = [keras_read(ref) for ref in reads]
    return out


def _keras_child(stage: str, name: str, tmp: Path, *reads: str) -> dict[str, Any]:
    """`keras_stage` in a fresh process: its dict, or 'error' from the exit status and stderr."""
    proc = subprocess.run(
        [sys.executable, __file__, "--keras-stage", stage, name, str(tmp), *reads],
        capture_output=True,
        text=True,
        timeout=KERAS_STAGE_TIMEOUT_S,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        why = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return {"error": f"internal error: {why}"}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def keras_isolated(name: str, tmp: Path) -> list[Row]:
    """keras:NAME, .keras, .h5 and TFLite float forms of one keras.applications model, in three
    fresh processes (keras_stage): the references, the saved files and the keras: read; the TFLite
    conversion; the file forms' reads. TensorFlow keeps what every model built, so a sweep of 40
    models in one process runs out of memory, and so did ConvNeXtXLarge (350 M params) in one
    process on a 24 GiB machine (its TFLite conversion alone takes 14 GiB); a crash costs one model,
    not the sweep."""
    files = keras_files(name, tmp)
    reference = _keras_child("reference", name, tmp, files["keras:"])
    tflite = _keras_child("tflite", name, tmp) if "error" not in reference else {}
    for stage in (reference, tflite):
        if "error" in stage:
            return [Row(name, "keras", status=stage["error"])]
    files["TFLite"] = tflite["tflite"]
    read = _keras_child("read", name, tmp, files[".keras"], files[".h5"], files["TFLite"])
    reads = reference["reads"] + read.get("reads", [{"status": read.get("error")}] * 3)
    build_s = reference["seconds"] + tflite["seconds"]
    rows = []
    for form, got in zip(files, reads, strict=True):
        # TFLite: the converter folds batch norms into the convs, so its params are the file's own
        # constants (compare-formats explains the difference); its MACs are checked against keras:
        row = Row(
            name,
            "keras",
            ref_params=None if form == "TFLite" else reference["params"],
            ref_macs=reference["macs"],
            tolerance=KERAS_MACS_TOL,
        )
        row.notes.append(f"form {form}")
        row.status = got.get("status", "ok")
        row.params, row.macs, row.coverage = got.get("params"), got.get("macs"), got.get("coverage")
        row.input = got.get("input", "")
        row.seconds = got.get("seconds", 0.0) + (build_s if form == "keras:" else 0.0)
        rows.append(row)
    for row in rows:
        row.check()
    return rows


# --------------------------------------------------------------------------------------
# output


def _n(value: float | int | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def to_markdown(rows: list[Row], seconds: float) -> str:
    import importlib.metadata as md

    versions = ", ".join(
        f"{d} {md.version(d)}" for d in ("torch", "torchvision", "keras", "tensorflow") if _installed(d)
    )
    bad = [r for r in rows if r.status != "ok"]
    fc = any(r.fc_macs is not None for r in rows)
    lines = [
        "# Catalogue: every model read and checked",
        "",
        "Made by `make catalogue` (bench/catalogue.py); the method is in its docstring. References:",
        "torchvision's weight metadata (`num_params`, `_ops` in GMACs, three decimals)"
        + (", FlopCounterMode on a real forward (math attention; FLOPs / 2)" if fc else "")
        + " and Keras",
        "`count_params()`. MACs agree within 0.1 % or the metadata's rounding; params exactly.",
        "",
        f"Run on {platform.machine()}, Python {platform.python_version()}, {versions}: "
        f"{len(rows)} reads in {seconds:.0f} s; {len(rows) - len(bad)} agree, {len(bad)} do not.",
        "",
        "| model | group | input | params | reference | MACs | reference | diff | "
        + ("FlopCounter | diff | " if fc else "")
        + "coverage | s | status |",
        "|---|---|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if fc else "") + "---:|---:|---|",
    ]
    for r in rows:
        diff = "" if r.macs_diff is None else f"{100 * r.macs_diff:+.3f} %"
        fc_diff = "" if r.fc_macs is None or r.macs is None else f"{r.macs - r.fc_macs:+,}"
        cov = "" if r.coverage is None else f"{r.coverage:.1f} %"
        status = r.status + (f" ({'; '.join(r.notes)})" if r.notes else "")
        lines.append(
            f"| {r.model} | {r.group} | {r.input} | {_n(r.params)} | {_n(r.ref_params)} | {_n(r.macs)} | "
            f"{_n(r.ref_macs)} | {diff} | "
            + (f"{_n(r.fc_macs)} | {fc_diff} | " if fc else "")
            + f"{cov} | {r.seconds:.1f} | {status.replace('|', '/')} |"
        )
    return "\n".join(lines) + "\n"


def _installed(dist: str) -> bool:
    import importlib.metadata as md

    try:
        md.version(dist)
    except md.PackageNotFoundError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="only the representative sample (make test's)")
    parser.add_argument("--only", help="comma-separated torchvision names ('' for none)")
    parser.add_argument("--keras-models", help="comma-separated keras.applications names (with --keras)")
    parser.add_argument("--keras", action="store_true", help="also keras.applications in four forms")
    parser.add_argument("--markdown", help="write the table to this file (e.g. docs/catalogue.md)")
    parser.add_argument(
        "--flop-counter", action="store_true", help="also FlopCounterMode on a real forward (not for detectors)"
    )
    parser.add_argument("--keras-stage", nargs="+", metavar="STAGE NAME FOLDER [READ ...]", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.keras_stage:  # one stage of a keras.applications model, in a process of its own (keras_isolated)
        stage, name, folder, *reads = args.keras_stage
        print(json.dumps(keras_stage(stage, name, Path(folder), reads)))
        return 0
    from torchvision.models import list_models

    if args.only is not None:
        names = [n for n in args.only.split(",") if n]
    else:
        names = SAMPLE if args.sample else list_models()
    started = time.perf_counter()
    rows: list[Row] = []
    for name in names:
        row = torchvision_row(name, args.flop_counter)
        rows.append(row)
        fc = f" + FlopCounter {row.fc_seconds:5.1f} s" if row.fc_seconds else ""
        print(f"{name:36s} {row.seconds:6.1f} s{fc}  {row.status}", flush=True)
    if args.keras:
        import keras

        apps = KERAS_SAMPLE if args.sample else sorted(n for n in dir(keras.applications) if n[:1].isupper())
        if args.keras_models:
            apps = args.keras_models.split(",")
        with tempfile.TemporaryDirectory(prefix="zooprof-catalogue-") as tmp:
            for name in apps:
                for row in keras_isolated(name, Path(tmp)):
                    rows.append(row)
                    label = f"{name} {row.notes[0] if row.notes else row.group}"
                    print(f"{label:36s} {row.seconds:6.1f} s  {row.status}", flush=True)
    total = time.perf_counter() - started
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(rows, total), encoding="utf-8")
        print(f"wrote {args.markdown}", file=sys.stderr)
    bad = [r for r in rows if r.status != "ok"]
    print(f"{len(rows)} reads in {total:.0f} s; {len(bad)} not ok", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

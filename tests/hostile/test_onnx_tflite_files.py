"""Hostile ONNX and TFLite files (issue 16), each run through `zooprof inspect` by the harness:
graph and attribute mutations, huge dims and constants, external data out of range, cycles,
truncations and seeded byte flips of a small ONNX model and of the real Teachable Machine
.tflite files, special files (sparse multi-GiB, /dev/zero, fifo, a folder), payload names in
Markdown and CSV reports, and names that are not UTF-8 (the result must still be JSON).
Files are generated here, deterministically, in tmp folders.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.hostile import onnx_tflite_builders as b
from tests.hostile.harness import Case, check

pytestmark = pytest.mark.slow

TM = Path("/work/shared/fixtures/teachable-machine/tflite-2class")
TFLITE_FILES = {
    "unquant": TM / "converted_tflite" / "model_unquant.tflite",
    "quant": TM / "converted_tflite_quantized" / "model.tflite",
    "edgetpu": TM / "converted_edgetpu" / "model_edgetpu.tflite",
}
HTML = "<img src=x onerror=alert(1)>"
FORMULA = "=cmd|' /C calc'!A0"


@dataclass
class Spec:
    name: str
    make: Callable[[Path], Path]  # folder -> the model path (written there)
    expect: tuple[int, ...] = (0, 2)
    extra: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    seconds: float | None = None  # a wall-time bound of its own (the harness allows 60 s)


def _onnx(model: Any, name: str = "model.onnx") -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(b.onnx_bytes(model() if callable(model) else model))
        return path

    return make


def _raw(data: Callable[[], bytes], name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data())
        return path

    return make


def _external(offset: int, length: int) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        model, data = b.onnx_external(offset, length)
        (folder / "weights.bin").write_bytes(data)
        path = folder / "model.onnx"
        path.write_bytes(b.onnx_bytes(model))
        return path

    return make


def _sparse(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        with open(path, "wb") as f:
            f.truncate(5 * 2**30)  # sparse: no disk used
        return path

    return make


def _special(kind: str, name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "zero":
            path.symlink_to("/dev/zero")
        else:
            path.mkdir()
        return path

    return make


def _tflite_copy(src: Path, change: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "model.tflite"
        shutil.copyfile(src, path)  # the shared fixture folder is never touched
        path.write_bytes(change(path.read_bytes()))
        return path

    return make


def _non_utf8_model() -> bytes:
    """A valid model whose node name and doc string are not UTF-8 (what a byte flip in a name makes)."""
    model = b.onnx_model(names={"conv": "convX1"})
    model.doc_string = "docXYZ"
    return b.onnx_bytes(model).replace(b"convX1", b"conv\xff1").replace(b"docXYZ", b"d\xfe\xffocZ")


def _specs() -> list[Any]:
    base = b.onnx_model
    specs = [
        Spec("onnx-valid", _onnx(base), (0,)),
        Spec("onnx-dims-disagree-with-data", _onnx(lambda: base(weight_raw=bytes(864))), (2,)),
        Spec("onnx-dims-without-data", _onnx(lambda: base(weight_dims=[10**9, 10**9])), (2,)),
        Spec("onnx-negative-dims", _onnx(lambda: base(weight_dims=[-16, 3, 3, 3])), (2,)),
        Spec("onnx-kernel-string", _onnx(lambda: b.set_attr(base(), "conv1", "kernel_shape", "3x3")), (2,)),
        Spec("onnx-stride-0", _onnx(lambda: base({"strides": [0, 0]})), (2,)),
        Spec("onnx-pads-minus-100", _onnx(lambda: base({"pads": [-100] * 4})), (2,)),
        Spec("onnx-group-0", _onnx(lambda: base({"group": 0})), (2,)),
        Spec("onnx-group-impossible", _onnx(lambda: base({"group": 3})), (2,)),
        Spec("onnx-dilation-0", _onnx(lambda: base({"dilations": [0, 0]})), (2,)),
        Spec("onnx-flatten-axis-99", _onnx(lambda: b.set_attr(base(), "flatten", "axis", 99)), (2,)),
        Spec("onnx-cycle", _onnx(b.onnx_cycle), (2,)),
        Spec("onnx-self-loop", _onnx(b.onnx_self_loop), (2,)),
        Spec("onnx-reverse-chain-20000", _onnx(b.onnx_reverse_chain), (0,), ("-o", "out.json"), seconds=30),
        Spec("onnx-expand-33000x33000", _onnx(lambda: b.onnx_huge_constant("Expand"))),
        Spec("onnx-constantofshape-33000x33000", _onnx(lambda: b.onnx_huge_constant("ConstantOfShape"))),
        Spec("onnx-range-6e8", _onnx(lambda: b.onnx_huge_constant("Range"))),
        Spec("onnx-external-length-5gib", _external(0, 5 * 2**30), (2,)),
        Spec("onnx-external-offset-past-end", _external(4096, 1728), (2,)),
        Spec("onnx-external-valid", _external(0, 1728), (0,)),
        Spec("onnx-sparse-5gib", _sparse("model.onnx"), (2,)),
        Spec("onnx-dev-zero", _special("zero", "model.onnx"), (2,)),
        Spec("onnx-fifo", _special("fifo", "model.onnx"), (2,)),
        Spec("onnx-non-utf8-names", _raw(_non_utf8_model, "model.onnx"), (0,), ("-o", "out.json")),
    ]
    data = b.onnx_bytes(base())
    for cut in (1, 16, len(data) // 4, len(data) // 2, len(data) - 7):
        specs.append(Spec(f"onnx-truncated-{cut}", _raw(lambda cut=cut: data[:cut], "model.onnx")))
    for seed in range(10):
        specs.append(Spec(f"onnx-flip-{seed}", _raw(lambda seed=seed: b.flip_bytes(data, seed), "model.onnx")))
    specs.append(Spec("tflite-valid", _raw(b.tflite_model, "model.tflite"), (0,)))
    for name, mutate in b.TFLITE_MUTATIONS.items():
        specs.append(Spec(name, _raw(lambda mutate=mutate: b.tflite_model(mutate), "model.tflite"), (2,)))
    for kind, src in TFLITE_FILES.items():
        size = src.stat().st_size
        for cut in (7, size // 3, size - 5):
            specs.append(Spec(f"tflite-{kind}-truncated-{cut}", _tflite_copy(src, lambda d, cut=cut: d[:cut])))
        for seed in range(4):
            flip = lambda d, seed=seed: b.flip_bytes(d[:4096], seed, 4) + d[4096:]  # noqa: E731 (the header and tables)
            specs.append(Spec(f"tflite-{kind}-flip-head-{seed}", _tflite_copy(src, flip)))
            specs.append(Spec(f"tflite-{kind}-flip-{seed}", _tflite_copy(src, lambda d, s=seed: b.flip_bytes(d, s, 8))))
    specs += [
        Spec("tflite-sparse-5gib", _sparse("model.tflite"), (2,)),
        Spec("tflite-folder", _special("dir", "model.tflite"), (2,)),
        Spec("tflite-fifo", _special("fifo", "model.tflite"), (2,)),
    ]
    payload = {"conv": HTML, "relu": FORMULA}
    params: list[Any] = [pytest.param(s, id=s.name) for s in specs]
    for ext in ("md", "csv"):
        spec = Spec(f"onnx-payload-names-{ext}", _onnx(lambda: base(names=payload)), (0,), ("-o", f"out.{ext}"))
        spec.forbid = (HTML,) if ext == "md" else (f",{FORMULA}", f'"{FORMULA}', f"\n{FORMULA}")
        params.append(pytest.param(spec, id=spec.name))
    return params


@pytest.mark.parametrize("spec", _specs())
def test_hostile_onnx_tflite(spec: Spec, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp(spec.name)
    model = spec.make(_model_folder(folder))
    case = Case(spec.name, model, expect=spec.expect, extra=spec.extra, forbid_in_output=spec.forbid)
    start = time.monotonic()
    check(case, folder / "run")
    if spec.seconds is not None:
        assert time.monotonic() - start < spec.seconds, f"{spec.name}: took {time.monotonic() - start:.1f} s"
    out = folder / "run" / "out.json"
    if out.exists():
        json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"{spec.name}: {c} in the JSON"))


def _model_folder(folder: Path) -> Path:
    path = folder / "model"
    path.mkdir()
    return path

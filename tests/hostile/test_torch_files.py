"""Hostile PyTorch files (issue 16): torch.export archives that would unpickle or run code, TorchScript
whose forward never ends or allocates 4.5 GB, truncations and byte flips of real files, zip members
with traversal paths, a plain pickle, special files. Each is run through `zooprof inspect` by the
hostile harness (tests/hostile/harness.py), which asserts exit 0/2, one line, no traceback, no
PWNED marker, nothing written next to the model, under its time and memory limits.

Files are generated here (tests/frontends/torch_file_fixtures.py builds them), deterministically.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.frontends import torch_file_fixtures as fx
from tests.hostile.harness import PWNED, Case, check, run_case

pytestmark = pytest.mark.slow

SHAPE = ("--input-shape", fx.INPUT_TEXT)
TRACE_TIMEOUT_S = 3  # ZOOPROF_TRACE_TIMEOUT for the endless-loop case (the case's own limit is 60 s)
TRUSTED_MARKER = "TRUSTED_RAN"  # written by a payload the user allowed with --trust (not PWNED)


def _refused(*words: str) -> Callable[[str], None]:
    def expect(err: str) -> None:
        for word in words:
            assert word in err, f"{word!r} not in {err!r}"

    return expect


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("real")
    return {"ts": fx.save_torchscript(base / "tiny.pt"), "pt2": fx.save_export(base / "tiny.pt2")}


def _sample_inputs_pickle(real: dict[str, Path], folder: Path) -> Path:
    payload = fx.marker_pickle(folder / PWNED)
    return fx.rewrite_zip(
        real["pt2"],
        folder / "model.pt2",
        lambda name, data: payload if name.endswith("data/sample_inputs/model.pt") else data,
    )


def _pickled_weight(real: dict[str, Path], folder: Path) -> Path:
    payload = fx.marker_pickle(folder / PWNED)

    def change(name: str, data: bytes) -> bytes:
        if name.endswith("model_weights_config.json"):
            doc = json.loads(data)
            doc["config"]["conv.weight"]["use_pickle"] = True
            return json.dumps(doc).encode()
        if name.endswith("data/weights/weight_0"):
            return payload
        return data

    return fx.rewrite_zip(real["pt2"], folder / "model.pt2", change)


def _graph_edit(edit: Callable[[dict[str, Any], Path], None]) -> Callable[[dict[str, Path], Path], Path]:
    def build(real: dict[str, Path], folder: Path) -> Path:
        return fx.edit_graph(real["pt2"], folder / "model.pt2", lambda doc: edit(doc, folder / PWNED))

    return build


def _guards(doc: dict[str, Any], marker: Path) -> None:
    doc["guards_code"] = [f"__import__('pathlib').Path({str(marker)!r}).write_text('x') == 0"]


def _target(doc: dict[str, Any], marker: Path) -> None:
    fx.first_node(doc)["target"] = "torch.os.system"


def _expr(doc: dict[str, Any], marker: Path) -> None:
    """A tensor size given as a symbolic expression that is Python code (torch hands it to sympify)."""
    code = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    sizes = next(iter(doc["graph_module"]["graph"]["tensor_values"].values()))["sizes"]
    sizes[0] = {"as_expr": {"expr_str": code, "hint": {"as_int": 4}}}


def _weight_name(real: dict[str, Path], folder: Path) -> Path:
    return fx.rename_weight(real["pt2"], folder / "model.pt2", "conv.weight", fx.code_in_weight_name(folder / PWNED))


def _member(name: str, data: bytes, kind: str = "pt2") -> Callable[[dict[str, Path], Path], Path]:
    def build(real: dict[str, Path], folder: Path) -> Path:
        dst = folder / ("model.pt2" if kind == "pt2" else "model.pt")
        return fx.rewrite_zip(real[kind], dst, lambda n, d: d, add={name: data})

    return build


def _without(suffix: str) -> Callable[[dict[str, Path], Path], Path]:
    def build(real: dict[str, Path], folder: Path) -> Path:
        return fx.rewrite_zip(real["pt2"], folder / "model.pt2", lambda n, d: None if n.endswith(suffix) else d)

    return build


def _scripted(module: type) -> Callable[[dict[str, Path], Path], Path]:
    def build(real: dict[str, Path], folder: Path) -> Path:
        return fx.save_torchscript(folder / "model.pt", module())

    return build


def _plain_pickle(real: dict[str, Path], folder: Path) -> Path:
    path = folder / "model.pt"
    path.write_bytes(fx.marker_pickle(folder / PWNED))
    return path


def _empty(real: dict[str, Path], folder: Path) -> Path:
    (folder / "model.pt").write_bytes(b"")
    return folder / "model.pt"


def _directory(real: dict[str, Path], folder: Path) -> Path:
    (folder / "model.pt").mkdir()
    return folder / "model.pt"


def _fifo(real: dict[str, Path], folder: Path) -> Path:
    os.mkfifo(folder / "model.pt")
    return folder / "model.pt"


def _cut(kind: str, fraction: float) -> Callable[[dict[str, Path], Path], Path]:
    return lambda real, folder: fx.truncated(real[kind], folder / f"model.{'pt2' if kind == 'pt2' else 'pt'}", fraction)


def _flip(kind: str, seed: int) -> Callable[[dict[str, Path], Path], Path]:
    return lambda real, folder: fx.flipped(real[kind], folder / f"model.{'pt2' if kind == 'pt2' else 'pt'}", seed)


#: name -> (builder, extra args, expected exits, what the error must say, environment)
CASES: dict[
    str, tuple[Callable[..., Path], tuple[str, ...], tuple[int, ...], Callable[[str], None] | None, dict[str, str]]
] = {
    "pt2-sample-inputs-pickle": (_sample_inputs_pickle, (), (2,), _refused("needs --trust", "pickled"), {}),
    "pt2-pickled-weight": (_pickled_weight, (), (2,), _refused("needs --trust", "pickle"), {}),
    "pt2-guards-code": (_graph_edit(_guards), (), (0,), None, {}),
    "pt2-target-os-system": (_graph_edit(_target), (), (2,), _refused("needs --trust", "torch.os.system"), {}),
    "pt2-expr-sympify": (_graph_edit(_expr), (), (2,), _refused("needs --trust", "shape expression"), {}),
    "pt2-code-in-weight-name": (_weight_name, (), (2,), _refused("needs --trust", "not a dotted name"), {}),
    "pt2-aotinductor": (
        _member("{root}/data/aotinductor/model/x.so", b"\x7fELF"),
        (),
        (2,),
        _refused("compiled code"),
        {},
    ),
    "pt2-old-layout": (_without("archive_format"), (), (2,), _refused("needs --trust"), {}),
    "pt2-traversal-member": (_member("{root}/../../" + PWNED, b"x"), (), (0, 2), None, {}),
    "ts-traversal-member": (_member("../" + PWNED, b"x", "ts"), SHAPE, (0, 2), None, {}),
    "ts-endless-loop": (
        _scripted(fx.LoopForever),
        ("--input-shape", "1x8"),
        (2,),
        _refused(f"timed out after {TRACE_TIMEOUT_S} s"),
        {"ZOOPROF_TRACE_TIMEOUT": str(TRACE_TIMEOUT_S)},
    ),
    "ts-allocates-4.5GB": (
        _scripted(fx.AllocateHuge),
        ("--input-shape", "1x8"),
        (2,),
        _refused("ran out of memory (limit"),
        {"ZOOPROF_TRACE_MEMORY_GIB": "2"},
    ),
    "pickle-without-trust": (_plain_pickle, SHAPE, (2,), _refused("--trust"), {}),
    "empty-model.pt": (_empty, SHAPE, (2,), None, {}),
    "directory-model.pt": (_directory, SHAPE, (2,), None, {}),
    "fifo-model.pt": (_fifo, SHAPE, (2,), None, {}),
    **{f"ts-truncated-{f}": (_cut("ts", f), SHAPE, (2,), None, {}) for f in (0.05, 0.5, 0.9, 0.99)},
    **{f"pt2-truncated-{f}": (_cut("pt2", f), (), (2,), None, {}) for f in (0.05, 0.5, 0.9, 0.99)},
    **{f"ts-flipped-{seed}": (_flip("ts", seed), SHAPE, (0, 2), None, {}) for seed in range(6)},
    **{f"pt2-flipped-{seed}": (_flip("pt2", seed), (), (0, 2), None, {}) for seed in range(6)},
}


@pytest.fixture
def env_extra(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Environment variables added to the harness's child (the harness gives it a fixed environment)."""
    extra: dict[str, str] = {}
    real_run = subprocess.run

    def run(*args: Any, **kwargs: Any) -> Any:
        if "env" in kwargs and extra:
            kwargs["env"] = {**kwargs["env"], **extra}
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    yield extra


@pytest.mark.parametrize("name", list(CASES))
def test_torch_file(
    name: str, real: dict[str, Path], env_extra: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    build, extra, expect, says, env = CASES[name]
    base = tmp_path_factory.mktemp(name.replace(".", "_"))
    folder = base / "model"
    folder.mkdir()
    model = build(real, folder)
    env_extra.update(env)
    _, _, err = check(Case(name, model, extra=extra, expect=expect), base / "run")
    if says is not None:
        says(err)


def test_trusted_pickle_runs_only_with_trust(real: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    """What --trust means, documented: the same sample-inputs pickle, allowed, runs (a harmless marker
    in the case's own folder); without --trust it is refused and nothing runs."""
    base = tmp_path_factory.mktemp("trusted")
    folder = base / "model"
    folder.mkdir()
    marker = folder / TRUSTED_MARKER
    payload = fx.marker_pickle(marker)
    model = fx.rewrite_zip(
        real["pt2"],
        folder / "model.pt2",
        lambda name, data: payload if name.endswith("data/sample_inputs/model.pt") else data,
    )
    code, _, err, _ = run_case(Case("untrusted", model), base / "untrusted")
    assert code == 2 and "needs --trust" in err and not marker.exists()
    run_case(Case("trusted", model, extra=("--trust",)), base / "trusted")
    assert marker.exists(), "with --trust the file's pickle is loaded as torch.export.load does"

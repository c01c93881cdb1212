"""PyTorch files are data (issue 16): what `frontends/torch/validate.py` lets through to torch, the
guard that keeps torch.export.load from unpickling, the isolated reading of TorchScript and .pt2
files (time and memory limits), and one-line errors for unreadable files."""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.frontends import torch_file_fixtures as fx
from zooprof.errors import ModelShapeError, UsageError
from zooprof.frontends.torch import read as frontend
from zooprof.frontends.torch.dispatch import trace_dispatch
from zooprof.frontends.torch.isolated import limits, no_unsafe_unpickling, run_limited
from zooprof.frontends.torch.validate import check_export_archive, check_expr, check_target, file_kind


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("torch-files")
    return {"ts": fx.save_torchscript(base / "tiny.pt"), "pt2": fx.save_export(base / "tiny.pt2")}


# --- file_kind: regular files only, damaged zips are one line -------------------------------------


def test_file_kind_of_real_files(files: dict[str, Path]) -> None:
    assert file_kind(files["ts"]) == "torchscript"
    assert file_kind(files["pt2"]) == "export"


def test_file_kind_refuses_special_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "dir.pt").mkdir()
    os.mkfifo(tmp_path / "fifo.pt")  # stat only: opening a fifo would block
    (tmp_path / "empty.pt").write_bytes(b"")
    for name, says in (("dir.pt", "not a regular file"), ("fifo.pt", "not a regular file"), ("empty.pt", "empty")):
        with pytest.raises(UsageError, match=says):
            file_kind(tmp_path / name)


def test_file_kind_damaged_zip_is_one_line(files: dict[str, Path], tmp_path: Path) -> None:
    cut = fx.truncated(files["ts"], tmp_path / "cut.pt", 0.5)
    with pytest.raises(UsageError, match="not a valid PyTorch zip archive"):
        file_kind(cut)


def test_file_kind_bad_utf8_member_name_is_a_usage_error(tmp_path: Path) -> None:
    """Flipped bytes in a member name flagged UTF-8 made zipfile raise UnicodeDecodeError."""
    path = tmp_path / "flipped.pt"
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("m/code/\u00e9.py")  # non-ASCII: written with the UTF-8 flag
        z.writestr(info, b"x")
    data = path.read_bytes().replace("\u00e9".encode(), b"\xff\xfe")
    path.write_bytes(data)
    with pytest.raises(UsageError, match="not a valid PyTorch zip archive"):
        file_kind(path)


def test_plain_pickle_needs_trust(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(fx.marker_pickle(tmp_path / "PWNED"))
    assert file_kind(path) == "pickle"
    with pytest.raises(UsageError, match="--trust"):
        frontend.graph_from_file(path, [fx.INPUT], trust=False)
    assert not (tmp_path / "PWNED").exists()


# --- what a .pt2 graph may name ----------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["torch.ops.aten.conv2d.default", "torch.ops.aten.add.Tensor", "_operator.floordiv", "torch.sym_max", "math.trunc"],
)
def test_operator_targets_pass(target: str) -> None:
    assert check_target(target)


@pytest.mark.parametrize(
    "target",
    [
        "torch.os.system",
        "torch.load",
        "builtins.exec",
        "_operator.call",
        "_operator.attrgetter",
        "torch.ops.load_library",
        "torch.ops.aten.from_file.default",
        "torch.ops.aten.__class__",
        "torch.ops.aten.conv2d.default.__init__.__globals__",
        "#custom",
    ],
)
def test_other_targets_are_refused(target: str) -> None:
    assert not check_target(target)


@pytest.mark.parametrize(
    "expr",
    [
        "Symbol('s77', positive=True, integer=True)",
        "Mul(Integer(56), Max(Integer(1), Add(Mul(Integer(2), Symbol('s39', positive=True, integer=True)), Integer(-2))))",
        "FloorDiv(s0, 2) + Mod(s1, 4)*3 - s2**2",
        "Float('1.5', precision=53)",
    ],
)
def test_sympy_printed_expressions_pass(expr: str) -> None:
    assert check_expr(expr) is None


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('x')",
        "exec(bytes((105, 109)))",
        "Max('exec(1)')",
        "Symbol.__class__",
        "s0.__class__",
        "eval(s0)",
        "Symbol('a;b')",
    ],
)
def test_code_in_expressions_is_refused(expr: str) -> None:
    assert check_expr(expr) is not None


# --- the archive check and the unpickling guard --------------------------------------------------


@pytest.mark.slow  # graph_from_file reads in a forked child
def test_real_export_passes_and_loads_safely(files: dict[str, Path]) -> None:
    check_export_archive(files["pt2"])
    graph, shapes = frontend.graph_from_file(files["pt2"], None, trust=False)
    assert shapes == [fx.INPUT] and graph.trace_method == "export+fx"


def _pickled_weight(src: Path, dst: Path) -> Path:
    def change(name: str, data: bytes) -> bytes:
        if name.endswith("model_weights_config.json"):
            doc = json.loads(data)
            doc["config"]["conv.weight"]["use_pickle"] = True
            return json.dumps(doc).encode()
        return data

    return fx.rewrite_zip(src, dst, change)


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("pickled-weight", "stored as a pickle"),
        ("aotinductor", "compiled code"),
        ("old-layout", "before torch 2.8"),
        ("os-system", "torch.os.system"),
        ("expr", "shape expression"),
        ("weight-name", "not a dotted name"),
    ],
)
def test_archive_check_refuses_code(files: dict[str, Path], tmp_path: Path, variant: str, says: str) -> None:
    src, dst = files["pt2"], tmp_path / "model.pt2"
    if variant == "pickled-weight":
        _pickled_weight(src, dst)
    elif variant == "aotinductor":
        fx.rewrite_zip(src, dst, lambda n, d: d, add={"{root}/data/aotinductor/model/x.so": b"\x7fELF"})
    elif variant == "old-layout":
        fx.rewrite_zip(src, dst, lambda n, d: None if n.endswith("archive_format") else d)
    elif variant == "weight-name":
        fx.rename_weight(src, dst, "conv.weight", fx.code_in_weight_name(tmp_path / "PWNED"))
    elif variant == "os-system":
        fx.edit_graph(src, dst, lambda doc: fx.first_node(doc).update(target="torch.os.system"))
    else:

        def edit(doc: dict[str, Any]) -> None:
            sizes = next(iter(doc["graph_module"]["graph"]["tensor_values"].values()))["sizes"]
            sizes[0] = {"as_expr": {"expr_str": "__import__('os')", "hint": {"as_int": 4}}}

        fx.edit_graph(src, dst, edit)
    with pytest.raises(UsageError, match=f"needs --trust.*{says}|{says}"):
        check_export_archive(dst)


def test_code_in_a_weight_name_would_run_unchecked(files: dict[str, Path], tmp_path: Path) -> None:
    """Why names are checked: torch.fx pastes a weight's name into the code it generates and runs."""
    marker = tmp_path / "PWNED"
    path = fx.rename_weight(files["pt2"], tmp_path / "model.pt2", "conv.weight", fx.code_in_weight_name(marker))
    with pytest.raises(UsageError, match="not a dotted name"):
        frontend.load_export(path, trust=False)
    assert not marker.exists()


def test_guard_refuses_unsafe_unpickling_and_restores(tmp_path: Path) -> None:
    real_load, real_loads = torch.load, pickle.loads
    path = tmp_path / "t.pt"
    torch.save({"w": torch.ones(2)}, path)
    with no_unsafe_unpickling(path):
        assert torch.equal(torch.load(path)["w"], torch.ones(2))  # weights only: fine
        with pytest.raises(UsageError, match="needs --trust"):
            torch.load(path, weights_only=False)
        with pytest.raises(UsageError, match="needs --trust"):
            pickle.loads(pickle.dumps(1))
    assert torch.load is real_load and pickle.loads is real_loads


def test_sample_inputs_pickle_is_refused_without_trust(files: dict[str, Path], tmp_path: Path) -> None:
    """torch.export.load falls back to torch.load(weights_only=False) for sample inputs: refused."""
    marker = tmp_path / "PWNED"
    payload = fx.marker_pickle(marker)
    path = fx.rewrite_zip(
        files["pt2"], tmp_path / "model.pt2", lambda n, d: payload if n.endswith("sample_inputs/model.pt") else d
    )
    check_export_archive(path)  # the static check cannot see inside the pickle: the guard does
    with pytest.raises(UsageError, match="needs --trust"):
        frontend.load_export(path, trust=False)
    assert not marker.exists()


def test_guards_code_is_never_compiled_without_trust(files: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    code = f"__import__('pathlib').Path({str(marker)!r}).write_text('x') == 0"
    path = fx.edit_graph(files["pt2"], tmp_path / "model.pt2", lambda doc: doc.update(guards_code=[code]))
    module = frontend.load_export(path, trust=False).module(check_guards=False)
    module(torch.zeros(fx.INPUT))
    assert not marker.exists()


# --- TorchScript errors keep their reason --------------------------------------------------------


def test_torchscript_shape_error_names_the_layer(files: dict[str, Path]) -> None:
    """A ScriptModule re-raises the recorder's error as a bare RuntimeError: the recorder's is kept."""
    ts = torch.jit.load(str(files["ts"]), map_location="meta")
    with pytest.raises(ModelShapeError, match="breaks at layer"):
        trace_dispatch(ts, [torch.empty(1, 3, 2, 2, device="meta")], "tiny", "torchscript+dispatch", [])


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    path.write_bytes(b"x" * 1024)
    assert limits(path) == (300.0, 4.0)
    monkeypatch.setenv("ZOOPROF_TRACE_TIMEOUT", "2.5")
    monkeypatch.setenv("ZOOPROF_TRACE_MEMORY_GIB", "1")
    assert limits(path) == (2.5, 1.0)
    monkeypatch.setenv("ZOOPROF_TRACE_TIMEOUT", "-1")
    with pytest.raises(UsageError, match="ZOOPROF_TRACE_TIMEOUT"):
        limits(path)


# --- the isolated child (forked: slow) -----------------------------------------------------------


def _forever() -> None:
    while True:
        pass


def _allocate() -> int:
    return len(bytearray(3 * 2**30))


def _shape_error() -> None:
    raise ModelShapeError("breaks at layer 'fc'", "try a larger --input-shape")


@pytest.mark.slow
def test_run_limited_returns_the_result(tmp_path: Path) -> None:
    assert run_limited(sum, ([1, 2, 3],), tmp_path / "m.pt", "reading") == 6


@pytest.mark.slow
def test_run_limited_time_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZOOPROF_TRACE_TIMEOUT", "1")
    with pytest.raises(UsageError, match="reading timed out after 1 s"):
        run_limited(_forever, (), tmp_path / "m.pt", "reading")


@pytest.mark.slow
def test_run_limited_memory_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZOOPROF_TRACE_MEMORY_GIB", "1")
    with pytest.raises(UsageError, match=r"ran out of memory \(limit 1 GiB\)"):
        run_limited(_allocate, (), tmp_path / "m.pt", "reading")


@pytest.mark.slow
def test_run_limited_keeps_the_error_class(tmp_path: Path) -> None:
    with pytest.raises(ModelShapeError, match="breaks at layer 'fc'"):
        run_limited(_shape_error, (), tmp_path / "m.pt", "reading")


@pytest.mark.slow
def test_torchscript_files_read_in_the_child(files: dict[str, Path]) -> None:
    graph, shapes = frontend.graph_from_file(files["ts"], [fx.INPUT], trust=False)
    assert shapes == [fx.INPUT] and graph.trace_method == "torchscript+dispatch" and len(graph.layers) >= 3


@pytest.mark.slow
def test_isolated_tracing_after_tensorflow_started_its_threads(tmp_path: Path) -> None:
    """compare-formats may read a TorchScript file after TensorFlow started its thread pools: the
    forked child that traces it must not deadlock on a lock one of those threads held."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        from zooprof.frontends.compat import triton_first
        triton_first()
        import tensorflow as tf
        tf.constant(1.0) + 1
        import torch
        m = torch.jit.script(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()))
        m.save({str(tmp_path / "ts.pt")!r})
        import zooprof
        r = zooprof.inspect({str(tmp_path / "ts.pt")!r}, input_shape="1x3x8x8", use_cache=False)
        print("PARAMS", r.totals["params"])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "PARAMS 112" in proc.stdout, proc.stderr[-2000:]  # 4 x 3 x 3 x 3 weights + 4 biases

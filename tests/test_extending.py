"""A new frontend or renderer is one file plus one registry line (docs/architecture.md, "Registries").

Each test writes the file into a temporary folder, adds the one line, and runs the real CLI.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.helpers import run
from zooprof import renderers
from zooprof.reference.formats import FORMATS, Format
from zooprof.renderers import Renderer

NPZ_FRONTEND = '''
from zooprof.frontends import ReadOptions
from zooprof.ir.graph import Graph, Layer, ParamSpec, TensorSpec
from zooprof.ir.ops import OpKind


def read(ref, shapes, options: ReadOptions):
    """A made-up format: one dense layer whose width is the file's size in bytes."""
    width = len(open(ref.source, "rb").read())
    shapes = shapes or [(1, 8)]
    x = TensorSpec("x", shapes[0])
    y = TensorSpec("fc", (shapes[0][0], width))
    params = (ParamSpec("fc.weight", (width, shapes[0][1])), ParamSpec("fc.bias", (width,)))
    attrs = {"in_features": shapes[0][1], "out_features": width, "bias": True}
    fc = Layer("fc", OpKind.DENSE, "Dense", (x,), (y,), attrs, params, "", False)
    return Graph(ref.name, "npz", (x,), (fc,), ("fc",), "npz-test"), shapes
'''

YAML_RENDERER = """
from zooprof.renderers.documents import LayerReport


def report_yaml(doc: LayerReport) -> str:
    return "".join(f"- name: {r['name']}\\n  macs: {r['macs']}\\n" for r in doc.rows)
"""


def _module(folder: Path, name: str, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(folder))


def test_a_new_frontend_is_one_file_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _module(tmp_path, "npz_frontend_for_test", NPZ_FRONTEND, monkeypatch)
    FORMATS.register(Format("npz", "npz_frontend_for_test:read", "npz", "numpy is needed", (".npz",)))  # the line
    try:
        model = tmp_path / "four.npz"
        model.write_bytes(b"1234")  # 4 bytes: a dense 8 -> 4
        code, out, err = run(capsys, "inspect", str(model), "--no-cache", "-f", "json")
    finally:
        FORMATS.unregister("npz")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["model"]["framework"] == "npz" and doc["model"]["kind"] == "npz-file"
    assert doc["totals"]["params"] == 8 * 4 + 4 and doc["totals"]["macs"] == 8 * 4


def test_a_new_renderer_is_one_file_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _module(tmp_path, "yaml_renderer_for_test", YAML_RENDERER, monkeypatch)
    line = Renderer("result", "yaml", (".yaml", ".yml"), "yaml_renderer_for_test:report_yaml")  # the line
    monkeypatch.setattr(renderers, "REGISTRY", (*renderers.REGISTRY, line))
    out_file = tmp_path / "mlp.yml"
    code, _, err = run(capsys, "inspect", "mnist-mlp", "-o", str(out_file))
    assert code == 0, err
    text = out_file.read_text()
    assert text.startswith("- name: ") and "  macs: 12544" in text  # fc1: 784 x 16
    code, out, _ = run(capsys, "inspect", "mnist-mlp", "--format", "yaml")
    assert code == 0 and out.strip() == text.strip()
    code, _, err = run(capsys, "inspect", "mnist-mlp", "-o", str(tmp_path / "x.toml"))
    assert code == 2 and ".yaml" in err  # the hint names the new extension

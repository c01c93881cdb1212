"""The `zooprof` command end to end: output formats, the JSON contract, errors, the cache."""

from __future__ import annotations

import csv
import io
import json
import os
import textwrap
from pathlib import Path

import pytest

from tests.helpers import heavy_imports, run
from zooprof.result.columns import CSV_COLUMNS


@pytest.mark.slow
def test_help_and_list_import_no_framework() -> None:
    assert heavy_imports("--help") == []
    assert heavy_imports("list") == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("zooprof ")


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--format", "json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["mnist-mlp"]["params"] == 13002 and rows["vgg16"]["input_shape"] == "1x3x224x224"
    code, out, _ = run(capsys, "list", "mobilenet*")
    assert code == 0 and "mobilenet_v2" in out and "vgg16" not in out


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", "alexnet-2012", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["schema_version"].startswith("1.")
    assert d["model"]["name"] == "alexnet-2012" and d["model"]["input_shape"] == [1, 3, 224, 224]
    assert d["model"]["source"]
    for key in ("params", "trainable_params", "macs", "flops", "weight_bytes", "peak_activation_bytes", "coverage"):
        assert key in d["totals"], key
    assert d["totals"]["params"] == 60_965_224
    first = d["layers"][0]
    for key in ("name", "op", "output_shape", "params", "macs", "flops", "rf"):
        assert key in first
    assert first["output_shape"] == [1, 96, 55, 55]
    assert first["rf"] == {"size": 11, "stride": 4, "padding": 2, "aligned": True, "exact": True}
    fc8 = d["layers"][-1]
    assert fc8["rf"]["size"] == "global"


def test_csv_and_markdown_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_csv = tmp_path / "vgg16.csv"
    code, _, err = run(capsys, "inspect", "vgg16", "-o", str(out_csv))
    assert code == 0 and "wrote" in err
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert sum(int(r["params"]) for r in rows) == 138_357_544
    assert sum(int(r["macs"]) for r in rows) == 15_470_264_320
    assert rows[0]["output_shape"] == "1x64x224x224" and rows[0]["rf_size"] == "3"
    md = tmp_path / "vgg16.md"
    assert run(capsys, "inspect", "vgg16", "-o", str(md), "--depth", "1")[0] == 0
    text = md.read_text()
    assert "| features | 31 layers |" in text and "Coverage: 100.0 %" in text


def test_table_explain_and_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", "alexnet-2012", "--explain", "--columns", "name,output_shape")
    assert code == 0
    assert "(224 + 2*2 - 11)/4 + 1 = 55" in out and "96×55×55" in out
    assert "Params: 60,965,224" in out and "Coverage: 100.0 % of layers counted (23/23)" in out


def test_callable_with_input_shape(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(
        textwrap.dedent("""
        from torch import nn
        def build_net():
            return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run(capsys, "inspect", "mypkg.nets:build_net", "--input-shape", "1x1x28x28", "-f", "json")
    assert code == 0
    d = json.loads(out)
    assert d["totals"]["params"] == 4 * 9 + 4 + 4 * 26 * 26 * 10 + 10
    code, _, err = run(capsys, "inspect", "mypkg.nets:build_net")
    assert code == 2 and "--input-shape" in err


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["inspect", "alexnt"], "did you mean: alexnet"),
        (["inspect", "alexnet", "--input-shape", "1x3x224"], "takes 4"),
        (["inspect", "alexnet", "--input-shape", "big"], "expected positive integers joined by 'x'"),
        (["inspect", "alexnet", "--input-shape", "1x3x32x32"], "features.12"),
        (["inspect", "alexnet", "-o", "out.xlsx"], "cannot tell the format"),
        (["inspect", "alexnet", "--columns", "name,nope"], "unknown column"),
        (["inspect", "missing/model.pt"], "no such file"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], expect: str) -> None:
    code, out, err = run(capsys, *args, "--no-cache")
    assert code == 2
    assert expect in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_debug_shows_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "inspect", "alexnet", "--input-shape", "1x3x32x32", "--debug", "--no-cache")
    assert code == 2 and "Traceback" in err


def test_several_models_keep_the_good_ones(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys, "inspect", "mnist-mlp", "nosuchmodel", "alexnet-2012", "-o", str(tmp_path / "{model}.csv")
    )
    assert code == 1
    assert "nosuchmodel" in err
    assert (tmp_path / "mnist-mlp.csv").exists() and (tmp_path / "alexnet-2012.csv").exists()


@pytest.mark.slow
def test_cache_hit_imports_no_framework(tmp_path: Path) -> None:
    env = {**os.environ, "ZOOPROF_CACHE_DIR": str(tmp_path / "cache")}
    assert "torch" in heavy_imports("inspect", "mnist-mlp", "-f", "json", env=env)
    assert heavy_imports("inspect", "mnist-mlp", "-f", "json", env=env) == []
    assert "torch" in heavy_imports("inspect", "mnist-mlp", "--no-cache", env=env)


def test_changed_model_file_misses_the_cache(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    import zooprof

    path = tmp_path / "m.pt2"
    model = torch.nn.Sequential(torch.nn.Linear(4, 2))
    torch.export.save(torch.export.export(model, (torch.zeros(1, 4),)), str(path))
    first = zooprof.inspect(str(path))
    assert first.environment["cache"] == "miss" and first.totals["params"] == 10
    assert zooprof.inspect(str(path)).environment["cache"] == "hit"
    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    torch.export.save(torch.export.export(model, (torch.zeros(1, 4),)), str(path))
    again = zooprof.inspect(str(path))
    assert again.environment["cache"] == "miss" and again.totals["params"] == 15

"""`zooprof report`: a saved result rendered again, as the original run rendered it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import run
from tests.renderers.results import real_hostile, with_measurements
from zooprof.renderers import render
from zooprof.renderers.html import render_html
from zooprof.result.columns import parse_columns
from zooprof.result.document import ProfileResult

STAMP = re.compile(r'<span id="rendered-at">[^<]*</span>')


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProfileResult, Path]:
    result = with_measurements(real_hostile())
    return result, result.save(tmp_path_factory.mktemp("run") / "result.json")


def test_report_html_is_the_original_apart_from_the_timestamp(
    capsys: pytest.CaptureFixture[str], saved: tuple[ProfileResult, Path], tmp_path: Path
) -> None:
    result, path = saved
    original = render_html(result)
    code, _, err = run(capsys, "report", str(path), "-o", str(tmp_path / "again.html"))
    assert code == 0 and "wrote" in err
    again = (tmp_path / "again.html").read_text(encoding="utf-8")
    assert again != original or STAMP.search(again)  # a timestamp is there
    assert STAMP.sub("", again) == STAMP.sub("", original)
    code, _, _ = run(capsys, "report", str(path.parent), "--format", "html", "-o", str(tmp_path / "dir.html"))
    assert code == 0 and STAMP.sub("", (tmp_path / "dir.html").read_text(encoding="utf-8")) == STAMP.sub("", original)


def test_inspect_writes_the_html_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "hostile.html"
    code, _, _ = run(capsys, "inspect", "tests.renderers.hostile_model:build", "-i", "1x3x16x16", "-o", str(out))
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<img" not in html
    assert "block.&lt;img src=x onerror=alert(1)&gt;" not in html  # layer names live in the data block only
    assert "block.\\u003cimg src=x onerror=alert(1)\\u003e" in html


def test_report_other_formats(
    capsys: pytest.CaptureFixture[str], saved: tuple[ProfileResult, Path], tmp_path: Path
) -> None:
    result, path = saved
    loaded = ProfileResult.load(path)
    for ext, fmt in (("csv", "csv"), ("md", "md"), ("json", "json")):
        out = tmp_path / f"r.{ext}"
        code, _, _ = run(capsys, "report", str(path), "-o", str(out))
        assert code == 0
        assert out.read_text(encoding="utf-8") == render(loaded, fmt, columns=parse_columns(None))
    code, out, _ = run(capsys, "report", str(path), "--width", "200")
    assert code == 0 and "Runtime" in out and "failed (unsupported)" in out and "head" in out
    code, out, _ = run(capsys, "report", str(path), "-f", "csv", "--columns", "name,macs", "--depth", "1")
    assert code == 0 and out.splitlines()[:2] == ["name,macs", "block,83520"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"hello": 1}', "not a zooprof result (no schema_version)"),
        ("[1, 2]", "not a zooprof result"),
        ('{"schema_version": "9.0", "model": {}, "totals": {}, "layers": []}', "upgrade zooprof"),
    ],
)
def test_bad_result_files_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "result.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "report", str(path), "-o", str(tmp_path / "x.html"))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and message in err
    assert not (tmp_path / "x.html").exists()


def test_bad_output_and_folder_without_result(
    capsys: pytest.CaptureFixture[str], saved: tuple[ProfileResult, Path], tmp_path: Path
) -> None:
    _, path = saved
    code, _, err = run(capsys, "report", str(path), "-o", str(tmp_path / "x.pdf"))
    assert code == 2 and "cannot tell the format" in err and ".html" in err
    code, _, err = run(capsys, "report", str(tmp_path))
    assert code == 2 and "no result.json in the folder" in err


@pytest.mark.slow
def test_report_imports_no_framework(saved: tuple[ProfileResult, Path], tmp_path: Path) -> None:
    _, path = saved
    code = textwrap.dedent(f"""
        import sys
        from zooprof.cli import main
        try:
            main(["report", {str(path)!r}, "-o", {str(tmp_path / "x.html")!r}])
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        heavy = ("torch", "tensorflow", "onnxruntime", "keras", "torchvision", "pandas")
        print("HEAVY=" + ",".join(m for m in heavy if m in sys.modules))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "HEAVY=\n" in r.stdout
    assert (
        json.loads(re.search(r'id="zooprof-data">(.*?)</script>', (tmp_path / "x.html").read_text(), re.S).group(1))[
            "kind"
        ]
        == "report"
    )


def test_profile_report_option_is_checked_before_measuring(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "profile", "mnist-mlp", "--report", "x.pdf")
    assert code == 2 and "--report writes HTML" in err
    code, _, err = run(capsys, "profile", "mnist-mlp", "alexnet-2012", "--report", "x.html")
    assert code == 2 and "several models but one report file" in err


@pytest.mark.slow
def test_profile_report_matches_report_of_the_saved_result(tmp_path: Path) -> None:
    """`zooprof profile --report` and `zooprof report` of its result.json: the same page."""
    zooprof = Path(sys.executable).parent / "zooprof"
    first, saved = tmp_path / "run.html", tmp_path / "result.json"
    r = subprocess.run(
        [str(zooprof), "profile", "mnist-mlp", "--max-time", "0.3", "-o", str(saved), "--report", str(first)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [str(zooprof), "report", str(saved), "-o", str(tmp_path / "again.html")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    a, b = first.read_text(encoding="utf-8"), (tmp_path / "again.html").read_text(encoding="utf-8")
    assert STAMP.sub("", a) == STAMP.sub("", b)
    assert json.loads(re.search(r'id="zooprof-data">(.*?)</script>', a, re.S).group(1))["result"]["measurements"]

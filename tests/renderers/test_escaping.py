"""Names from a model file are data in every output: no live HTML in Markdown, no spreadsheet
formula in CSV, no rich markup or terminal escape on the console. (The HTML report's escaping is
tested in tests/browser and tests/renderers/test_html.py.)"""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers import run
from tests.renderers.results import hostile, with_measurements
from zooprof.compare.parity.model import FormatRecord, TextTable
from zooprof.renderers import render, render_document
from zooprof.renderers.compare_text import render_compare_csv, render_compare_markdown
from zooprof.renderers.documents import PowerLog
from zooprof.renderers.escape import md_cell, printable
from zooprof.renderers.parity_data import render_csv as parity_csv
from zooprof.renderers.parity_text import render_markdown as parity_markdown
from zooprof.result.columns import COLUMNS, csv_safe
from zooprof.result.document import ProfileResult
from zooprof.result.summary import compare_rows

IMG = "<img src=x onerror=alert(1)>"
LINK = "[click](javascript:alert(1))"
FORMULAS = ("=cmd|' /C calc'!A0", "+1+1", "-1", "@SUM(A1:A2)", "\t=1", "\r=1")
MARKUP = "[bold red]boom[/bold red]"
ESC = "\x1b[2J\x1b]0;pwned\x07"


def named(*names: str) -> ProfileResult:
    """The hostile result with one conv layer per name (and the model named after the first)."""
    r = hostile()
    base = r.layers[0]
    r.layers = [dict(copy.deepcopy(base), name=n, scope=n) for n in names]
    r.model["name"] = names[0]
    return r


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            if cell.startswith("-"):
                float(cell)  # only a number may start with a minus sign


# -- the rules ----------------------------------------------------------------------------------


def test_csv_safe_touches_text_only() -> None:
    assert csv_safe("-1") == "'-1"  # a name "-1" is text: quoted
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe(-1.5) == -1.5 and csv_safe(-3) == -3  # a negative number is not a formula
    assert csv_safe("conv1") == "conv1" and csv_safe(None) is None
    assert csv_safe("a\rb") == "a\nb"  # one cell, not a broken row


def test_md_cell_and_printable() -> None:
    assert md_cell(IMG) == "&lt;img src=x onerror=alert(1)&gt;"
    assert md_cell("a|b\nc & d") == "a\\|b c &amp; d"
    assert "](" not in md_cell(LINK).replace("\\](", "")
    assert "\x1b" not in printable(ESC) and "\x07" not in printable(ESC)
    assert printable("conv1 × 3") == "conv1 × 3"


# -- Markdown -----------------------------------------------------------------------------------


def test_layer_markdown_has_no_live_html() -> None:
    md = render(named(IMG, LINK, "a|b"), "md", columns=[COLUMNS["name"], COLUMNS["params"]])
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "[click](" not in md and "[click\\](javascript" in md  # not a link
    assert "a\\|b" in md
    assert all(line.count(" | ") == 1 for line in md.splitlines() if line.startswith("| ") and "a\\|b" in line)


def test_compare_and_parity_markdown_have_no_live_html() -> None:
    r = with_measurements(named(IMG))
    md = render_compare_markdown(compare_rows([r], [f"{IMG}.json"]))
    assert "<img" not in md and "&lt;img" in md
    report = SimpleNamespace(
        summary_table=TextTable(headings=["Format", "File"], rows=[[IMG, f"{IMG}.onnx"]]),
        layer_table=TextTable(headings=["#", "Layer"], rows=[["1", IMG]]),
        explanations=[f"{IMG} differs"],
    )
    md = parity_markdown(report)  # type: ignore[arg-type]
    assert "<img" not in md and md.count("&lt;img") == 4


# -- CSV ----------------------------------------------------------------------------------------


def test_layer_csv_neutralises_formulas() -> None:
    r = named(*FORMULAS)
    for columns in (None, [COLUMNS["name"], COLUMNS["op"], COLUMNS["macs"]]):
        text = render(r, "csv", columns=columns or [], columns_given=columns is not None)
        rows = csv_cells(text)
        assert_no_formula(rows)
        assert [row[0] for row in rows[1:]] == ["'" + n.replace("\r", "\n") for n in FORMULAS]
        assert rows[1][-1] != "" and not rows[1][-1].startswith("'")  # numbers stay numbers


def test_compare_csv_neutralises_formulas() -> None:
    results = [with_measurements(named(n)) for n in FORMULAS[:4]]
    rows = csv_cells(render_compare_csv(compare_rows(results, [f"{n}.json" for n in FORMULAS[:4]])))
    assert_no_formula(rows)
    assert any(row[0] == "'=cmd|' /C calc'!A0" for row in rows)


def test_parity_csv_neutralises_formulas() -> None:
    formats = [FormatRecord(f"{n}.onnx", n, "failed", n, None, n, column=n) for n in FORMULAS]
    report = SimpleNamespace(formats=formats, params_findings=[])
    rows = csv_cells(parity_csv(report))  # type: ignore[arg-type]
    assert_no_formula(rows)


def test_power_log_csv_neutralises_formulas() -> None:
    doc = PowerLog("x.log", "x.log", {}, ["t_s", "=RAIL()"], [{"t_s": -1.5, "=RAIL()": "@x"}])
    rows = csv_cells(render_document("power-log", "csv", doc))
    assert rows == [["t_s", "'=RAIL()"], ["-1.5", "'@x"]]


def test_results_export_neutralises_formulas(tmp_path: Path) -> None:
    from zooprof.results import ResultsDB

    with ResultsDB(tmp_path / "r.db") as db:
        db.add(with_measurements(named('=HYPERLINK("http://x")')), machine="@m", sweep="+s")
        out = db.export(tmp_path / "rows.csv")
    rows = csv_cells(out.read_text())
    assert_no_formula(rows)
    assert any("'=HYPERLINK" in cell for row in rows for cell in row)


def test_cli_csv_outputs_neutralise_formulas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "evil.json"
    named(*FORMULAS).save(path)
    code, out, err = run(capsys, "report", str(path), "--format", "csv")
    assert code == 0, err
    assert_no_formula(csv_cells(out))
    code, _, err = run(capsys, "report", str(path), "-o", str(tmp_path / "out.csv"))
    assert code == 0, err
    assert_no_formula(csv_cells((tmp_path / "out.csv").read_text()))
    code, out, err = run(capsys, "list", "--format", "csv")
    assert code == 0, err
    assert_no_formula(csv_cells(out))


# -- the console --------------------------------------------------------------------------------


@pytest.mark.parametrize("wide", [False, True])
def test_console_prints_names_literally(wide: bool) -> None:
    r = with_measurements(named(MARKUP, ESC, IMG))
    text = render(r, "table", columns=[COLUMNS["name"], COLUMNS["macs"]], color=False, width=100, wide=wide)
    assert MARKUP in text and IMG in text
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[2J" in text
    from zooprof.renderers.compare_text import render_compare_table
    from zooprof.renderers.measurements import render_measurements

    for out in (render_measurements(r, width=100, wide=wide), render_compare_table(compare_rows([r], ["r"]))):
        assert MARKUP in out and "\x1b" not in out

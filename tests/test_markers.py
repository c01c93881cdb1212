"""Test hygiene: markers are used consistently (a test that spawns a process or sleeps is `slow`, a
test that opens Chromium is `browser`, a test that runs a peer tool is `peer`; pyproject.toml lists
them), and no test module imports another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
#: what in a test's body means it spawns a process or waits on the clock, and the marker it needs
NEEDS = {
    "subprocess.": "slow",
    "time.sleep(": "slow",
    "run_isolated(": "slow",
    "heavy_imports(": "slow",
    "webdriver.": "browser",
    "torchinfo": "peer",
    "fvcore": "peer",
    "ptflops": "peer",
}


def _module_marks(tree: ast.Module) -> str:
    return " ".join(
        ast.unparse(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets)
    )


def _unmarked(root: Path = TESTS) -> list[str]:
    wrong = []
    for path in sorted(root.rglob("test_*.py")):
        if path.name == "test_markers.py":
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        module_marks = _module_marks(tree)
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            body = ast.get_source_segment(source, node) or ""
            marks = module_marks + " ".join(ast.unparse(d) for d in node.decorator_list)
            for needle, mark in NEEDS.items():
                if needle in body and f"mark.{mark}" not in marks:
                    wrong.append(f"{path.relative_to(root)}:{node.lineno} {node.name} uses {needle!r}: mark it {mark}")
    return wrong


def test_tests_that_spawn_sleep_or_open_a_browser_are_marked() -> None:
    wrong = _unmarked()
    assert not wrong, "\n".join(wrong)


def test_every_marker_is_declared_and_used() -> None:
    import tomllib

    declared = {
        m.split(":")[0]
        for m in tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"][
            "markers"
        ]
    }
    used = set()
    for path in TESTS.rglob("test_*.py"):
        text = path.read_text(encoding="utf-8")
        used |= {m for m in declared if f"mark.{m}" in text and path.name != "test_markers.py"}
    assert declared == {"slow", "peer", "browser", "gpu"}
    assert used == declared, f"declared but unused: {declared - used}"


def test_the_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "test_fake.py").write_text(
        "import time\nimport pytest\n\n"
        "def test_sleeps():\n    time.sleep(0.1)\n\n"
        "@pytest.mark.slow\ndef test_sleeps_marked():\n    time.sleep(0.1)\n"
    )
    assert _unmarked(tmp_path) == ["test_fake.py:4 test_sleeps uses 'time.sleep(': mark it slow"]


def test_no_test_module_imports_another_test_module() -> None:
    """Shared helpers live in helper modules (tests/helpers.py, tests/*/fake_*.py ...), not in tests."""
    wrong = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            if module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_"):
                wrong.append(f"{path.relative_to(TESTS)}:{node.lineno} imports {module}")
    assert not wrong, "\n".join(wrong)

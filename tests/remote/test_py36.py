"""The board modules (zooprof.remote.BOARD_MODULES) run on the Jetson's own Python: 3.6 on JetPack 4.6.

Checked four ways: vermin finds nothing that needs more than 3.6 (with evaluated annotations, no
backports; the check is shown to fail on 3.7 code); each module imports only the standard library
and the other board modules; the modules run from a folder holding only them, under every old
Python this machine has (pyenv's 3.6 ... 3.13), and compute exactly what they compute on the test's
own Python; ruff's per-file exceptions and `make lint` name the same modules and flags.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zooprof.remote import BOARD_MODULES

REPO = Path(__file__).resolve().parents[2]
SMOKE = Path(__file__).resolve().with_name("board_smoke.py")
#: vermin, strict: annotations count as evaluated (they are, on 3.6), `X | Y` is detected, no
#: backport is assumed, no config file is read; `make lint` runs the same line.
VERMIN_FLAGS = [
    "--no-config-file",
    "--target=3.6-",
    "--violations",
    "--eval-annotations",
    "--feature",
    "union-types",
    "--no-make-paths-absolute",
]
OLD_PYTHONS = [f"3.{minor}" for minor in range(6, 14)]


def _dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _vermin(*paths: str | Path) -> tuple[int, str]:
    exe = Path(sys.executable).with_name("vermin")
    if not exe.exists():
        pytest.skip("vermin is not installed (pip install -e '.[dev]')")
    r = subprocess.run(
        [str(exe), *VERMIN_FLAGS, *map(str, paths)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    return r.returncode, r.stdout + r.stderr


def _minimum(output: str) -> tuple[int, ...]:
    """The Python 3 version vermin's verdict names ('Minimum required versions: 3.6')."""
    m = re.search(r"Minimum required versions:.*?\b3\.(\d+)", output)
    assert m, output
    return (3, int(m.group(1)))


@pytest.mark.slow
def test_board_modules_need_no_more_than_python_3_6() -> None:
    rc, out = _vermin(*BOARD_MODULES)
    assert rc == 0, out
    assert _minimum(out) <= (3, 6), out


@pytest.mark.slow
def test_the_vermin_check_can_fail(tmp_path: Path) -> None:
    cases = {
        "future.py": ("from __future__ import annotations\n", (3, 7)),
        "record.py": ("from dataclasses import dataclass\n\n@dataclass\nclass A:\n    x: int\n", (3, 7)),
        "hints.py": ("def f(x: list[int]) -> int:\n    return len(x)\n", (3, 9)),
        "union.py": ("from typing import List\n\ndef f(x: List[int]) -> int | None:\n    return None\n", (3, 10)),
        "walrus.py": ("def f(x):\n    if (n := len(x)) > 1:\n        return n\n", (3, 8)),
        "run.py": ("import subprocess\nsubprocess.run(['true'], capture_output=True)\n", (3, 7)),
    }
    for name, (source, needs) in cases.items():
        (tmp_path / name).write_text(source)
        rc, out = _vermin(tmp_path / name)
        assert rc != 0 and _minimum(out) == needs, (name, out)


def _imports(tree: ast.AST) -> list[tuple[int, str, list[str]]]:
    """(line, module, names imported from it) of every import that runs when the module is
    imported: module level, under `if`/`try` and class bodies too, but not inside functions (the
    agent imports a runtime such as onnxruntime or numpy in the function that needs it). Relative
    imports keep their dots."""
    found = []
    todo = list(ast.iter_child_nodes(tree))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or ""), [a.name for a in node.names]))
        todo += ast.iter_child_nodes(node)
    return sorted(found)


def _foreign_imports(paths: list[Path], allowed: set[str]) -> list[str]:
    """Imports of anything but the standard library and the `allowed` zooprof modules (`from
    zooprof.measure import stats` counts as importing zooprof.measure.stats)."""
    wrong = []
    for path in paths:
        for line, module, names in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            top = module.split(".")[0]
            if top in ("zooprof", ""):
                ok = module in allowed or bool(names) and all(f"{module}.{n}" in allowed for n in names)
            else:
                ok = top in sys.stdlib_module_names
            if not ok:
                wrong.append(f"{path.name}:{line} imports {module}")
    return wrong


def test_board_modules_import_only_the_standard_library_and_each_other() -> None:
    allowed = {_dotted(p) for p in BOARD_MODULES}
    assert _foreign_imports([REPO / p for p in BOARD_MODULES], allowed) == []


def test_the_import_check_can_fail(tmp_path: Path) -> None:
    mod = tmp_path / "mod.py"
    mod.write_text(
        "import json\nimport numpy\nfrom zooprof.sensors.base import read_text\n"
        "from zooprof.measure.stats import Stats\nfrom . import sibling\nfrom zooprof.measure import stats, base\n\n"
        "try:\n    import psutil\nexcept ImportError:\n    psutil = None\n\ndef f():\n    import torch\n"
    )
    assert _foreign_imports([mod], {"zooprof.measure.stats"}) == [
        "mod.py:2 imports numpy",
        "mod.py:3 imports zooprof.sensors.base",
        "mod.py:5 imports .",
        "mod.py:6 imports zooprof.measure",
        "mod.py:9 imports psutil",
    ]


def _board_folder(tmp_path: Path) -> Path:
    """The board's view: only the BOARD_MODULES and empty `__init__.py` files, plus the smoke script."""
    folder = tmp_path / "board"
    for rel in BOARD_MODULES:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, folder / rel)
        for parent in Path(rel).parents:
            if parent != Path("."):
                (folder / parent / "__init__.py").touch()
    shutil.copy(SMOKE, folder / SMOKE.name)
    return folder


def _smoke(python: str, folder: Path, scratch: Path) -> dict:
    scratch.mkdir()
    r = subprocess.run(
        [python, "-S", str(folder / SMOKE.name), *(_dotted(p) for p in BOARD_MODULES), str(scratch)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
    )
    assert r.returncode == 0, f"{python}: {r.stderr[-3000:]}"
    return json.loads(r.stdout)


def _find_python(version: str) -> str | None:
    """pyenv's newest 3.X (PYENV_ROOT or ~/.pyenv), else python3.X on PATH (not a pyenv shim)."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = sorted(
        pyenv.glob(f"{version}.*/bin/python"), key=lambda p: [int(x) for x in re.findall(r"\d+", p.parts[-3])]
    )
    if found:
        return str(found[-1])
    exe = shutil.which(f"python{version}")
    return exe if exe and "shims" not in Path(exe).parts else None


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What the board modules compute under the test's own Python, run the board's way."""
    tmp = tmp_path_factory.mktemp("reference")
    return _smoke(sys.executable, _board_folder(tmp), tmp / "scratch")


@pytest.mark.slow
@pytest.mark.parametrize("version", OLD_PYTHONS)
def test_board_modules_run_alike_on_old_pythons(version: str, reference: dict, tmp_path: Path) -> None:
    python = _find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine (PATH or pyenv)")
    assert _smoke(python, _board_folder(tmp_path), tmp_path / "scratch") == reference


@pytest.mark.slow
def test_the_smoke_reference_holds_hand_checked_figures(reference: dict) -> None:
    timing, rails, board = reference["timing"], reference["rails"], reference["board"]
    # 0.001 .. 0.010 (6 samples): median = (0.0025 + 0.003) / 2; type-7 p90: h = 4.5 -> 0.004 + 0.5 * 0.006
    assert timing["stats"]["median"] == pytest.approx(2.75) and timing["stats"]["p90"] == pytest.approx(7.0)
    assert timing["stats_frozen"] and timing["stats_equal"]
    assert timing["percentile"] == pytest.approx([1.0, 1.3, 3.0, 6.8, 8.0])  # [1, 2, 4, 8]: h = 3q/100
    assert timing["ci_ranks"][:4] == [[1, 1], [1, 5], [1, 6], [2, 9]]  # n = 10: P(B <= 1) = 11/1024 <= 2.5%
    assert rails["jp4"]["mw"] == [2746.0, 0.0, None]  # iio power files in mW; "bad" is None
    assert rails["jp4"]["total"] == ["POM_5V_IN", "POM_5V_IN"]
    assert rails["jp6"]["mw"] == [pytest.approx(5072 * 1008 / 1000), pytest.approx(5080 * 200 / 1000)]
    assert [r[0] for r in rails["jp6"]["rails"]] == ["VDD_GPU_SOC", "VDD_CPU_CV"]  # NC and in7 skipped
    assert board["nvpmodel"] == "MAXN (mode 0)" and board["jetpack"][0] == "4.6"
    assert board["clocks"].endswith("(needs root: sudo))")


def test_z_of_the_median_ci_is_the_normal_quantile() -> None:
    from statistics import NormalDist

    from zooprof.measure import stats

    assert NormalDist().inv_cdf(0.5 + stats.CI_LEVEL / 2) == stats._Z


def test_ruff_exceptions_and_make_lint_cover_the_board_modules() -> None:
    import tomllib

    ignores = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]["per-file-ignores"]
    assert {path for path, rules in ignores.items() if "UP006" in rules} == set(BOARD_MODULES)
    lint = (REPO / "Makefile").read_text().split("\nlint:")[1].split("\n\n")[0]
    vermin = next(line for line in lint.splitlines() if "vermin" in line)
    assert " ".join(VERMIN_FLAGS) in vermin and "BOARD_MODULES" in vermin

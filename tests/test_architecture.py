"""The shape of the package (docs/architecture.md): no import cycles, no private names used across
modules, packages import only the layers below them, no module over 500 lines, nothing at the
package root but `__init__`, `__main__`, `errors` and `version`.

Imports are read from the source with `ast`, function-level ones included; only imports under
`if TYPE_CHECKING:` are left out, because they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "zooprof"
MAX_LINES = 500
ROOT_MODULES = {"__init__.py", "__main__.py", "errors.py", "version.py"}

#: package -> the zooprof packages it may import (besides itself, `errors` and `version`).
#: Read top to bottom: a package may only import what is listed, so the pipeline of
#: docs/architecture.md holds: cli on top; result, ir and reference at the bottom.
LAYERS: dict[str, set[str]] = {
    "ir": set(),
    "reference": set(),
    "result": set(),
    "results": {"result"},
    "sensors": set(),
    "rules": {"ir"},
    "analysis": {"ir", "rules"},
    "frontends": {"ir", "reference", "sensors"},  # sensors.proc_status: a process's memory
    "runtimes": {"frontends", "ir", "measure", "reference", "result", "sensors"},
    "measure": {"analysis", "frontends", "ir", "reference", "remote", "result", "results", "runtimes", "sensors"},
    "remote": {"frontends", "measure", "reference", "result", "runtimes", "sensors"},
    "compare": {"measure", "reference", "result", "runtimes"},
    "renderers": {"compare", "result"},
    "sweep": {"measure", "reference", "remote", "renderers", "result", "results", "runtimes", "sensors"},
    "cli": {"compare", "measure", "reference", "remote", "renderers", "result", "results", "sensors", "sweep"},
    "": {"cli", "measure", "result"},  # zooprof/__init__.py (the Python API) and __main__.py
}


@dataclass
class Module:
    name: str
    path: Path
    imports: dict[str, int] = field(default_factory=dict)  # imported module -> first line
    private: list[tuple[int, str]] = field(default_factory=list)  # (line, "module._name")


def _module_name(path: Path) -> str:
    parts = ["zooprof", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _modules() -> dict[str, Module]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p): Module(_module_name(p), p) for p in paths}
    for mod in modules.values():
        tree = ast.parse(mod.path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = mod.name if mod.path.name == "__init__.py" else mod.name.rpartition(".")[0]
        module_aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("zooprof"):
                        mod.imports.setdefault(alias.name, node.lineno)
                        if alias.asname:
                            module_aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                if not base.startswith("zooprof"):
                    continue
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    if target in modules:  # `from package import module`
                        mod.imports.setdefault(target, node.lineno)
                        module_aliases[alias.asname or alias.name] = target
                    else:
                        mod.imports.setdefault(base, node.lineno)
                        if alias.name.startswith("_") and not alias.name.startswith("__"):
                            mod.private.append((node.lineno, f"{base}.{alias.name}"))
        for node in ast.walk(tree):  # module._private through an imported module
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                mod.private.append((node.lineno, f"{module_aliases[node.value.id]}.{node.attr}"))
    return modules


MODULES = _modules()


def _edges() -> dict[str, list[str]]:
    return {m.name: sorted(t for t in m.imports if t in MODULES and t != m.name) for m in MODULES.values()}


def _cycles(edges: dict[str, list[str]]) -> Iterator[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = [0]

    def visit(v: str) -> Iterator[list[str]]:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                yield from visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                yield sorted(component)

    for v in sorted(edges):
        if v not in index:
            yield from visit(v)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else ""


def test_the_walker_sees_function_level_imports() -> None:
    # measure.static imports the frontends registry inside a function only
    assert "zooprof.frontends" in MODULES["zooprof.measure.static"].imports
    assert "zooprof.measure.profiling" in MODULES["zooprof"].imports  # zooprof.profile(), lazily


def test_no_import_cycles() -> None:
    cycles = list(_cycles(_edges()))
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_can_fail() -> None:
    assert list(_cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})) == [["a", "b", "c"]]


def test_no_private_names_from_other_modules() -> None:
    found = [
        f"{m.path.relative_to(PACKAGE.parent)}:{line}: {name}" for m in MODULES.values() for line, name in m.private
    ]
    assert not found, "private names used from another module:\n" + "\n".join(found)


def test_packages_import_only_the_layers_below_them() -> None:
    wrong = []
    for mod in MODULES.values():
        own = _package(mod.name)
        allowed = LAYERS[own] | {own, ""}
        for target, line in mod.imports.items():
            pkg = _package(target)
            if target in ("zooprof.errors", "zooprof.version") or pkg in allowed and (pkg or own == ""):
                continue
            if pkg == "" and target == "zooprof":
                wrong.append(f"{mod.path.relative_to(PACKAGE.parent)}:{line}: imports the package root (zooprof)")
            elif pkg not in allowed:
                wrong.append(f"{mod.path.relative_to(PACKAGE.parent)}:{line}: {own or 'zooprof'} -> {pkg} ({target})")
    assert not wrong, "imports against the layering of docs/architecture.md:\n" + "\n".join(wrong)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_500_lines(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)} has {lines} lines; split it by job"


def test_nothing_at_the_package_root_but_the_entry_points() -> None:
    extra = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ROOT_MODULES)
    assert not extra, f"modules at the package root: {extra}; put each in the package of its pipeline stage"


def test_every_package_is_in_the_wheel() -> None:
    """pyproject.toml lists the packages a wheel holds: a package left out works from a checkout
    and is missing from `pip install zooprof`."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"

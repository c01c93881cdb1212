"""Helpers shared by test modules: running the CLI in-process, which frameworks a command imports,
reading a PyTorch module on either path."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from zooprof.cli import main

#: frameworks `zooprof --help`, `list` and cache hits must not import
HEAVY = ("torch", "tensorflow", "onnxruntime", "keras", "torchvision")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`zooprof ARGS` in this process -> (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    code = exc.value.code if isinstance(exc.value.code, int) else (0 if exc.value.code is None else 1)
    return code, out, err


def heavy_imports(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The frameworks of HEAVY that `zooprof ARGS` imports, run in a fresh interpreter."""
    code = textwrap.dedent(f"""
        import sys
        from zooprof.cli import main
        try:
            main({list(args)!r})
        except SystemExit:
            pass
        print("HEAVY=" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env or os.environ.copy())
    line = [x for x in r.stdout.splitlines() if x.startswith("HEAVY=")]
    assert line, r.stderr
    return [m for m in line[-1][6:].split(",") if m]


BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_bench(name: str) -> ModuleType:
    """A script of bench/ as a module (bench/ is not a package): the peer tools, the catalogue."""
    key = f"zooprof_bench_{name}"
    if key in sys.modules:
        return sys.modules[key]
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))  # the scripts import each other by name, as when run from bench/
    spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def torch_graph(model: Any, shapes: list[tuple[int, ...]], name: str, path: str) -> Any:
    """The IR graph of the built module `model` read on one PyTorch path: "fx", or
    "hooks+dispatch" (module hooks and aten dispatch, the fallback)."""
    from zooprof.frontends.torch import read as frontend
    from zooprof.frontends.torch.dispatch import trace_dispatch

    if path == "fx":
        return frontend.graph_from_module(model, shapes, name)
    return trace_dispatch(model, frontend.meta_inputs(shapes), name, path, [])

"""Shared fixtures: an isolated analysis cache per test session, a machine without devices for
every test, and a small graph builder."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zooprof.frontends.compat import triton_first
from zooprof.ir.graph import Graph, Layer, ParamSpec, TensorSpec
from zooprof.ir.ops import OpKind

ROOT = Path(__file__).resolve().parent.parent

# Tests load TensorFlow and PyTorch in one process in any order; triton imported after TensorFlow
# crashes the process, so import it first, as zooprof itself does (frontends/compat.py).
triton_first()
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    old = os.environ.get("ZOOPROF_CACHE_DIR")
    os.environ["ZOOPROF_CACHE_DIR"] = str(tmp_path_factory.mktemp("zooprof-cache"))
    yield
    if old is None:
        os.environ.pop("ZOOPROF_CACHE_DIR", None)
    else:
        os.environ["ZOOPROF_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _hermetic_machine(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test runs on an empty machine: sysfs and /proc under an empty root (no INA3221,
    RAPL, thermal zones, tegrastats), no NVML or jetson-stats, no CUDA device (CUDA_VISIBLE_DEVICES
    empty, also for the CLI's child processes) and no trtexec, so a GPU host or a Jetson gives the
    same results as a laptop. A test that needs a device builds a fake one (a tree under its own
    ZOOPROF_SYSFS_ROOT, a fake `pynvml` / `jtop` module in sys.modules, a stand-in trtexec), or is
    marked `gpu` and runs on the real one in a child process (tests/runtimes/test_gpu.py)."""
    root = tmp_path_factory.getbasetemp() / "empty-machine"
    root.mkdir(exist_ok=True)
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(root))
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    monkeypatch.setitem(sys.modules, "jtop", None)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("ZOOPROF_TRTEXEC", str(root / "no-trtexec"))


def t(name: str, *shape: int, dtype: str = "float32") -> TensorSpec:
    return TensorSpec(name, tuple(shape), dtype)


def layer(
    name: str,
    op: OpKind,
    inputs: list[TensorSpec],
    output: TensorSpec,
    params: tuple[ParamSpec, ...] = (),
    inplace: bool = False,
    **attrs: object,
) -> Layer:
    return Layer(name, op, op.value, tuple(inputs), (output,), dict(attrs), params, "", inplace)


def graph(inputs: list[TensorSpec], layers: list[Layer], outputs: list[str] | None = None) -> Graph:
    return Graph("test", "none", tuple(inputs), tuple(layers), tuple(outputs or [layers[-1].name]))

"""Shared fixtures: an isolated analysis cache per test session, and a small graph builder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from zooprof.ir.graph import Graph, Layer, ParamSpec, TensorSpec
from zooprof.ir.ops import OpKind

ROOT = Path(__file__).resolve().parent.parent
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

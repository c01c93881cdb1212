"""zooprof's params and MACs against peer tools run in the test (torchinfo, fvcore, ptflops),
through the reconciliation of bench/peers.py: every difference must be explained by the
peer's own convention (biases, batch norm, pooling, activations), measured on the real model.
docs/counting.md has the table this reproduces."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.peer, pytest.mark.slow]


def _peers():  # type: ignore[no-untyped-def]
    for tool in ("torchinfo", "fvcore", "ptflops"):
        pytest.importorskip(tool)
    spec = importlib.util.spec_from_file_location("zooprof_bench_peers", ROOT / "bench" / "peers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["alexnet-2012", "resnet18", "mobilenet_v2"])
def test_every_peer_figure_is_reconciled(name: str) -> None:
    peers = _peers()
    row = peers.profile(name)
    cells = row.cells
    errors = {k: v for k, v in cells.items() if isinstance(v, str) and v.startswith("error")}
    assert not errors, errors
    # params: torchinfo and ptflops count the module's parameters, as zooprof does
    assert cells["torchinfo params"] == cells["zooprof params"]
    assert cells["ptflops params"] == cells["zooprof params"]
    residuals = peers.reconcile(row)
    assert residuals and all(v == 0 for v in residuals.values()), residuals

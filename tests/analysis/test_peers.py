"""zooprof's params and MACs against peer tools run in the test (torchinfo, fvcore, ptflops),
through the reconciliation of bench/peers.py: every difference must be explained by the
peer's own convention (biases, batch norm, pooling, activations), measured on the real model.
docs/counting.md has the table this reproduces."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.helpers import load_bench

pytestmark = [pytest.mark.peer, pytest.mark.slow]


def _peers() -> ModuleType:
    for tool in ("torchinfo", "fvcore", "ptflops"):
        pytest.importorskip(tool)
    return load_bench("peers")


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

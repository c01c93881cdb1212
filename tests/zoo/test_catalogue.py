"""A representative sample of the catalogue sweep (bench/catalogue.py, `make catalogue`): one model
of every torchvision family and task, read statically and checked against torchvision's weight
metadata (`num_params` exactly, `_ops` MACs within 0.1 % or its rounding), with 100 % coverage
where every op has a defined cost. The whole sweep's table is docs/catalogue.md."""

from __future__ import annotations

import pytest

from tests.helpers import load_bench

pytest.importorskip("torchvision")
pytestmark = pytest.mark.slow

CATALOGUE = load_bench("catalogue")


@pytest.mark.parametrize("name", CATALOGUE.SAMPLE)
def test_sample_model_matches_torchvision_metadata(name: str) -> None:
    row = CATALOGUE.torchvision_row(name)
    assert row.status == "ok", f"{name} ({row.input}): {row.status}"
    if row.group in ("classification", "quantization"):  # every op of these has a defined cost
        assert row.coverage == 100.0, f"{name}: coverage {row.coverage} %"


def test_the_check_can_fail() -> None:
    row = CATALOGUE.Row("m", "classification", params=10, ref_params=10, macs=1_010_000_000, ref_macs=1e9)
    row.check()
    assert row.status == "differs: MACs +1.00 %"
    row = CATALOGUE.Row("m", "classification", params=9, ref_params=10, macs=10**9, ref_macs=1.0004e9)
    row.check()
    assert row.status == "differs: params -1"  # MACs within the metadata's rounding

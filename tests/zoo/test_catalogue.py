"""A representative sample of the catalogue sweep (bench/catalogue.py, `make catalogue`): one model
of every torchvision family and task, read statically and checked against torchvision's weight
metadata (`num_params` exactly, `_ops` MACs within 0.1 % or its rounding), with 100 % coverage
where every op has a defined cost. The whole sweep's table is docs/catalogue.md. The second
reference of --flop-counter, FlopCounterMode on a real forward (bench/flop_reference.py): its
check, its attention settings and its worker process."""

from __future__ import annotations

import pytest

from tests.helpers import load_bench

pytest.importorskip("torchvision")

import torch  # noqa: E402
from torch import nn  # noqa: E402

CATALOGUE = load_bench("catalogue")
FLOP_REFERENCE = load_bench("flop_reference")


@pytest.mark.slow
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


def test_the_flop_counter_check_can_fail() -> None:
    # within the metadata's rounding but 0.2 % off FlopCounterMode: differs
    row = CATALOGUE.Row("m", "classification", macs=1_000_200_000, ref_macs=1.0e9, fc_macs=998_200_000)
    row.check()
    assert row.status == "differs: FlopCounter +0.20 %"
    assert row.fc_diff == pytest.approx(2_000_000 / 998_200_000)
    row = CATALOGUE.Row("m", "classification", macs=1_000_200_000, ref_macs=1.0e9, fc_macs=999_300_000)
    row.check()
    assert row.status == "ok"  # 0.09 %: within 0.1 %
    row = CATALOGUE.Row("m", "classification", macs=1000, fc_macs=0)  # FlopCounterMode saw no op it costs
    row.check()
    assert row.status == "differs: FlopCounter 1,000 MACs against 0"
    row = CATALOGUE.Row("m", "classification", macs=10**9, ref_macs=1.1e9, fc_macs=900_000_000)
    row.check()
    assert row.status == "differs: MACs -9.09 %, FlopCounter +11.11 %"


def test_the_flop_counter_column_shows_the_difference_to_the_unit() -> None:
    rows = [
        CATALOGUE.Row("a", "classification", macs=1000, ref_macs=1000.0, fc_macs=999),
        CATALOGUE.Row("b", "detection", macs=5, notes=["FlopCounter not run"]),
    ]
    text = CATALOGUE.to_markdown(rows, 1.0)
    assert "| MACs | reference | diff | FlopCounter | diff | coverage |" in text
    assert "| 1,000 | 1,000 | +0.000 % | 999 | +1 | " in text
    assert "| 5 |  |  |  |  | " in text
    assert "| FlopCounter |" not in CATALOGUE.to_markdown(rows[1:], 1.0)  # no column without --flop-counter


class TinyEncoder(nn.Module):
    """A linear embedding and one MultiheadAttention block: what a ViT's encoder layer costs."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, 32)
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        return self.attn(x, x, x, need_weights=False)[0]


def test_the_reference_counts_attention_with_the_math_kernel_only() -> None:
    """FlopCounterMode has no formula for MultiheadAttention's fast path
    (aten._native_multi_head_attention): without `math_attention` it counts no attention at all."""
    from torch.utils.flop_counter import FlopCounterMode

    model, x = TinyEncoder().eval(), torch.randn(1, 10, 8)
    embed = 10 * 8 * 32
    attention = 3 * 10 * 32 * 32 + 10 * 10 * 32 + 10 * 10 * 32 + 10 * 32 * 32  # in-proj, QK^T, AV, out-proj
    macs, by_op = FLOP_REFERENCE.count(model, [x])
    assert macs == embed + attention
    assert {"aten.addmm", "aten.bmm"} <= set(by_op)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:  # the fast path: only the embedding is counted
        model(x)
    assert counter.get_total_flops() // 2 == embed


@pytest.mark.slow
def test_the_worker_counts_a_model_and_survives_a_failure() -> None:
    """The sweep's worker process (small models share it): a real forward of a torchvision model
    gives zooprof's MACs; a builder that fails costs that one row, and the worker goes on."""
    import zooprof

    worker = FLOP_REFERENCE.Worker()
    try:
        with pytest.raises(RuntimeError, match="^TypeError: .*nope"):
            worker.run({"name": "mnasnet0_5", "shapes": "1x3x64x64", "layout": {"nope": 1}, "device": "cpu"}, 300)
        counted = worker.run({"name": "mnasnet0_5", "shapes": "1x3x64x64", "layout": {}, "device": "cpu"}, 300)
        pid = worker.proc.pid
        on_meta = worker.run({"name": "mnasnet0_5", "shapes": "1x3x64x64", "layout": {}, "device": "meta"}, 300)
        assert worker.proc.pid == pid  # one process for both
    finally:
        worker.close()
    assert worker.proc is None
    macs = zooprof.inspect("torchvision:mnasnet0_5", input_shape="1x3x64x64", use_cache=False).totals["macs"]
    assert counted["macs"] == on_meta["macs"] == macs
    assert counted["device"] == "cpu" and on_meta["device"] == "meta"

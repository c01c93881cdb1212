"""A hostile TorchScript file measured (memory-limit issue): its forward holds 256 MiB per sample,
so batch 16 wants 4 GiB. Run by the hostile harness (tests/hostile/harness.py: a child process
with a time limit, an address-space limit above what the model wants, its writes watched), that
row fails on `--memory-limit 2G` with the reason, batch 1 is measured, the exit code is 1, and
nothing escapes: no traceback, nothing written next to the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.harness import Case, check

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.slow


def test_torchscript_forward_past_the_memory_limit_fails_its_row(tmp_path: Path) -> None:
    from tests.runtimes.bad_models import AllocatePerSample

    folder = tmp_path / "model"
    folder.mkdir()
    model = folder / "allocates.pt"
    torch.jit.script(AllocatePerSample().eval()).save(str(model))
    case = Case(
        "ts-profile-allocates-4GiB",
        model,
        args=("profile",),
        expect=(1,),  # a failed row, not a refused file
        extra=(
            "--input-shape",
            "1x4",
            "--batch",
            "16,1",
            "--max-time",
            "0.5",
            "--memory-limit",
            "2G",
            "-o",
            "out.json",
        ),
        memory_limit=16 * 2**30,  # address space: torch's ~4 GiB plus the 4 GiB the forward wants, with room
    )
    work = tmp_path / "work"
    _, out, _ = check(case, work)
    assert "failed (memory)" in out
    over, one = json.loads((work / "out.json").read_text())["measurements"]
    assert over["failure"] == "memory" and over["memory_limit_bytes"] == 2 * 2**30
    assert "over the memory limit of 2 GiB (--memory-limit)" in over["reason"]
    assert over["worker_seconds"] < 45
    assert one["status"] == "ok", one.get("reason")
    assert one["worker_peak_rss_bytes"] >= 256 * 2**20

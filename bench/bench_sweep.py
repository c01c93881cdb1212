"""Sweep overhead per cell: what `zooprof sweep` adds to each cell besides its measurement.

A 6-cell assignment (mnist-mlp, torch and onnxruntime, batches 1, 2, 4) swept into a fresh
database; per cell, the cell's wall time minus its worker's whole life (`worker_seconds`: start,
load, measure): reading the cached static analysis, building the options, writing the row,
progress. Target: under 1 s per cell.

    .venv/bin/python bench/bench_sweep.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 1.0
ASSIGNMENT = """
[assignment]
name = "overhead"
[matrix]
models = ["mnist-mlp"]
runtimes = ["torch", "onnxruntime"]
batches = [1, 2, 4]
[measure]
max_time = 0.3
"""


def main() -> int:
    from zooprof.sweep.matrix import load_assignment
    from zooprof.sweep.run import SweepOptions, sweep

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.toml"
        path.write_text(ASSIGNMENT)
        report = sweep(load_assignment(path), SweepOptions(db=Path(folder) / "runs.db"))
    overhead = report.cell_overhead_s
    median = statistics.median(overhead)
    print(
        f"{report.ok} cells ok of {report.total}; sweep overhead per cell: median {median:.3f} s, "
        f"max {max(overhead):.3f} s (the first cell reads the static analysis once)"
    )
    print(f"target under {TARGET_S} s per cell: {'met' if median < TARGET_S else 'NOT met'}")
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

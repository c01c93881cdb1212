"""Results for the results-database tests, made from tests/golden/tiny_result.json, and the
worker of the concurrent-writers test (a spawned process imports it from here)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from zooprof.result.document import ProfileResult

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "tiny_result.json"


def tiny_dict() -> dict[str, Any]:
    """The golden result as plain JSON: the independent reference of the tests' expected figures."""
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def tiny() -> ProfileResult:
    """The golden result with its three measurements (torch ok with power, onnxruntime ok, tflite
    failed), edited so that every flat column has a figure to check: a CI on the first row, batch 4
    on the second (MACs per call scale with it)."""
    result = ProfileResult.load(GOLDEN)
    result.measurements[0]["timing"]["latency_ms"]["ci_rel_halfwidth"] = 0.0125
    result.measurements[1]["batch"] = 4
    return result


def single(result: ProfileResult, index: int) -> ProfileResult:
    """`result` with only its measurement `index`: what the database stores for that row."""
    one = copy.deepcopy(result)
    one.measurements = [one.measurements[index]]
    return one


def static(result: ProfileResult) -> ProfileResult:
    """`result` without measurements (a static analysis)."""
    return ProfileResult(result.model, result.totals, result.layers, result.environment, result.graph, [])


def add_concurrently(path: str, writer: int, count: int, barrier: Any) -> None:
    """One writer process: wait for the others, then add `count` one-row results, one transaction
    each, marked sweep=f"w{writer}", repeat=k."""
    import zooprof.results

    result = single(tiny(), 0)
    barrier.wait()
    with zooprof.results.open(path) as db:
        for k in range(count):
            db.add(result, cell=f"w{writer}-{k}", sweep=f"w{writer}", machine="m", repeat=k)

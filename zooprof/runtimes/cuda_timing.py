"""Timing a model on a CUDA device: CUDA events inside the one timing harness.

A GPU call returns before the GPU has finished, so a host clock around it measures the launch,
not the work. Each timed call here is what a hand-written CUDA-event loop does:

    start.record(); run(); end.record(); end.synchronize(); start.elapsed_time(end)

`EventTimedCall` is that call; its `now()` is a clock that advances by exactly the event-measured
time of each call, so `zooprof.measure.timing.measure` (warm-up, adaptive stop, statistics) runs
unchanged, one call per sample (no blocks: every sample is one synchronised inference). Beside
it, the host's wall clock is read before `start.record()` and after `end.synchronize()` of each
call: the synchronised wall time (launch and synchronisation included), and the timestamps a
power sensor's trace is cut with (both use time.perf_counter).

`cuda` is `torch.cuda` (tests pass a fake with `Event` and `synchronize`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from zooprof.measure.stats import Stats
from zooprof.measure.timing import measure

OVERHEAD_CALLS = 200


class EventTimedCall:
    """`run` timed with a pair of CUDA events per call; `now()` is the sum of the event times."""

    def __init__(self, run: Callable[[], object], cuda: Any, wall: Callable[[], float] = time.perf_counter) -> None:
        self.run, self.cuda, self.wall = run, cuda, wall
        self.start = cuda.Event(enable_timing=True)
        self.end = cuda.Event(enable_timing=True)
        self.elapsed = 0.0
        self.walls: list[tuple[float, float]] = []  # (before start.record, after end.synchronize) per call

    def __call__(self) -> None:
        w0 = self.wall()
        self.start.record()
        self.run()
        self.end.record()
        self.end.synchronize()
        w1 = self.wall()
        self.elapsed += self.start.elapsed_time(self.end) / 1000.0
        self.walls.append((w0, w1))

    def now(self) -> float:
        return self.elapsed


def harness_overhead(cuda: Any, wall: Callable[[], float] = time.perf_counter, calls: int = OVERHEAD_CALLS) -> dict:
    """What the harness adds per iteration, from `calls` timed calls of an empty function:
    `event_floor_us` is the median event time of nothing (inside every measured sample), and
    `per_iteration_us` the median host time of one timed call (record, record, synchronise,
    bookkeeping; outside the event time, but it bounds how often a sample can be taken)."""
    timed = EventTimedCall(lambda: None, cuda, wall)
    events = []
    for _ in range(calls):
        before = timed.elapsed
        timed()
        events.append(timed.elapsed - before)
    host = sorted(b - a for a, b in timed.walls)
    events.sort()
    return {
        "event_floor_us": round(events[len(events) // 2] * 1e6, 3),
        "per_iteration_us": round(host[len(host) // 2] * 1e6, 3),
        "calls": calls,
    }


def measure_cuda(
    run: Callable[[], object],
    cuda: Any,
    *,
    max_time: float,
    target_ci: float,
    min_time: float = 0.0,
    progress: Callable[[int, float, float], object] | None = None,
    wall: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """The timing record of `run` on the GPU: `latency_ms` from CUDA events (the harness's
    statistics), `wall_latency_ms` from the synchronised host clock, host `timestamps_s`."""
    timed = EventTimedCall(run, cuda, wall)
    result = measure(
        timed,
        clock=timed,
        max_time=max_time,
        target_ci=target_ci,
        min_time=min_time,
        batch_calibration=False,
        progress=progress,
    )
    n = len(result.samples)
    walls = timed.walls[-n:]  # one call per sample: the last n calls are the samples, in order
    record = result.to_dict()
    record["timestamps_s"] = [[a, b] for a, b in walls]
    record["timer"] = "cuda events (start.record, run, end.record, end.synchronize per sample)"
    record["wall_latency_ms"] = Stats.from_samples([b - a for a, b in walls]).to_dict()
    record["wall_time_s"] = walls[-1][1] - timed.walls[0][0]
    record["harness_overhead"] = harness_overhead(cuda, wall)
    return record

"""CUDA-event timing inside the one harness, with a fake `torch.cuda`: each sample is exactly the
event-measured time of one call (what a hand-written start.record / end.record / synchronize loop
gives), the wall clock beside it includes launch and sync, timestamps are on the host clock."""

from __future__ import annotations

from typing import Any

import pytest

from zooprof.runtimes.cuda_timing import EventTimedCall, harness_overhead, measure_cuda


class FakeGpu:
    """A GPU with a clock of its own: `run()` queues `durations[i]` seconds of work; an event's
    time is the GPU time when it is reached. The host clock advances by `host_cost` per API call."""

    def __init__(self, durations: list[float], host_cost: float = 2e-6) -> None:
        self.durations = durations
        self.calls = 0
        self.gpu_time = 0.0
        self.host = 100.0
        self.host_cost = host_cost
        self.synchronized = 0

    def wall(self) -> float:
        return self.host

    def run(self) -> None:
        self.host += self.host_cost  # the launch
        self.gpu_time = max(self.gpu_time, self.host) + self.durations[min(self.calls, len(self.durations) - 1)]
        self.calls += 1

    # the torch.cuda surface that cuda_timing uses
    def Event(self, enable_timing: bool = False) -> Any:  # noqa: N802 (torch's name)
        gpu = self
        assert enable_timing

        class Event:
            t = 0.0

            def record(self) -> None:
                gpu.host += gpu.host_cost
                self.t = max(gpu.gpu_time, gpu.host)
                gpu.gpu_time = self.t

            def synchronize(self) -> None:
                gpu.host = max(gpu.host, self.t) + gpu.host_cost
                gpu.synchronized += 1

            def elapsed_time(self, end: Any) -> float:
                return (end.t - self.t) * 1000.0  # ms, as torch

        return Event()


def test_a_timed_call_is_the_event_time_of_one_call() -> None:
    gpu = FakeGpu([0.003])
    timed = EventTimedCall(gpu.run, gpu, gpu.wall)
    timed()
    # start event at host t, launch 2 us later, 3 ms of work: 3.002 ms between the events
    assert timed.now() == pytest.approx(0.003002, abs=1e-9)
    ((w0, w1),) = timed.walls
    assert w1 - w0 == pytest.approx(0.003002 + 2e-6 + 2e-6, abs=1e-9)  # + the start record + the sync


def test_measure_cuda_median_is_the_programmed_gpu_time() -> None:
    durations = [0.010] * 5 + [0.0044, 0.0045, 0.0046] * 400  # a slow first few calls, then ~4.5 ms
    gpu = FakeGpu(durations, host_cost=1e-6)
    record = measure_cuda(gpu.run, gpu, max_time=5.0, target_ci=0.01, wall=gpu.wall)
    lat = record["latency_ms"]
    assert lat["median"] == pytest.approx(4.5 + 0.001, abs=0.11)  # the event pair holds the launch (1 us)
    assert record["calls_per_sample"] == 1  # never blocks of calls: every sample one synchronised inference
    assert record["timer"].startswith("cuda events")
    wall = record["wall_latency_ms"]
    assert wall["n"] == lat["n"] and wall["median"] > lat["median"]  # launch + sync on the host clock
    stamps = record["timestamps_s"]
    assert len(stamps) == lat["n"] and all(a < b for a, b in stamps)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(stamps, stamps[1:], strict=False))
    assert stamps[0][0] >= 100.0  # the host clock, where a power sensor's trace lives
    assert record["harness_overhead"]["calls"] == 200


def test_harness_overhead_of_an_empty_call() -> None:
    gpu = FakeGpu([0.0], host_cost=3e-6)
    over = harness_overhead(gpu, gpu.wall, calls=50)
    # nothing between the events but the host's next record call: 3 us; host: 3 API calls of 3 us
    assert over["event_floor_us"] == pytest.approx(3.0, abs=1e-6)
    assert over["per_iteration_us"] == pytest.approx(9.0, abs=1e-6)

"""The one timing harness every runtime uses, and the statistics it reports.

    result = measure(lambda: session.run(None, feeds))
    result.stats.median            # seconds per call
    result.to_dict()["latency_ms"]  # {"median": ..., "p90": ..., "ci_low": ..., "cv": ..., "n": ...}

`measure` warms the function up until its time per call is stable, groups very fast calls
into blocks so the clock's resolution and overhead do not matter, records a monotonic
(start, end) pair per sample, and stops once the median is known to `target_ci` (or a
time or sample budget runs out). `Stats` (zooprof.measure.stats) is the summary of a list of per-call durations.
The clock is injected: tests pass a `FakeClock` and programmed durations instead of
sleeping. Method and formulas: docs/measurement.md. Standard library only.
"""

# Python 3.6 compatible, standard library only: the board agent imports this module on a Jetson
# (zooprof.remote.BOARD_MODULES; JetPack 4.6 ships Python 3.6). Hence typing's List/Optional forms
# (annotations are evaluated there), NamedTuple for the record, and Literal/Protocol for type
# checkers only (Python 3.8).

import math
import operator
import statistics
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from zooprof.measure.stats import (
    CI_LEVEL,
    EXACT_CI_MAX_N,
    OUTLIER_METHOD,
    PERCENTILE_METHOD,
    Stats,
    median_ci_method,
    median_ci_ranks,
    percentile,
    rel_halfwidth,
)

if TYPE_CHECKING:  # novm (vermin: read by type checkers only, never run, so 3.8's Literal and Protocol are fine)
    from typing import Literal, Protocol

    StopReason = Literal["target_ci", "max_time", "max_iterations"]

    class Clock(Protocol):
        """Where the harness reads time: `now()` is monotonic seconds from an arbitrary origin."""

        def now(self) -> float: ...

else:
    StopReason = str  # at run time: one of "target_ci", "max_time", "max_iterations"

    class Clock:
        """Where the harness reads time: `now()` is monotonic seconds from an arbitrary origin.

        Any object with such a `now()` will do (a typing.Protocol for type checkers).
        """

        def now(self) -> float:
            raise NotImplementedError


ProgressCallback = Callable[[int, float, float], object]
"""progress(iterations_done, elapsed_seconds, ci_rel_halfwidth), called at each CI check."""

MAX_CALLS_PER_SAMPLE = 1_000_000
CHECK_COST_RATIO = 50
"""The adaptive stop checks the CI only after 50x the time its last check took (<= 2% overhead)."""


class PerfCounterClock:
    """The real clock, `time.perf_counter` (monotonic, the finest resolution Python offers)."""

    now = staticmethod(time.perf_counter)


class FakeClock:
    """A clock that moves only when told to, so timing logic can be tested without sleeping.

    A timed stand-in calls `advance(dt)` (or is built with `workload`) to "take" dt seconds.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.time = start

    def now(self) -> float:
        """The current fake time in seconds."""
        return self.time

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        if seconds < 0:
            raise ValueError(f"a monotonic clock cannot go back ({seconds} s)")
        self.time += seconds

    def workload(self, durations: Union[Sequence[float], Callable[[int], float]]) -> "FakeFunction":
        """A function to time whose i-th call (from 0) takes `durations[i]` seconds of fake time.

        `durations` is a list (its last value repeats once it runs out) or a function of i.
        """
        return FakeFunction(self, durations)


class FakeFunction:
    """A callable that advances a `FakeClock` by programmed durations; `calls` counts its calls."""

    def __init__(self, clock: FakeClock, durations: Union[Sequence[float], Callable[[int], float]]) -> None:
        if not callable(durations) and not durations:
            raise ValueError("durations is empty")
        self.clock = clock
        self.durations = durations
        self.calls = 0

    def __call__(self) -> None:
        d = self.durations
        i = self.calls
        self.calls += 1
        self.clock.advance(d(i) if callable(d) else d[min(i, len(d) - 1)])


# ---------------------------------------------------------------------------------------------
# statistics


class TimingResult(NamedTuple):
    """What `measure` found: the statistics, every sample with its timestamps, and how it ran.

    Immutable (a NamedTuple: a frozen dataclass needs Python 3.7).
    """

    stats: Stats
    samples: List[float]
    """Seconds per call, one per sample (a block's duration / calls_per_sample)."""
    timestamps: List[Tuple[float, float]]
    """(start, end) clock readings of each sample, same order and length as `samples`."""
    warmup_iterations: int
    """Calls made during warm-up (not part of the samples)."""
    warmup_stable: bool
    """True when warm-up ended because times settled; False when its time budget ran out."""
    calls_per_sample: int
    stop_reason: StopReason
    wall_time: float
    """Seconds from the first warm-up call to the last sample (warm-up, calibration, measurement)."""

    def to_dict(self, include_samples: bool = True) -> Dict[str, Any]:
        """JSON-ready record: `latency_ms` statistics, samples in ms, timestamps in clock seconds."""
        d: Dict[str, Any] = {
            "latency_ms": self.stats.to_dict(),
            "warmup_iterations": self.warmup_iterations,
            "warmup_stable": self.warmup_stable,
            "calls_per_sample": self.calls_per_sample,
            "stop_reason": self.stop_reason,
            "wall_time_s": self.wall_time,
            "method": {
                "percentile": PERCENTILE_METHOD,
                "median_ci": self.stats.ci_method,
                "ci_level": CI_LEVEL,
                "outliers": OUTLIER_METHOD,
            },
        }
        if include_samples:
            d["samples_ms"] = [s * 1e3 for s in self.samples]
            d["timestamps_s"] = [[a, b] for a, b in self.timestamps]
        return d


def measure(
    fn: Callable[[], object],
    *,
    clock: Optional[Clock] = None,
    min_warmup: int = 3,
    max_warmup_time: float = 5.0,
    warmup_stable_rel: float = 0.05,
    warmup_window: int = 5,
    target_ci: float = 0.01,
    min_iterations: int = 10,
    max_iterations: int = 100_000,
    max_time: float = 20.0,
    batch_calibration: bool = True,
    min_sample_time: float = 1e-4,
    min_time: float = 0.0,
    progress: Optional[ProgressCallback] = None,
) -> TimingResult:
    """Time `fn()` (no arguments; bind inputs beforehand) to a stated precision of its median.

    1. Warm-up: call until the median time per call of the last `warmup_window` samples is
       within `warmup_stable_rel` of the window before (at least `min_warmup` calls; at most
       `max_warmup_time` seconds, after which the result says `warmup_stable=False`).
    2. Calibration (during warm-up, if `batch_calibration`): a function faster than
       `min_sample_time` is timed in blocks of `calls_per_sample` calls per clock reading,
       so that a sample lasts at least about `min_sample_time`; samples are per-call times.
    3. Measurement: samples until the 95% CI of the median is within `target_ci` of it
       (checked from `min_iterations` samples on, each time there are ~5% more), or
       `max_iterations` samples, or `max_time` seconds (a budget: `min_iterations` samples
       are always taken). With `min_time`, the CI stop waits until the samples span at least
       that many seconds (capped by `max_time`): a power sensor needs a window long enough
       to hold enough of its samples.

    An iteration is one sample. `progress(iterations, elapsed, ci_rel)` is called at each check.
    """
    _check_options(
        min_warmup,
        max_warmup_time,
        warmup_stable_rel,
        warmup_window,
        target_ci,
        min_iterations,
        max_iterations,
        max_time,
        min_sample_time,
    )
    now = (clock if clock is not None else PerfCounterClock()).now
    t_start = now()
    warmup_calls, calls, stable = _warm_up(
        fn,
        now,
        min_warmup,
        max_warmup_time,
        warmup_stable_rel,
        warmup_window,
        min_sample_time if batch_calibration else 0.0,
    )
    starts, ends, reason = _sample(
        _repeat(fn, calls),
        now,
        target_ci,
        min_iterations,
        max_iterations,
        max_time,
        progress,
        min(max(min_time, 0.0), max_time),
    )
    samples = [(b - a) / calls for a, b in zip(starts, ends)]
    return TimingResult(
        stats=Stats.from_samples(samples),
        samples=samples,
        timestamps=list(zip(starts, ends)),
        warmup_iterations=warmup_calls,
        warmup_stable=stable,
        calls_per_sample=calls,
        stop_reason=reason,
        wall_time=ends[-1] - t_start,
    )


def _check_options(
    min_warmup: int,
    max_warmup_time: float,
    warmup_stable_rel: float,
    warmup_window: int,
    target_ci: float,
    min_iterations: int,
    max_iterations: int,
    max_time: float,
    min_sample_time: float,
) -> None:
    problems = [
        msg
        for bad, msg in [
            (min_warmup < 1, "min_warmup must be >= 1 (calibration needs one call)"),
            (warmup_window < 1, "warmup_window must be >= 1"),
            (
                min(max_warmup_time, warmup_stable_rel, target_ci, max_time) < 0,
                "max_warmup_time, warmup_stable_rel, target_ci and max_time must be >= 0",
            ),
            (not 1 <= min_iterations <= max_iterations, "need 1 <= min_iterations <= max_iterations"),
            (min_sample_time <= 0, "min_sample_time must be > 0"),
        ]
        if bad
    ]
    if problems:
        raise ValueError("; ".join(problems))


def _repeat(fn: Callable[[], object], calls: int) -> Callable[[], object]:
    """`fn` itself, or a function that calls it `calls` times (one block = one sample)."""
    if calls == 1:
        return fn
    loop = range(calls)

    def block() -> None:
        for _ in loop:
            fn()

    return block


def _warm_up(
    fn: Callable[[], object],
    now: Callable[[], float],
    min_warmup: int,
    max_time: float,
    stable_rel: float,
    window: int,
    min_sample_time: float,
) -> Tuple[int, int, bool]:
    """Run warm-up samples; return (calls made, calls per sample to measure with, stable?)."""
    per_call: List[float] = []
    calls, total = 1, 0
    t_begin = now()
    while True:
        target = _repeat(fn, calls)
        t0 = now()
        target()
        t1 = now()
        total += calls
        dt = t1 - t0
        per_call.append(dt / calls)
        if dt < min_sample_time and calls < MAX_CALLS_PER_SAMPLE:
            # aim 20% above the floor so noise does not push the next block under it again;
            # a reading of 0 (below the clock's resolution) grows the block tenfold
            grow = 10.0 if dt <= 0 else 1.2 * min_sample_time / dt
            calls = min(MAX_CALLS_PER_SAMPLE, max(calls + 1, math.ceil(calls * grow)))
            continue  # the block size changed: the next sample is the first at the new size
        if total >= min_warmup and len(per_call) >= 2 * window:
            prev = statistics.median(per_call[-2 * window : -window])
            if abs(statistics.median(per_call[-window:]) - prev) <= stable_rel * prev:
                return total, calls, True
        if total >= min_warmup and t1 - t_begin >= max_time:
            return total, calls, False


def _sample(
    target: Callable[[], object],
    now: Callable[[], float],
    target_ci: float,
    min_iterations: int,
    max_iterations: int,
    max_time: float,
    progress: Optional[ProgressCallback],
    min_time: float = 0.0,
) -> Tuple[List[float], List[float], StopReason]:
    """The measurement loop: (starts, ends, stop reason).

    Per sample: two clock readings, two appends, two comparisons. The CI check sorts all
    samples, so it waits until there are ~5% more samples than at the last check *and*
    CHECK_COST_RATIO times its own cost has passed (checks then cost <= 2% of the time).
    """
    starts: List[float] = []
    ends: List[float] = []
    add_start, add_end = starts.append, ends.append
    t_begin = now()
    deadline = t_begin + max_time
    earliest = t_begin + min_time
    n, n_next, t_next = 0, 1, t_begin
    while True:
        t0 = now()
        target()
        t1 = now()
        add_start(t0)
        add_end(t1)
        n += 1
        if n < n_next and t1 < deadline:
            continue
        if t1 < t_next and t1 < deadline and n < max_iterations:  # due by count, not yet by time
            period = (t1 - t_begin) / n
            n_next = min(n + (max(1, int((t_next - t1) / period)) if period > 0 else 1), max_iterations)
            continue
        ci_rel = _median_ci_rel(starts, ends)
        if progress is not None:
            progress(n, t1 - t_begin, ci_rel)
        if n >= min_iterations and ci_rel <= target_ci and t1 >= earliest:
            return starts, ends, "target_ci"
        if n >= max_iterations:
            return starts, ends, "max_iterations"
        if n >= min_iterations and t1 >= deadline:
            return starts, ends, "max_time"
        n_next = min(n + max(1, n // 20), max_iterations)
        t_after = now()
        t_next = t_after + CHECK_COST_RATIO * (t_after - t1)


def _median_ci_rel(starts: List[float], ends: List[float]) -> float:
    """Relative CI half-width of the median of the samples so far (blocks need no per-call scaling)."""
    xs = sorted(map(operator.sub, ends, starts))
    j, k = median_ci_ranks(len(xs))
    return rel_halfwidth(xs[j - 1], xs[k - 1], percentile(xs, 50))


__all__ = [
    "CI_LEVEL",
    "EXACT_CI_MAX_N",
    "OUTLIER_METHOD",
    "PERCENTILE_METHOD",
    "Clock",
    "FakeClock",
    "FakeFunction",
    "PerfCounterClock",
    "ProgressCallback",
    "Stats",
    "StopReason",
    "TimingResult",
    "measure",
    "median_ci_method",
    "median_ci_ranks",
    "percentile",
]

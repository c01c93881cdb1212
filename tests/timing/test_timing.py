"""The timing harness: statistics with known answers, and measure() driven by a fake clock."""

from __future__ import annotations

import json
import math
import random

import pytest

from zooprof.measure.timing import (
    EXACT_CI_MAX_N,
    FakeClock,
    Stats,
    TimingResult,
    measure,
    median_ci_method,
    median_ci_ranks,
    percentile,
)

# ---------------------------------------------------------------------------------------------
# statistics


def test_stats_of_1_to_100() -> None:
    s = Stats.from_samples([float(x) for x in range(100, 0, -1)])  # order must not matter
    assert s.n == 100
    assert s.median == 50.5
    assert s.p90 == pytest.approx(90.1)  # h = 99 * 0.90 = 89.1 -> x[89] + 0.1 (x[90] - x[89]) = 90.1
    assert s.p95 == pytest.approx(95.05)  # h = 94.05
    assert s.p99 == pytest.approx(99.01)  # h = 98.01
    assert s.mean == 50.5
    assert s.std == pytest.approx(math.sqrt(100 * 101 / 12))  # sample variance of 1..n is n(n+1)/12
    assert s.cv == pytest.approx(s.std / 50.5)
    assert (s.min, s.max) == (1, 100)
    # 95% CI of the median for n = 100 from a binomial table: P(B <= 39) = 0.0176 <= 0.025 < P(B <= 40)
    # = 0.0284, so the ranks are 40 and 101 - 40 = 61.
    assert (s.ci_low, s.ci_high) == (40, 61)
    assert s.ci_rel_halfwidth == pytest.approx((61 - 40) / 2 / 50.5)
    assert s.outliers == 0  # Q1 = 25.75, Q3 = 75.25, fences -48.5 .. 149.5


def test_percentiles_match_numpy_linear() -> None:
    np = pytest.importorskip("numpy")
    rng = random.Random(7)
    for n in (1, 2, 3, 10, 37, 1000):
        xs = sorted(rng.lognormvariate(0, 1) for _ in range(n))
        for q in (0, 25, 50, 90, 95, 99, 100):
            assert percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)), rel=1e-12)
        s = Stats.from_samples(xs)
        if n > 1:
            assert s.std == pytest.approx(float(np.std(xs, ddof=1)), rel=1e-9)
        assert s.mean == pytest.approx(float(np.mean(xs)), rel=1e-12)


def test_constant_sample() -> None:
    s = Stats.from_samples([0.1] * 50)
    assert s.std == 0 and s.cv == 0
    assert s.mean == s.median == s.p99 == s.ci_low == s.ci_high == 0.1
    assert s.ci_rel_halfwidth == 0 and s.outliers == 0


def test_outliers_are_counted_by_tukey_fences() -> None:
    s = Stats.from_samples([float(x) for x in range(1, 99)] + [1000.0, 5000.0])
    assert s.outliers == 2


def test_single_sample_has_no_spread() -> None:
    s = Stats.from_samples([0.002])
    assert s.median == s.ci_low == s.ci_high == 0.002
    assert math.isnan(s.std) and math.isnan(s.cv)
    d = s.to_dict()
    assert d["std"] is None and d["cv"] is None  # not measured is n/a, never 0
    with pytest.raises(ValueError):
        Stats.from_samples([])


def test_to_dict_keys_and_units() -> None:
    d = Stats.from_samples([0.001, 0.002, 0.003]).to_dict()
    assert set(d) == {
        "median",
        "p90",
        "p95",
        "p99",
        "mean",
        "std",
        "min",
        "max",
        "ci_low",
        "ci_high",
        "cv",
        "n",
        "outliers",
        "ci_rel_halfwidth",
    }
    assert d["median"] == pytest.approx(2.0) and d["min"] == pytest.approx(1.0)  # milliseconds
    assert d["n"] == 3 and d["cv"] == pytest.approx(0.5)  # unitless


def _coverage(a: int, b: int, n: int) -> float:
    """P(x(a) <= true median <= x(b)) = P(a <= B <= b - 1), B ~ Binomial(n, 1/2) samples below it."""
    return sum(math.comb(n, i) for i in range(a, b)) / 2**n


def test_ci_ranks_known_values() -> None:
    # standard tables (e.g. Conover, Practical Nonparametric Statistics): n=6 -> (1,6), 9 -> (2,8), 10 -> (2,9)
    assert median_ci_ranks(6) == (1, 6)
    assert median_ci_ranks(8) == (1, 8)
    assert median_ci_ranks(9) == (2, 8)
    assert median_ci_ranks(10) == (2, 9)
    assert median_ci_ranks(100) == (40, 61)
    # normal approximation above EXACT_CI_MAX_N: j = floor(5000 - 1.96 * 100 / 2) = 4902, k = 10001 - 4902
    assert median_ci_ranks(10_000) == (4902, 5099)
    assert median_ci_method(10_000).startswith("normal")
    # below 6 samples no interval reaches 95%: the widest one
    assert median_ci_ranks(5) == (1, 5) and "below 95%" in median_ci_method(5)


def test_exact_ci_ranks_reach_95_percent_and_are_tightest() -> None:
    for n in range(6, 120):
        j, k = median_ci_ranks(n)
        assert k == n + 1 - j
        assert _coverage(j, k, n) >= 0.95, n
        assert _coverage(j + 1, k - 1, n) < 0.95, n  # the next narrower symmetric interval falls short


def test_normal_approximation_continues_the_exact_ranks() -> None:
    j_exact, _ = median_ci_ranks(EXACT_CI_MAX_N)
    j_normal, _ = median_ci_ranks(EXACT_CI_MAX_N + 1)
    assert abs(j_exact - j_normal) <= 1


# ---------------------------------------------------------------------------------------------
# measure() with a fake clock


def _check_timestamps(r: TimingResult) -> None:
    assert len(r.timestamps) == len(r.samples) == r.stats.n
    previous_end = -math.inf
    for (start, end), per_call in zip(r.timestamps, r.samples, strict=True):
        assert previous_end <= start <= end
        assert per_call == pytest.approx((end - start) / r.calls_per_sample)
        previous_end = end


def test_constant_durations_stop_on_target_ci_at_min_iterations() -> None:
    clock = FakeClock()
    fn = clock.workload([0.002])
    r = measure(fn, clock=clock)
    assert r.stop_reason == "target_ci"
    assert r.stats.n == 10  # min_iterations: the CI is 0 wide from the start
    assert r.calls_per_sample == 1
    assert r.stats.median == pytest.approx(0.002)
    assert r.warmup_stable and r.warmup_iterations == 10  # two windows of 5
    assert fn.calls == r.warmup_iterations + r.stats.n
    _check_timestamps(r)


def test_noisy_durations_run_out_of_time() -> None:
    rng = random.Random(3)
    clock = FakeClock()
    # lognormal, sigma 1: the CI of the median narrows as ~2.5/sqrt(n), so 1% would take ~60,000
    # samples; 5 s of ~1.6 ms calls give ~3,000
    fn = clock.workload(lambda i: 0.001 * rng.lognormvariate(0, 1))
    r = measure(fn, clock=clock, max_time=5.0)
    assert r.stop_reason == "max_time"
    assert r.stats.ci_rel_halfwidth > 0.01
    start, end = r.timestamps[0][0], r.timestamps[-1][1]
    assert 5.0 <= end - start < 5.0 + r.samples[-1] + 1e-9  # stops at the first sample past the budget
    _check_timestamps(r)


def test_max_iterations() -> None:
    rng = random.Random(4)
    clock = FakeClock()
    r = measure(clock.workload(lambda i: rng.uniform(0.001, 0.002)), clock=clock, max_iterations=37)
    assert r.stop_reason == "max_iterations" and r.stats.n == 37


def test_min_iterations_are_taken_even_past_max_time() -> None:
    clock = FakeClock()
    r = measure(clock.workload([1.0, 3.0]), clock=clock, max_time=2.0, min_iterations=4, max_warmup_time=0.0)
    assert r.stats.n == 4


def test_warmup_covers_slow_first_calls() -> None:
    clock = FakeClock()
    fn = clock.workload(lambda i: 0.010 if i < 5 else 0.001)
    r = measure(fn, clock=clock)
    assert r.warmup_stable
    assert r.warmup_iterations >= 5
    assert all(s == pytest.approx(0.001) for s in r.samples)
    assert r.calls_per_sample == 1
    _check_timestamps(r)


def test_warmup_gives_up_after_its_budget() -> None:
    rng = random.Random(5)
    clock = FakeClock()
    fn = clock.workload(lambda i: rng.uniform(0.001, 0.002))
    r = measure(fn, clock=clock, max_warmup_time=0.5, max_time=0.1, warmup_stable_rel=0.0)
    assert not r.warmup_stable
    warmup_time = r.timestamps[0][0] - FakeClock().now()
    assert 0.5 <= warmup_time < 0.5 + 0.002 + 1e-9


def test_fast_function_is_timed_in_blocks() -> None:
    clock = FakeClock()
    r = measure(clock.workload([1e-6]), clock=clock)
    assert r.calls_per_sample > 1
    assert r.calls_per_sample * 1e-6 >= 1e-4  # a block lasts at least min_sample_time
    assert r.stats.median == pytest.approx(1e-6, rel=1e-6)
    assert all(s == pytest.approx(1e-6, rel=1e-6) for s in r.samples)
    _check_timestamps(r)


def test_no_blocks_when_calibration_is_off() -> None:
    clock = FakeClock()
    r = measure(clock.workload([1e-6]), clock=clock, batch_calibration=False)
    assert r.calls_per_sample == 1


def test_progress_is_reported() -> None:
    calls: list[tuple[int, float, float]] = []
    clock = FakeClock()
    rng = random.Random(6)
    measure(
        clock.workload(lambda i: rng.uniform(0.001, 0.0012)),
        clock=clock,
        max_time=1.0,
        progress=lambda n, elapsed, ci: calls.append((n, elapsed, ci)),
    )
    assert calls
    ns = [c[0] for c in calls]
    assert ns == sorted(ns) and len(set(ns)) == len(ns)
    assert all(e >= 0 and ci >= 0 for _, e, ci in calls)


def test_result_to_dict_is_json() -> None:
    clock = FakeClock()
    r = measure(clock.workload([0.002]), clock=clock)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["stop_reason"] == "target_ci"
    assert d["latency_ms"]["median"] == pytest.approx(2.0)
    assert len(d["samples_ms"]) == len(d["timestamps_s"]) == d["latency_ms"]["n"]
    assert "samples_ms" not in r.to_dict(include_samples=False)


def test_bad_options_are_refused() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="min_iterations"):
        measure(clock.workload([0.001]), clock=clock, min_iterations=10, max_iterations=5)
    with pytest.raises(ValueError, match="min_warmup"):
        measure(clock.workload([0.001]), clock=clock, min_warmup=0)
    with pytest.raises(ValueError):
        clock.advance(-1.0)


# ---------------------------------------------------------------------------------------------
# the real clock


def test_real_clock_smoke() -> None:
    r = measure(lambda: sum(range(20)), max_time=0.05, max_warmup_time=0.05)
    assert r.calls_per_sample > 1  # well under 100 us per call
    assert 0 < r.stats.median < 1e-4
    _check_timestamps(r)


def test_harness_overhead_per_iteration_is_small() -> None:
    # Loose bound for noisy CI machines; the 5 us target is checked by a benchmark, not here.
    n = 20_000
    r = measure(
        lambda: None, batch_calibration=False, min_iterations=n, max_iterations=n, max_time=5.0, max_warmup_time=0.05
    )
    per_iteration = (r.timestamps[-1][1] - r.timestamps[0][0]) / r.stats.n
    assert per_iteration < 50e-6


def test_min_time_holds_the_ci_stop_until_the_window_is_long_enough() -> None:
    clock = FakeClock()
    r = measure(clock.workload([0.002]), clock=clock, min_time=1.0)
    assert r.stop_reason == "target_ci"
    span = r.timestamps[-1][1] - r.timestamps[0][0]
    assert 1.0 <= span < 1.2  # checks come every ~5 % more samples
    capped = measure(clock.workload([0.002]), clock=clock, min_time=5.0, max_time=0.5)
    assert 0.5 <= capped.timestamps[-1][1] - capped.timestamps[0][0] < 0.6  # max_time caps min_time

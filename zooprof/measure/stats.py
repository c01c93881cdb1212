"""The statistics of a list of per-call durations: percentiles, the median's confidence interval,
spread and outliers (`Stats`). Standard library only; the timing harness (`timing.measure`) and
every runtime report these. Method and formulas: docs/measurement.md."""

# Python 3.6 compatible, standard library only: the board agent imports this module on a Jetson
# (zooprof.remote.BOARD_MODULES; JetPack 4.6 ships Python 3.6). Hence typing's List/Optional forms
# (annotations are evaluated there), NamedTuple for the record, lru_cache and a literal z.

import math
from bisect import bisect_left, bisect_right
from functools import lru_cache
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

CI_LEVEL = 0.95
PERCENTILE_METHOD = "linear (Hyndman-Fan type 7, numpy's default)"
OUTLIER_METHOD = "Tukey fences, 1.5 x IQR"
EXACT_CI_MAX_N = 1000
"""Up to this many samples the median's CI uses exact binomial ranks; above, the normal approximation."""

_Z = 1.9599639845400536
"""statistics.NormalDist().inv_cdf(0.5 + CI_LEVEL / 2), written out: NormalDist needs Python 3.8."""


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, by linear interpolation (type 7).

    Same as numpy.percentile's default: position h = (n-1)q/100, value interpolated between
    the order statistics at floor(h) and floor(h)+1 (0-based).
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    h = (n - 1) * q / 100
    i = math.floor(h)
    if i >= n - 1:
        return sorted_values[-1]
    lo = sorted_values[i]
    return lo + (h - i) * (sorted_values[i + 1] - lo)


def median_ci_ranks(n: int) -> Tuple[int, int]:
    """1-based ranks (j, k) such that [x(j), x(k)] is a 95% CI of the median of n samples.

    Distribution-free (order statistics): the number of samples below the true median is
    Binomial(n, 1/2). n <= EXACT_CI_MAX_N: j is the largest rank with P(B <= j-1) <= 2.5%
    (exact); above, j = floor(n/2 - 1.96 sqrt(n)/2). Both take k = n + 1 - j (symmetric).
    For n < 6 no interval reaches 95%: (1, n), the widest there is, is returned.
    """
    if n < 1:
        raise ValueError("a CI needs at least one sample")
    j = _exact_lower_rank(n) if n <= EXACT_CI_MAX_N else math.floor(n / 2 - _Z * math.sqrt(n) / 2)
    j = max(1, j)
    return j, n + 1 - j


def median_ci_method(n: int) -> str:
    """How `median_ci_ranks(n)` was computed, in words (stored beside the figures)."""
    if n < 6:
        return "min-max (n < 6: coverage below 95%)"
    return "exact binomial order statistics" if n <= EXACT_CI_MAX_N else "normal approximation to binomial ranks"


@lru_cache(maxsize=None)
def _exact_lower_rank(n: int) -> int:
    # largest j with P(B <= j-1) <= (1 - CI_LEVEL)/2, B ~ Bin(n, 1/2); integer arithmetic, exact:
    # P(B <= j-1) = sum_{i<j} C(n, i) / 2^n <= 1/40  <=>  40 * sum <= 2^n
    limit = 2**n
    tail_den = round(2 / (1 - CI_LEVEL))  # 40
    cum, term, j = 0, 1, 0  # term = C(n, j)
    while tail_den * (cum + term) <= limit:
        cum += term
        term = term * (n - j) // (j + 1)
        j += 1
    return j  # P(B <= j-1) = cum <= 1/40, P(B <= j) > 1/40; 0 when even P(B = 0) is too large


def rel_halfwidth(low: float, high: float, median: float) -> float:
    width = high - low
    if width == 0:
        return 0.0
    return width / 2 / median if median > 0 else math.inf


class Stats(NamedTuple):
    """Summary of per-call durations in seconds: robust centre and spread, tails, CI of the median.

    Immutable (a NamedTuple: a frozen dataclass needs Python 3.7).
    """

    n: int
    median: float
    p90: float
    p95: float
    p99: float
    mean: float
    std: float
    """Sample standard deviation (ddof=1); NaN for n = 1."""
    min: float
    max: float
    cv: float
    """Coefficient of variation std/mean; NaN for n = 1."""
    ci_low: float
    ci_high: float
    ci_rel_halfwidth: float
    """(ci_high - ci_low) / 2 / median: the precision the adaptive stop aims at."""
    outliers: int
    """Samples outside Tukey's fences [Q1 - 1.5 IQR, Q3 + 1.5 IQR]."""
    ci_method: str

    @classmethod
    def from_samples(cls, samples: Sequence[float]) -> "Stats":
        """Compute every figure from a list of durations (seconds, any order)."""
        xs = sorted(samples)
        n = len(xs)
        if n == 0:
            raise ValueError("no samples to summarise")
        lo, hi = xs[0], xs[-1]
        if n == 1:
            mean, std = lo, math.nan
        elif lo == hi:  # exact for a constant sample (a float mean need not round back to the value)
            mean, std = lo, 0.0
        else:
            mean = math.fsum(xs) / n
            std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
        cv = std if math.isnan(std) or std == 0 else (std / mean if mean > 0 else math.inf)
        median = percentile(xs, 50)
        j, k = median_ci_ranks(n)
        q1, q3 = percentile(xs, 25), percentile(xs, 75)
        fence = 1.5 * (q3 - q1)
        outliers = bisect_left(xs, q1 - fence) + n - bisect_right(xs, q3 + fence)
        return cls(
            n=n,
            median=median,
            p90=percentile(xs, 90),
            p95=percentile(xs, 95),
            p99=percentile(xs, 99),
            mean=mean,
            std=std,
            min=lo,
            max=hi,
            cv=cv,
            ci_low=xs[j - 1],
            ci_high=xs[k - 1],
            ci_rel_halfwidth=rel_halfwidth(xs[j - 1], xs[k - 1], median),
            outliers=outliers,
            ci_method=median_ci_method(n),
        )

    def to_dict(self) -> Dict[str, Optional[Union[float, int]]]:
        """The `latency_ms` record: times in milliseconds; cv, n, outliers, ci_rel_halfwidth unitless.

        A figure that cannot be computed (std of one sample) is None, never 0.
        """
        d: Dict[str, Optional[Union[float, int]]] = {
            key: finite(getattr(self, key) * 1e3)
            for key in ("median", "p90", "p95", "p99", "mean", "std", "min", "max", "ci_low", "ci_high")
        }
        d.update(cv=finite(self.cv), ci_rel_halfwidth=finite(self.ci_rel_halfwidth), n=self.n, outliers=self.outliers)
        return d


def finite(x: float) -> Optional[float]:
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------------------------------
# the harness

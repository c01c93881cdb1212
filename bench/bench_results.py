"""Speed of the results database (issue 15; results in docs/benchmarks.md).

10,000 results of realistic size (one measurement with power figures, 20 layers; first without
timed samples, then with 200 timed samples and their time stamps, as `zooprof profile` stores them:
perf_counter readings in whole nanoseconds and their differences in ms, full-precision floats)
are added in one `add_many` transaction to a new file, then read back: all rows as dicts (`query`), as a pandas
DataFrame (`frame`), and, for information, as ProfileResults (`results`, which parses every JSON).
Target: under 1 s for the insert and for each flat read. Exits 1 if one is missed; stops if a result
read back is not the one added.

    .venv/bin/python bench/bench_results.py [--n 10000] [--reps 3]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 1.0


def realistic_results(n: int, samples: int) -> list[Any]:
    """`n` one-measurement results made from tests/golden/tiny_result.json, grown to 20 layers and
    `samples` timed samples (with time stamps), each its own objects with its own latency. The
    samples are made as zooprof.measure.timing makes them: time.perf_counter() readings (whole
    nanoseconds / 1e9) and each sample the difference of two, in ms."""
    from zooprof.result.document import ProfileResult

    base = ProfileResult.load(ROOT / "tests" / "golden" / "tiny_result.json")
    layers = []
    for i in range(20):
        layer = copy.deepcopy(base.layers[i % len(base.layers)])
        layer["name"] = f"features.{i}.{layer['name']}"
        layers.append(layer)
    m = copy.deepcopy(base.measurements[0])
    m["timing"]["latency_ms"].update({"n": samples or 100, "ci_rel_halfwidth": 0.004, "ci_low": 0.49, "ci_high": 0.51})
    if samples:
        stamps = []
        for k in range(samples):
            start_ns = 2_390_189_863_740 + k * 513_417 + (k * 7919) % 977 * 131
            stamps.append([start_ns / 1e9, (start_ns + 500_000 + (k * 7919) % 97 * 1_013) / 1e9])
        m["timing"]["samples_ms"] = [(end - start) * 1e3 for start, end in stamps]
        m["timing"]["timestamps_s"] = stamps
    one = ProfileResult(base.model, base.totals, layers, base.environment, None, [m])
    out = []
    for i in range(n):
        r = copy.deepcopy(one)  # no shared objects: each result is encoded in full, as in a sweep
        r.measurements[0]["batch"] = 1 + i % 8
        r.measurements[0]["timing"]["latency_ms"]["median"] = 0.5 + i * 1e-5
        out.append(r)
    return out


def once(results: list[Any], folder: Path) -> dict[str, float]:
    import zooprof.results

    path = folder / f"bench-{time.monotonic_ns()}.db"
    entries = [(r, f"cell{i:05d}", "bench", "machine", "15W", 0) for i, r in enumerate(results)]
    times = {}
    with zooprof.results.open(path) as db:
        t0 = time.perf_counter()
        db.add_many(entries)
        times["insert"] = time.perf_counter() - t0
    with zooprof.results.open(path) as db:  # a fresh reader, as a later `zooprof results` would be
        t0 = time.perf_counter()
        rows = db.query()
        times["query"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        frame = db.frame()
        times["frame"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        back = db.results()
        times["results"] = time.perf_counter() - t0
    assert len(rows) == len(frame) == len(back) == len(results)
    assert back == results, "a result read back is not the one added"
    times["file_mb"] = path.stat().st_size / 1e6
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    missed = []
    for samples in (0, 200):
        results = realistic_results(args.n, samples)
        size = len(json.dumps(results[0].to_dict(), separators=(",", ":")))
        with tempfile.TemporaryDirectory() as tmp:
            runs = [once(results, Path(tmp)) for _ in range(args.reps)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{args.n:,} results of {size / 1000:.1f} KB JSON (20 layers, 1 measurement, {samples} timed samples "
            f"with time stamps); median of {args.reps} runs"
        )
        print(
            f"  add_many (one transaction):  {med['insert']:.3f} s ({med['insert'] / args.n * 1e6:.0f} us per result)"
        )
        print(f"  query() all rows as dicts:   {med['query']:.3f} s")
        print(f"  frame() all rows:            {med['frame']:.3f} s")
        print(f"  results() all (parses JSON): {med['results']:.3f} s (information; no target)")
        print(f"  file size: {med['file_mb']:.0f} MB")
        missed += [f"{k} ({samples} samples)" for k in ("insert", "query", "frame") if med[k] >= TARGET_S]
    print(
        f"target under {TARGET_S:.0f} s for insert, query, frame: {'missed: ' + ', '.join(missed) if missed else 'met'}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Size and render time of the HTML report (issue 6 targets; results in docs/benchmarks.md).

vgg16 with per-layer data, in two forms:

- ``measured``: a saved ``zooprof profile vgg16 --per-layer`` result (``--result PATH``; made
  with ``zooprof profile vgg16 --per-layer --max-time 3 -o /tmp/vgg16.json``), if given.
- ``synthetic``: the static vgg16 result with six measurements of a realistic worst case
  (torch, onnxruntime, tflite x batch 1, 8): 2,000 timed samples each (with their time stamps),
  per-layer times for all 40 layers, and a 20 s power timeline at 50 Hz with three rails.

Size: bytes of the rendered file (target < 5 MB). Render time: Chromium's navigation start to
the `zooprof-rendered` performance mark that the report's script sets when the table and all
charts are drawn (target < 2 s), headless, median of --reps page loads after one warm-up.
Exits 1 if a target fails.

    .venv/bin/python bench/bench_html.py [--result /tmp/vgg16.json] [--reps 5] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_BYTES = 5_000_000
MAX_RENDER_S = 2.0
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def synthetic() -> Any:
    """vgg16's static result with six measurement rows of realistic (large) size."""
    from zooprof.measure.static import inspect

    result = inspect("vgg16")
    names = [layer["name"] for layer in result.layers]
    n = 2000
    rows = []
    for runtime in ("torch", "onnxruntime", "tflite"):
        for batch in (1, 8):
            base = 240.0 * batch**0.9
            samples = [base * (1 + 0.03 * ((i * 7919) % 101) / 100 + (0.25 if i % 97 == 0 else 0.0)) for i in range(n)]
            ordered = sorted(samples)
            secs = [0.0005 + 0.01 * ((i * 37) % 11) / 11 for i in range(len(names))]
            t = [round(i * 0.02, 3) for i in range(1000)]
            rows.append(
                {
                    "runtime": runtime,
                    "batch": batch,
                    "threads": None,
                    "input_shapes": [[batch, 3, 224, 224]],
                    "status": "ok",
                    "timing": {
                        "latency_ms": {
                            "median": ordered[n // 2],
                            "p90": ordered[int(0.9 * n)],
                            "p95": ordered[int(0.95 * n)],
                            "p99": ordered[int(0.99 * n)],
                            "mean": sum(samples) / n,
                            "std": 5.0,
                            "min": ordered[0],
                            "max": ordered[-1],
                            "ci_low": ordered[n // 2 - 40],
                            "ci_high": ordered[n // 2 + 40],
                            "cv": 0.02,
                            "ci_rel_halfwidth": 0.004,
                            "n": n,
                            "outliers": 21,
                        },
                        "warmup_iterations": 5,
                        "warmup_stable": True,
                        "calls_per_sample": 1,
                        "stop_reason": "max_time",
                        "wall_time_s": 500.0,
                        "samples_ms": samples,
                        "timestamps_s": [
                            [1000.0 + i * 0.25, 1000.0 + i * 0.25 + s / 1000] for i, s in enumerate(samples)
                        ],
                    },
                    "session": {"engine": runtime, "version": "x", "threads": 6},
                    "memory": {
                        "rss_before_load_bytes": 10**8,
                        "rss_after_load_bytes": 7 * 10**8,
                        "peak_rss_bytes": 8 * 10**8,
                        "peak_covers": "the timed run",
                    },
                    "throughput_per_s": batch * 1000 / ordered[n // 2],
                    "achieved_gflops": 100.0,
                    "per_layer": {
                        "method": "fx interpreter, wall time per layer",
                        "iterations": 20,
                        "layers": [
                            {"name": nm, "seconds": s, "share": s / sum(secs)}
                            for nm, s in zip(names, secs, strict=True)
                        ],
                        "sum_seconds": sum(secs),
                        "pass_seconds": sum(secs) * 1.02,
                        "sum_vs_median": 0.95,
                    },
                    "power": {
                        "status": "ok",
                        "sensor": "jetson-sysfs",
                        "total_source": "VDD_IN",
                        "sample_hz_requested": 50,
                        "sample_hz_achieved": 49.6,
                        "samples": 1000,
                        "window_s": 20.0,
                        "iterations": 80,
                        "avg_power_mw": 9100.0,
                        "idle_power_mw": 4200.0,
                        "idle_seconds": 3.0,
                        "energy_per_inference_mj": 1200.0,
                        "energy_per_inference_raw_mj": 2200.0,
                        "rails": {
                            k: {"unit": "mW", "avg": 2000.0, "energy_mj": 40000.0}
                            for k in ("VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0")
                        },
                        "timeline": {
                            "t_s": t,
                            "total_mw": [9000 + (i * 37) % 400 for i in range(1000)],
                            "rails": {
                                k: [2000 + (i * 13) % 200 for i in range(1000)]
                                for k in ("VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0")
                            },
                        },
                    },
                }
            )
    r = copy.deepcopy(result)
    r.measurements = rows
    return r


def render_times(paths: list[Path], reps: int) -> dict[Path, list[float]]:
    """Seconds from navigation start to the report's `zooprof-rendered` mark, per page load."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1280,1000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    times: dict[Path, list[float]] = {p: [] for p in paths}
    try:
        for rep in range(reps + 1):  # the first round warms up
            for path in paths:
                driver.get("about:blank")
                driver.get(path.as_uri())
                WebDriverWait(driver, 30).until(
                    lambda d: d.execute_script("return document.documentElement.getAttribute('data-rendered')") == "1"
                )
                ms = driver.execute_script("return performance.getEntriesByName('zooprof-rendered')[0].startTime")
                if rep:
                    times[path].append(ms / 1000.0)
    finally:
        driver.quit()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--result", type=Path, help="a saved `zooprof profile vgg16 --per-layer` result.json")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="also write the results as Markdown to this file")
    args = parser.parse_args(argv)

    from zooprof.renderers.html import render_html
    from zooprof.result.document import ProfileResult

    cases: dict[str, Any] = {}
    if args.result:
        cases[f"measured ({args.result.name})"] = ProfileResult.load(args.result)
    cases["synthetic worst case (6 measurements)"] = synthetic()
    tmp = Path(tempfile.mkdtemp(prefix="zooprof-bench-html-"))
    paths = {}
    for i, (name, result) in enumerate(cases.items()):
        paths[name] = tmp / f"report{i}.html"
        paths[name].write_text(render_html(result), encoding="utf-8")
    times = render_times(list(paths.values()), args.reps)

    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Chromium headless; median of {args.reps} page loads after one warm-up.",
        "",
        "| report | layers | measurements | samples | size (bytes) | size target | render (s) | render target | "
        "result |",
        "|---|---:|---:|---:|---:|---|---:|---|---|",
    ]
    failed = False
    for name, result in cases.items():
        size = paths[name].stat().st_size
        median = statistics.median(times[paths[name]])
        ok = size < MAX_BYTES and median < MAX_RENDER_S
        failed |= not ok
        samples = sum(len((m.get("timing") or {}).get("samples_ms") or []) for m in result.measurements)
        lines.append(
            f"| {name} | {len(result.layers)} | {len(result.measurements)} | {samples:,} | {size:,} | "
            f"< {MAX_BYTES:,} | {median:.3f} | < {MAX_RENDER_S} | {'PASS' if ok else 'FAIL'} |"
        )
    lines.append("")
    for name in cases:
        lines.append(f"- {name}: render samples (s): " + ", ".join(f"{t:.3f}" for t in times[paths[name]]))
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

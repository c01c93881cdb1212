"""Benchmarks for `zooprof profile` (issue: latency, throughput and memory).

Targets (docs/benchmarks.md):
  overhead      harness overhead per iteration timing an empty callable < 5 us
  fidelity-torch  zooprof's median for mobilenet_v2 on PyTorch, 1 thread, within 5 % of
                torch.utils.benchmark.Timer(...).blocked_autorange() in the same run
  fidelity-ort  zooprof's median on ONNX Runtime, 1 thread, within 5 % of a plain timed
                loop of session.run
  repeat        five consecutive `zooprof profile mobilenet_v2 --runtime onnxruntime`
                medians within a 5 % band
  default-run   `zooprof profile mobilenet_v2` (one runtime, defaults) under 20 s

Run: make bench (or python bench/bench_profile.py [--markdown PATH] [--only NAME,...]).
Exit code 1 if a target fails. Nothing else should run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ZOOPROF = Path(sys.executable).parent / "zooprof"


def bench_overhead() -> dict[str, Any]:
    from zooprof.timing import measure

    values = []
    for _ in range(5):
        r = measure(lambda: None, batch_calibration=False, target_ci=1e-9, max_iterations=200_000, max_time=2.0,
                    min_iterations=10)
        first, last = r.timestamps[0][0], r.timestamps[-1][1]
        values.append((last - first) / len(r.timestamps) * 1e6)
    value = statistics.median(values)
    return {"name": "overhead", "value": f"{value:.2f} us/iteration", "target": "< 5 us", "ok": value < 5}


def _zooprof_median(runtime: str, threads: int = 1, max_time: float = 20.0) -> float:
    import zooprof.profile

    r = zooprof.profile.profile("mobilenet_v2", runtime=runtime, threads=threads, max_time=max_time,
                                target_ci=0.005, use_cache=False)
    m = r.measurements[0]
    if m["status"] != "ok":
        raise RuntimeError(m["reason"])
    return float(m["timing"]["latency_ms"]["median"])


def bench_fidelity_torch() -> dict[str, Any]:
    import torch
    import torch.utils.benchmark as tb
    import torchvision

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2().eval()
    x = torch.rand(1, 3, 224, 224)
    timer = tb.Timer(stmt="with torch.inference_mode(): model(x)", globals={"torch": torch, "model": model, "x": x},
                     num_threads=1)
    for _ in range(10):
        with torch.inference_mode():
            model(x)
    reference = timer.blocked_autorange(min_run_time=10).median * 1000
    ours = _zooprof_median("torch")
    diff = abs(ours - reference) / reference
    return {"name": "fidelity-torch", "value": f"zooprof {ours:.3f} ms vs Timer {reference:.3f} ms ({100 * diff:.1f} %)",
            "target": "within 5 %", "ok": diff <= 0.05}


def bench_fidelity_ort() -> dict[str, Any]:
    import numpy as np
    import onnxruntime as ort

    ours = _zooprof_median("onnxruntime")  # also fills the conversion cache
    from zooprof.runtimes.onnxruntime_rt import onnx_file

    path, _ = onnx_file({"model": "mobilenet_v2", "input_shapes": [[1, 3, 224, 224]]})
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    feeds = {sess.get_inputs()[0].name: np.random.default_rng(0).random((1, 3, 224, 224)).astype("float32")}
    for _ in range(20):
        sess.run(None, feeds)
    times = []
    end = time.perf_counter() + 10
    while time.perf_counter() < end:
        t = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - t)
    reference = statistics.median(times) * 1000
    diff = abs(ours - reference) / reference
    return {"name": "fidelity-ort", "value": f"zooprof {ours:.3f} ms vs loop {reference:.3f} ms ({100 * diff:.1f} %)",
            "target": "within 5 %", "ok": diff <= 0.05}


def _cli_profile(args: list[str]) -> tuple[float, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        start = time.perf_counter()
        subprocess.run([str(ZOOPROF), "profile", *args, "-o", str(out)], check=True, capture_output=True, cwd=ROOT)
        return time.perf_counter() - start, json.loads(out.read_text())


def bench_repeat() -> dict[str, Any]:
    medians = []
    for _ in range(5):
        _, r = _cli_profile(["mobilenet_v2", "--runtime", "onnxruntime"])
        medians.append(r["measurements"][0]["timing"]["latency_ms"]["median"])
    band = (max(medians) - min(medians)) / min(medians)
    return {"name": "repeat", "value": f"medians {', '.join(f'{m:.3f}' for m in medians)} ms: band {100 * band:.1f} %",
            "target": "within 5 %", "ok": band <= 0.05}


def bench_default_run() -> dict[str, Any]:
    seconds, r = _cli_profile(["mobilenet_v2"])
    m = r["measurements"][0]
    return {"name": "default-run", "value": f"{seconds:.1f} s (stop: {m['timing']['stop_reason']})",
            "target": "< 20 s", "ok": seconds < 20}


BENCHES = {"overhead": bench_overhead, "fidelity-torch": bench_fidelity_torch, "fidelity-ort": bench_fidelity_ort,
           "repeat": bench_repeat, "default-run": bench_default_run}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", type=Path, help="also write the results as a Markdown table")
    parser.add_argument("--only", help="comma-separated subset: " + ",".join(BENCHES))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHES)
    rows = []
    for name in names:
        print(f"running {name}...", file=sys.stderr, flush=True)
        try:
            rows.append(BENCHES[name]())
        except Exception as exc:  # a failing benchmark is a failed target, reported with its reason
            rows.append({"name": name, "value": f"error: {type(exc).__name__}: {exc}", "target": "", "ok": False})
    lines = ["| benchmark | result | target | pass |", "|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['value']} | {r['target']} | {'PASS' if r['ok'] else 'FAIL'} |" for r in rows]
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

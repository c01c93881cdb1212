"""GPU benchmark: zooprof's torch-on-CUDA figures against a hand-written CUDA-event loop, in one run.

For mobilenet_v2 and resnet50 at batch 1 and 8, eager and CUDA-graph replay (and fp16 rows):
zooprof's median (`zooprof.profile(..., device="cuda")`, its own worker process) against the
median of a plain loop in this process (random weights, 30 warm-ups, 200 timed iterations of
start.record(); model(x); end.record(); end.synchronize()). Pass: within 5 %. Also reported:
peak device memory, the harness's overhead per iteration (target under 20 us), and the GPU's power
read both ways (zooprof's NVML sensor during a GPU row; pynvml's energy counter around the hand
loop), with a CPU row under NVML that must show n/a.

    .venv/bin/python bench/bench_gpu.py [--quick] [--markdown docs/benchmarks.md]

Without a CUDA GPU it prints why it skipped and exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOLERANCE = 0.05
OVERHEAD_TARGET_US = 20.0
CASES = [  # model, batch, precision, cuda graphs
    ("mobilenet_v2", 1, None, False),
    ("mobilenet_v2", 1, None, True),
    ("mobilenet_v2", 8, None, False),
    ("mobilenet_v2", 8, None, True),
    ("resnet50", 1, None, False),
    ("resnet50", 1, None, True),
    ("resnet50", 8, None, False),
    ("resnet50", 8, None, True),
    ("mobilenet_v2", 1, "fp16", False),
    ("resnet50", 8, "fp16", True),
]
MARK_BEGIN = "<!-- bench_gpu:begin -->"
MARK_END = "<!-- bench_gpu:end -->"


def skip_reason() -> str | None:
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if torch.version.cuda is None:
        return f"torch {torch.__version__} is built without CUDA"
    if not torch.cuda.is_available():
        return f"no CUDA GPU found by torch {torch.__version__}"
    return None


def hand_loop(model_name: str, batch: int, precision: str | None, graphs: bool, iters: int = 200) -> float:
    """Median ms of the plain CUDA-event loop (the reference zooprof must match)."""
    import torch
    import torchvision

    torch.manual_seed(0)
    dtype = torch.float16 if precision == "fp16" else torch.float32
    model = getattr(torchvision.models, model_name)().eval().to("cuda", dtype)
    x = torch.rand(batch, 3, 224, 224, device="cuda", dtype=dtype)
    with torch.inference_mode():

        def call() -> Any:
            return model(x)

        if graphs:
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(3):
                    model(x)
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                model(x)
            call = graph.replay  # type: ignore[assignment]
        for _ in range(30):
            call()
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        times = []
        for _ in range(iters):
            start.record()
            call()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    return statistics.median(times)


def zooprof_row(model: str, batch: int, precision: str | None, graphs: bool, max_time: float, **extra: Any) -> dict:
    import zooprof

    result = zooprof.profile(
        model,
        runtime="torch",
        batch=batch,
        device=extra.pop("device", "cuda"),
        precision=precision,
        cuda_graphs=graphs,
        max_time=max_time,
        use_cache=True,
        **extra,
    )
    return result.measurements[0]


def nvml_power_both_ways(max_time: float) -> list[str]:
    """GPU power by zooprof's NVML sensor (a GPU row) and by pynvml's energy counter around the
    hand loop; a CPU row under NVML must be n/a."""
    try:
        import pynvml  # type: ignore[import-untyped]

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    except Exception as exc:  # noqa: BLE001
        return [f"- power: skipped (NVML not usable here: {type(exc).__name__}: {exc})"]
    from zooprof.sensors.sampling import PowerOptions

    options = PowerOptions("nvml", 50.0, 2.0)
    gpu = zooprof_row("resnet50", 8, None, False, max_time, power=options)
    cpu = zooprof_row("mobilenet_v2", 1, None, False, max_time, power=options, device="cpu")
    e0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 5.0:
        hand_loop("resnet50", 8, None, False, iters=50)
        n += 50
    seconds = time.perf_counter() - t0
    e1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    gp, cp = gpu.get("power") or {}, cpu.get("power") or {}
    return [
        f"- power, zooprof NVML sensor, resnet50 b8 on cuda:0: avg {gp.get('avg_power_mw')} mW, "
        f"energy/inference {gp.get('energy_per_inference_mj')} mJ (status {gp.get('status')})",
        f"- power, pynvml energy counter around the hand loop (model build included): "
        f"avg {(e1 - e0) / seconds:.0f} mW over {seconds:.1f} s",
        f"- power, mobilenet_v2 b1 on the CPU under NVML: {cp.get('status')} ({cp.get('reason')})",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 1 cases only, shorter budgets")
    parser.add_argument("--max-time", type=float, default=5.0, help="zooprof's time budget per row, s")
    parser.add_argument("--markdown", help="write the results between the bench_gpu markers of this file")
    args = parser.parse_args(argv)
    why = skip_reason()
    if why:
        print(f"bench_gpu: skipped: {why}")
        return 0
    import torch

    gpu = torch.cuda.get_device_name(0)
    lines = [
        f"GPU: {gpu}; torch {torch.__version__}, CUDA {torch.version.cuda}; "
        f"{time.strftime('%Y-%m-%d')}; tolerance {TOLERANCE:.0%}",
        "",
        "| model | batch | precision | mode | zooprof median ms | hand loop ms | diff | wall ms | "
        "overhead µs/iter | peak alloc MB | ok |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    failed = 0
    for model, batch, precision, graphs in CASES:
        if args.quick and batch != 1:
            continue
        row = zooprof_row(model, batch, precision, graphs, args.max_time)
        if row["status"] != "ok":
            failed += 1
            lines.append(f"| {model} | {batch} | {precision or 'fp32'} | {'graph' if graphs else 'eager'} | "
                         f"failed: {row.get('reason')} | | | | | | no |")  # fmt: skip
            continue
        ref = hand_loop(model, batch, precision, graphs)
        median = row["timing"]["latency_ms"]["median"]
        diff = median / ref - 1
        over = row["timing"]["harness_overhead"]["per_iteration_us"]
        ok = abs(diff) <= TOLERANCE and over < OVERHEAD_TARGET_US
        failed += not ok
        peak = row["memory"]["device"]["peak_allocated_bytes"] / 1e6
        lines.append(
            f"| {model} | {batch} | {row['precision']} | {row['session']['mode']} | {median:.3f} | {ref:.3f} | "
            f"{diff:+.1%} | {row['timing']['wall_latency_ms']['median']:.3f} | {over:.1f} | {peak:.1f} | "
            f"{'yes' if ok else 'NO'} |"
        )
        print(lines[-1], flush=True)
    lines.append("")
    lines += nvml_power_both_ways(args.max_time)
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        path = Path(args.markdown)
        doc = path.read_text()
        if MARK_BEGIN in doc and MARK_END in doc:
            head, rest = doc.split(MARK_BEGIN, 1)
            doc = head + MARK_BEGIN + "\n" + text + "\n" + MARK_END + rest.split(MARK_END, 1)[1]
        else:
            doc += f"\n## GPU (bench/bench_gpu.py)\n\n{MARK_BEGIN}\n{text}\n{MARK_END}\n"
        path.write_text(doc)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

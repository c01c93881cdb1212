"""Performance benchmark of `zooprof inspect` against torchinfo (run by `make bench`).

Three measurements, each repeated and summarised by its median wall time:

a. in-process: ``zooprof.inspect("vgg16", use_cache=False)`` (meta-device build, trace,
   analysis) vs ``torchinfo.summary(torchvision.models.vgg16(), input_size=(1, 3, 224, 224),
   verbose=0)`` (real model construction and a real forward pass), both in one worker
   process after the imports and one warm-up call of each. Target: zooprof >= 30x faster.
b. whole command, as subprocesses: ``zooprof inspect vgg16 --no-cache`` (cold) and
   ``zooprof inspect vgg16`` with a filled cache (a temporary ZOOPROF_CACHE_DIR) vs a
   ``python -c "import torch, torchvision, torchinfo; torchinfo.summary(...)"`` script.
   Targets: cold <= 0.75x the torchinfo script, cached <= 0.15x.
c. ``zooprof --help``: target < 0.5 s.
d. ``zooprof inspect swin_t.onnx --no-cache`` on torchvision's swin_t exported by the
   TorchScript exporter (random weights, opset 17; exported once into a temporary folder):
   reading ONNX is shape inference plus rounds of constant folding. Target < 4 s.

The commands are run round-robin (one of each per round) so drift in machine load hits
all of them alike, after one untimed run of each to warm the OS file cache. Exits 1 if a
target fails.

    .venv/bin/python bench/bench_inspect.py [--reps 5] [--inprocess-reps 7] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MODEL = "vgg16"
SHAPE = (1, 3, 224, 224)
TORCHINFO_SCRIPT = (
    "import torch, torchvision, torchinfo; "
    "torchinfo.summary(torchvision.models.vgg16(), input_size=(1,3,224,224), verbose=0)"
)


@dataclass
class Result:
    """One benchmark line: zooprof's median time against a baseline (or an absolute limit)."""

    name: str
    zooprof_s: float
    baseline_s: float | None
    target: str
    ok: bool
    samples: list[float]
    baseline_samples: list[float] | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """zooprof time / baseline time (None for an absolute target)."""
        return self.zooprof_s / self.baseline_s if self.baseline_s else None


def zooprof_script() -> Path:
    """The `zooprof` console script installed next to this interpreter (the venv's bin/)."""
    path = Path(sys.executable).parent / ("zooprof.exe" if os.name == "nt" else "zooprof")
    if not path.exists():
        raise SystemExit(f"no zooprof script next to {sys.executable}; run `make install` first")
    return path


def time_command(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of one run of `cmd`; a non-zero exit aborts the benchmark with its stderr."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed


@dataclass
class Command:
    """A command line to time; with `hit_dir`, a run that adds an entry there was a cache miss."""

    argv: list[str]
    env: dict[str, str]
    hit_dir: Path | None = None


def _entries(folder: Path | None) -> set[str]:
    return {p.name for p in folder.glob("*.json")} if folder and folder.is_dir() else set()


def round_robin(commands: dict[str, Command], reps: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Run every command once untimed, then `reps` timed rounds of one run each.

    A run of a `hit_dir` command that writes a new cache entry was a miss (the cache key
    covers zooprof's own source files, so an edit during the benchmark invalidates it): it
    is counted and run again, up to 3 times, so the samples time cache hits only.
    """
    for c in commands.values():
        time_command(c.argv, c.env)
    samples: dict[str, list[float]] = {k: [] for k in commands}
    misses: dict[str, int] = dict.fromkeys(commands, 0)
    for _ in range(reps):
        for key, c in commands.items():
            for _attempt in range(4):
                before = _entries(c.hit_dir)
                elapsed = time_command(c.argv, c.env)
                if c.hit_dir is None or _entries(c.hit_dir) <= before:
                    break
                misses[key] += 1
            samples[key].append(elapsed)
    return samples, misses


# --------------------------------------------------------------------------------------
# a. in-process (runs in a worker process so the parent stays free of torch)


def inprocess_worker(reps: int) -> None:
    """Time zooprof.inspect and torchinfo.summary alternately in this process; print JSON."""
    import warnings

    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    import torch  # noqa: F401
    import torchinfo
    import torchvision

    import zooprof

    import_s = time.perf_counter() - started

    def run_zooprof() -> None:
        zooprof.inspect(MODEL, use_cache=False)

    def run_torchinfo() -> None:
        torchinfo.summary(torchvision.models.vgg16(), input_size=SHAPE, verbose=0)

    def timed(fn: Callable[[], None]) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    run_zooprof()  # warm-up: lazy imports, first-call caches
    run_torchinfo()
    zoo: list[float] = []
    tinfo: list[float] = []
    for _ in range(reps):
        zoo.append(timed(run_zooprof))
        tinfo.append(timed(run_torchinfo))
    print(json.dumps({"import_s": import_s, "zooprof": zoo, "torchinfo": tinfo}))


def bench_inprocess(reps: int) -> Result:
    """Benchmark a: in-process static analysis vs torchinfo.summary (target >= 30x)."""
    proc = subprocess.run([sys.executable, __file__, "--worker-inprocess", str(reps)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"in-process worker failed:\n{proc.stderr[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    z, t = statistics.median(data["zooprof"]), statistics.median(data["torchinfo"])
    return Result(
        "a. in-process: zooprof.inspect vs torchinfo.summary (vgg16)",
        z,
        t,
        ">= 30x faster",
        t / z >= 30,
        data["zooprof"],
        data["torchinfo"],
    )


# --------------------------------------------------------------------------------------
# b. whole commands, c. --help


def bench_commands(reps: int) -> list[Result]:
    """Benchmarks b and c: cold, cached and --help command lines as subprocesses."""
    exe = str(zooprof_script())
    with tempfile.TemporaryDirectory(prefix="zooprof-bench-") as tmp:
        cold_env = dict(os.environ, ZOOPROF_CACHE_DIR=str(Path(tmp) / "cold"))
        warm_env = dict(os.environ, ZOOPROF_CACHE_DIR=str(Path(tmp) / "warm"))
        time_command([exe, "inspect", MODEL], warm_env)  # fill the cache
        if not any(Path(warm_env["ZOOPROF_CACHE_DIR"]).rglob("*")):
            raise SystemExit("`zooprof inspect` wrote nothing to ZOOPROF_CACHE_DIR; cannot time a cached run")
        commands = {
            "cold": Command([exe, "inspect", MODEL, "--no-cache"], cold_env),
            "cached": Command([exe, "inspect", MODEL], warm_env, Path(warm_env["ZOOPROF_CACHE_DIR"])),
            "torchinfo": Command([sys.executable, "-c", TORCHINFO_SCRIPT], dict(os.environ)),
            "help": Command([exe, "--help"], dict(os.environ)),
        }
        s, misses = round_robin(commands, reps)
    med = {k: statistics.median(v) for k, v in s.items()}
    base = med["torchinfo"]
    n = misses["cached"]
    cached_note = (
        f"{n} cache miss{'es' if n != 1 else ''} re-run (zooprof's sources changed during the run)" if n else ""
    )
    return [
        Result(
            "b. `zooprof inspect vgg16 --no-cache` vs torchinfo script",
            med["cold"],
            base,
            "<= 0.75x",
            med["cold"] <= 0.75 * base,
            s["cold"],
            s["torchinfo"],
        ),
        Result(
            "b. `zooprof inspect vgg16` (cache hit) vs torchinfo script",
            med["cached"],
            base,
            "<= 0.15x",
            med["cached"] <= 0.15 * base,
            s["cached"],
            s["torchinfo"],
            cached_note,
        ),
        Result("c. `zooprof --help`", med["help"], None, "< 0.5 s", med["help"] < 0.5, s["help"]),
    ]


# --------------------------------------------------------------------------------------
# d. reading an ONNX file

ONNX_MODEL = "swin_t"
EXPORT_SCRIPT = (
    "import sys, warnings, torch, torchvision; warnings.simplefilter('ignore'); torch.manual_seed(0); "
    f"m = torchvision.models.{ONNX_MODEL}().eval(); "
    "torch.onnx.export(m, (torch.randn(1, 3, 224, 224),), sys.argv[1], dynamo=False, opset_version=17)"
)


def bench_onnx_read(reps: int) -> Result:
    """Benchmark d: `zooprof inspect swin_t.onnx --no-cache` (target < 4 s); the note gives the
    CPU time per run (user + sys of the command), which other processes on the machine skew less."""
    exe = str(zooprof_script())
    with tempfile.TemporaryDirectory(prefix="zooprof-bench-onnx-") as tmp:
        path = Path(tmp) / f"{ONNX_MODEL}.onnx"
        proc = subprocess.run([sys.executable, "-c", EXPORT_SCRIPT, str(path)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"exporting {ONNX_MODEL} to ONNX failed:\n{proc.stderr[-2000:]}")
        env = dict(os.environ, ZOOPROF_CACHE_DIR=str(Path(tmp) / "cache"))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        s, _ = round_robin({"onnx": Command([exe, "inspect", str(path), "--no-cache"], env)}, reps)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / (reps + 1)  # + the warm-up run
    med = statistics.median(s["onnx"])
    return Result(
        f"d. `zooprof inspect {ONNX_MODEL}.onnx --no-cache`",
        med,
        None,
        "< 4 s",
        med < 4.0,
        s["onnx"],
        note=f"CPU time per run {cpu:.2f} s",
    )


# --------------------------------------------------------------------------------------
# report


def machine() -> str:
    """A one-line description of this machine."""
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def load() -> str:
    """The 1/5/15-minute load averages (other processes running skew wall times on a small machine)."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def to_markdown(results: list[Result], reps: int, inprocess_reps: int, loads: tuple[str, str]) -> str:
    """The results table (median seconds, ratio, target, PASS/FAIL) and the raw samples."""
    lines = [
        f"Machine: {machine()}. Medians of {inprocess_reps} in-process and {reps} subprocess repetitions. "
        f"Load average before: {loads[0]}; after: {loads[1]}.",
        "",
        "| benchmark | zooprof (s) | baseline (s) | ratio | target | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in results:
        base = f"{r.baseline_s:.3f}" if r.baseline_s else "-"
        if r.ratio is None:
            ratio = "-"
        elif r.name.startswith("a."):
            ratio = f"{1 / r.ratio:.0f}x faster"
        else:
            ratio = f"{r.ratio:.3f}x"
        lines.append(f"| {r.name} | {r.zooprof_s:.3f} | {base} | {ratio} | {r.target} | {'PASS' if r.ok else 'FAIL'} |")
    lines += ["", "Samples (s):", ""]
    for r in results:
        text = ", ".join(f"{x:.3f}" for x in r.samples)
        if r.baseline_samples:
            text += "; baseline " + ", ".join(f"{x:.3f}" for x in r.baseline_samples)
        if r.note:
            text += f" ({r.note})"
        lines.append(f"- {r.name}: {text}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, write it with --markdown; 1 if a target fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="timed rounds of the subprocess commands (default 5)")
    parser.add_argument("--inprocess-reps", type=int, default=7, help="timed in-process repetitions (default 7)")
    parser.add_argument("--markdown", type=Path, help="also write the results as Markdown to this file")
    parser.add_argument("--worker-inprocess", type=int, metavar="REPS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker_inprocess:
        inprocess_worker(args.worker_inprocess)
        return 0
    before = load()
    print(f"benchmarking on {machine()}, load average {before} ...", file=sys.stderr, flush=True)
    results = [bench_inprocess(args.inprocess_reps)]
    print("  in-process done", file=sys.stderr, flush=True)
    results += bench_commands(args.reps)
    print("  commands done", file=sys.stderr, flush=True)
    results.append(bench_onnx_read(args.reps))
    text = to_markdown(results, args.reps, args.inprocess_reps, (before, load()))
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
    failed = [r.name for r in results if not r.ok]
    if failed:
        print("FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

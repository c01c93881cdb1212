"""An independent MACs reference for torchvision models: FlopCounterMode on a real forward.

`flop_counter_macs(name, shapes, layout)` builds the torchvision model on the CPU (random weights,
eval mode, the builder options of its weights' layout), runs one forward at `shapes` under
`torch.utils.flop_counter.FlopCounterMode` with `torch.no_grad()`, the math SDPA kernel and
MultiheadAttention's fast path off (`aten._native_multi_head_attention` has no FlopCounterMode
formula, so the fast path would count no attention at all), and returns FLOPs / 2 as MACs with
the FLOPs by aten op. FlopCounterMode counts conv, mm, addmm, bmm, baddbmm and the attention
kernels, bias not counted: the same ops and convention as zooprof's MACs (docs/counting.md,
"FlopCounterMode"). A model whose CPU forward would take longer than the sweep allows is
counted on the meta device instead (`device="meta"`: the real module moved to meta, shapes
only; FlopCounterMode's formulas read shapes, never values). `isolated` runs it in a worker
process (`Worker`: memory returned, a crash costs one model). Used by bench/catalogue.py (`--flop-counter`)
and tests/zoo/test_catalogue.py.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import json
import select
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from typing import Any

#: multiply-accumulates per second of a FlopCounterMode forward on the CPU of the 2-core reference machine,
#: only to estimate a forward's time; measured on the models over 50 G MACs: mvit_v2_s 8 G/s, raft_large 12,
#: regnet_y_128gf 35, vit_h_14 40 (25 s at 518 px). Every torchvision model then runs on the CPU in under 2 min
CPU_MACS_PER_S = 10e9


@contextlib.contextmanager
def math_attention() -> Iterator[None]:
    """The reference's attention: the math SDPA kernel (decomposed into bmm, which FlopCounterMode
    counts), MultiheadAttention's fast path off."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def build(name: str, layout: dict[str, Any]) -> Any:
    """The torchvision model in eval mode on the CPU, random weights, no backbone weights either."""
    import torchvision

    kwargs: dict[str, Any] = {"weights": None, **layout}
    if "weights_backbone" in inspect.signature(torchvision.models.get_model_builder(name)).parameters:
        kwargs["weights_backbone"] = None
    return torchvision.models.get_model(name, **kwargs).eval()


def count(model: Any, inputs: list[Any]) -> tuple[int, dict[str, int]]:
    """FlopCounterMode over one forward -> (MACs = FLOPs / 2, FLOPs by aten op)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with math_attention(), torch.no_grad(), counter:
        model(*inputs)
    by_op = {str(op): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    return counter.get_total_flops() // 2, by_op


def flop_counter_macs(name: str, shapes: list[tuple[int, ...]], layout: dict[str, Any], device: str = "cpu") -> dict:
    """One torchvision model's FlopCounterMode MACs: {"macs", "by_op", "device", "build_s", "forward_s"}."""
    import torch

    torch.manual_seed(0)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build(name, layout)
        if device == "meta":
            model = model.to("meta")
        build_s = time.perf_counter() - started
        inputs = [torch.randn(s, device=device) for s in shapes]
        started = time.perf_counter()
        macs, by_op = count(model, inputs)
    return {
        "macs": macs,
        "by_op": by_op,
        "device": device,
        "build_s": build_s,
        "forward_s": time.perf_counter() - started,
    }


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """'1x3x224x224,1x3x224x224' -> [(1, 3, 224, 224), (1, 3, 224, 224)]."""
    return [tuple(int(d) for d in part.split("x")) for part in text.split(",")]


class Worker:
    """A process that has imported torch and torchvision and counts the jobs sent to it, one JSON line
    each way. Importing torch and torchvision takes about 5 s here, so small models share a process;
    the caller ends it after a large model (`fresh=True`: its memory is returned), and a crash or a
    time-out costs the one model in flight (the next job starts a new process)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.log: Any = None
        atexit.register(self.close)

    def run(self, job: dict[str, Any], timeout: float, fresh: bool = False) -> dict[str, Any]:
        """`flop_counter_macs(**job)` in the worker process; RuntimeError (one line) when it fails."""
        if fresh:
            self.close()
        if self.proc is None or self.proc.poll() is not None:
            self.close()
            self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - lives as long as the worker
            pipe = subprocess.PIPE
            self.proc = subprocess.Popen(
                [sys.executable, __file__], stdin=pipe, stdout=pipe, stderr=self.log, text=True
            )
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            line = proc.stdout.readline() if ready else None
        except OSError:  # the process died before reading the job
            line = ""
        if line is None:
            self.close()
            raise RuntimeError(f"took over {timeout:.0f} s")
        if not line.startswith("{"):
            proc.wait()
            self.log.seek(0)
            why = (self.log.read().strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            self.close()
            raise RuntimeError(why)
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def close(self) -> None:
        """End the worker (it is this process's own child): closing its input ends its loop."""
        if self.proc is not None:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.close()
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None


WORKER = Worker()


def isolated(
    name: str, shapes: str, layout: dict[str, Any], device: str, timeout: float, fresh: bool = False
) -> dict[str, Any]:
    """`flop_counter_macs` in the worker process (shapes as text: '1x3x224x224')."""
    return WORKER.run({"name": name, "shapes": shapes, "layout": layout, "device": device}, timeout, fresh)


def _serve() -> None:
    """The worker: import torch and torchvision, then count each job read from stdin."""
    import gc

    import torch  # noqa: F401 - imported before the first job arrives
    import torchvision  # noqa: F401

    for line in sys.stdin:
        job = json.loads(line)
        try:
            answer = flop_counter_macs(job["name"], parse_shapes(job["shapes"]), job["layout"], job["device"])
        except Exception as exc:  # noqa: BLE001 - one model's failure is its row's, the worker goes on
            answer = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        print(json.dumps(answer), flush=True)
        gc.collect()


if __name__ == "__main__":
    _serve()

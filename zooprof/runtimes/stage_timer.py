"""Latency per stage of a detection model, measured inside a runtime worker.

Forward pre/post hooks on the stage modules (transform, backbone, FPN or extra layers,
heads, RPN, RoI heads) and wrappers around the post-processing functions read the clock on
entry and exit. Time is exclusive: while a nested unit runs (backbone.extra inside
backbone, NMS inside the RPN) the clock counts for it, not for its parent; time in the
model's own forward outside every unit is "other". So the units of one pass add up to the
pass, and post-processing is measured, not inferred as the remainder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from zooprof.ir.stages import STAGES

OTHER = "other"
METHOD = (
    "forward pre/post hooks on the stage modules and wrappers around the post-processing functions; "
    "exclusive wall time per unit (time.perf_counter), median over the passes; post-processing measured"
)


class StageTimer:
    """Exclusive wall time per unit of a detector, one pass at a time.

    `clock` is injectable (tests use a fake one).
    """

    def __init__(self, model: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        from zooprof.frontends.torch.detection import postprocess_functions, stage_modules

        self.model, self.clock = model, clock
        self.stage: dict[str, str] = {OTHER: OTHER}
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self._stack: list[str] = []
        self._mark = 0.0
        self._undo: list[Callable[[], None]] = []
        self.enabled = True
        for path, module, stage in stage_modules(model):
            self.stage[path] = stage
            # a ModuleList is never called: its owner calls the blocks in turn (SSD's extra layers)
            targets = list(module.children()) if type(module).__name__ == "ModuleList" else [module]
            for target in targets:
                self._undo.append(target.register_forward_pre_hook(self._pre(path)).remove)
                self._undo.append(target.register_forward_hook(self._post()).remove)
        for owner, attr, label, _ in postprocess_functions(model):
            self.stage[label] = "postprocess"
            self._undo.append(self._wrap(owner, attr, label))
        roi_heads = getattr(model, "roi_heads", None)
        if roi_heads is not None and hasattr(roi_heads, "register_forward_pre_hook"):
            self._undo.append(roi_heads.register_forward_pre_hook(self._proposals).remove)
        self._undo.append(self._count_nms())

    # clock bookkeeping -------------------------------------------------------------
    def _enter(self, unit: str) -> None:
        if not self.enabled:
            return
        now = self.clock()
        top = self._stack[-1] if self._stack else OTHER
        self.seconds[top] = self.seconds.get(top, 0.0) + now - self._mark
        self._stack.append(unit)
        self._mark = now

    def _leave(self) -> None:
        if not self.enabled:
            return
        now = self.clock()
        unit = self._stack.pop()
        self.seconds[unit] = self.seconds.get(unit, 0.0) + now - self._mark
        self._mark = now

    def _pre(self, unit: str) -> Callable[..., None]:
        def hook(module: Any, args: Any) -> None:
            self._enter(unit)

        return hook

    def _post(self) -> Callable[..., None]:
        def hook(module: Any, args: Any, out: Any) -> None:
            self._leave()

        return hook

    def _proposals(self, module: Any, args: Any) -> None:
        if self.enabled:
            self.counts["proposals"] = sum(int(p.shape[0]) for p in args[1])

    def _count_nms(self) -> Callable[[], None]:
        """Count the boxes going into NMS: torchvision's batched_nms calls its module's `nms`."""
        try:
            from torchvision.ops import boxes
        except ImportError:
            return lambda: None
        original = boxes.nms

        def nms(b: Any, scores: Any, iou_threshold: float) -> Any:
            if self.enabled:
                self.counts["boxes_into_nms"] = self.counts.get("boxes_into_nms", 0) + int(b.shape[0])
            return original(b, scores, iou_threshold)

        boxes.nms = nms

        def undo() -> None:
            boxes.nms = original

        return undo

    def _wrap(self, owner: Any, attr: str, label: str) -> Callable[[], None]:
        from zooprof.frontends.torch.detection import count_boxes, patch

        original = getattr(owner, attr)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self._enter(label)
            try:
                out = original(*args, **kwargs)
            finally:
                self._leave()
            if self.enabled:
                self.counts[f"{label}.boxes_out"] = count_boxes(out)
            return out

        return patch(owner, attr, wrapper)  # the undo puts a module's own function back (Mask R-CNN's)

    # passes ---------------------------------------------------------------------------
    def run(self, call: Callable[[], Any]) -> tuple[dict[str, float], float]:
        """One pass of `call` (the model on its inputs): seconds per unit, and the pass's seconds."""
        self.enabled = True
        self.seconds, self._stack, self.counts = {}, [], {}
        start = self._mark = self.clock()
        call()
        end = self.clock()
        self.seconds[OTHER] = self.seconds.get(OTHER, 0.0) + end - self._mark
        return dict(self.seconds), end - start

    def run_plain(self, call: Callable[[], Any]) -> float:
        """One pass with the hooks idle: the end-to-end time to set the stages against."""
        self.enabled = False
        start = self.clock()
        call()
        return self.clock() - start

    def close(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo = []


def _median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2]


def measure_stages(
    model: Any,
    call: Callable[[], Any],
    iterations: int,
    clock: Callable[[], float] = time.perf_counter,
    warmup: int = 2,
) -> dict[str, Any]:
    """Median exclusive seconds per unit and per stage over `iterations` passes (after warm-up),
    each followed by a pass with the hooks idle, so the stages can be set against end-to-end
    passes taken under the same conditions (`end_to_end_seconds`)."""
    timer = StageTimer(model, clock)
    passes, plain = [], []
    try:
        for i in range(warmup + iterations):
            hooked = timer.run(call)
            idle = timer.run_plain(call)
            if i >= warmup:
                passes.append(hooked)
                plain.append(idle)
    finally:
        timer.close()
    units = list(dict.fromkeys(u for seconds, _ in passes for u in seconds))
    unit_rows = [
        {"name": u, "stage": timer.stage[u], "seconds": _median([s.get(u, 0.0) for s, _ in passes])} for u in units
    ]
    stage_rows = []
    for stage in (*STAGES, OTHER):
        per_pass = [sum(v for u, v in s.items() if timer.stage[u] == stage) for s, _ in passes]
        if any(timer.stage[u] == stage for u in units):
            stage_rows.append({"stage": stage, "seconds": _median(per_pass)})
    out: dict[str, Any] = {
        "method": METHOD,
        "iterations": iterations,
        "stages": stage_rows,
        "units": unit_rows,
        "sum_seconds": sum(r["seconds"] for r in stage_rows),
        "pass_seconds": _median([p for _, p in passes]),
        "end_to_end_seconds": _median(plain),
        "counts": dict(timer.counts),
    }
    out["sum_vs_end_to_end"] = (
        round(out["sum_seconds"] / out["end_to_end_seconds"], 4) if out["end_to_end_seconds"] else None
    )
    proposals = timer.counts.get("proposals")
    roi = next((r["seconds"] for r in unit_rows if r["name"] == "roi_heads"), None)
    if proposals and roi is not None:
        out["seconds_per_proposal"] = roi / proposals
    boxes = timer.counts.get("boxes_into_nms")
    post = next((r["seconds"] for r in stage_rows if r["stage"] == "postprocess"), None)
    if boxes and post is not None:  # an average over this run's boxes: NMS is not linear in them
        out["postprocess_seconds_per_box_into_nms"] = post / boxes
    return out

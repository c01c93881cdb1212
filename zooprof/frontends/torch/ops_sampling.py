"""PyTorch resampling -> (OpKind, attrs): interpolation to a size (F.interpolate, aten.upsample_*)
and sampling at positions a grid gives (F.grid_sample, aten.grid_sampler_2d). Rules: rules/resize.py."""

from __future__ import annotations

from collections.abc import Callable

from zooprof.frontends.torch.ops_products import Mapped, arg
from zooprof.ir.ops import OpKind


def resize(mode: str | None) -> Callable[[tuple, dict], Mapped]:
    """F.interpolate (mode from its arguments) or aten.upsample_{nearest,bilinear}2d (from the name)."""

    def f(args: tuple, kwargs: dict) -> Mapped:
        m = mode or arg(args, kwargs, 3, "mode", "nearest")
        if m not in ("nearest", "bilinear"):
            return OpKind.UNKNOWN, {"unmapped": f"interpolation mode {m}"}
        return OpKind.RESIZE, {"mode": m}

    return f


def grid_sample(args: tuple, kwargs: dict) -> Mapped:
    """F.grid_sample(input, grid, mode, padding_mode, align_corners) and aten.grid_sampler_2d /
    grid_sampler(input, grid, mode, padding_mode, align_corners), whose mode is an int
    (0 bilinear, 1 nearest, 2 bicubic). 2-D only: a 5-D grid (volumes) has no rule."""
    mode = arg(args, kwargs, 2, "mode", "bilinear")
    mode = {0: "bilinear", 1: "nearest", 2: "bicubic"}.get(mode, mode) if isinstance(mode, int) else mode
    grid = arg(args, kwargs, 1, "grid")
    if getattr(grid, "ndim", 4) != 4:
        return OpKind.UNKNOWN, {"unmapped": "grid_sample over a volume"}
    if mode not in ("nearest", "bilinear"):
        return OpKind.UNKNOWN, {"unmapped": f"grid_sample mode {mode}"}
    return OpKind.GRID_SAMPLE, {"mode": mode}

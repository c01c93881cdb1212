"""Keeping a result when a pass meets a graph shape it does not expect.

A rule that raises on one layer (an attribute missing, an input it assumed) costs that
layer that one figure, marked unknown (receptive field "unknown", MACs uncounted), never the
whole analysis; a pass that fails outright leaves its figures at their fallback. Either way
`Problems.notes()` says which figure, how many layers, the first of them and the error, and
`analyze` puts these notes in the result (`model.notes`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from zooprof.ir.graph import Layer

T = TypeVar("T")


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Problems:
    """Unexpected cases met by the passes, grouped by figure."""

    def __init__(self) -> None:
        self.by_figure: dict[str, list[tuple[str, str]]] = {}  # figure -> [(layer name, error)]
        self.failed_passes: list[str] = []

    def layer(self, figure: str, layer: Layer, fallback: T, compute: Callable[..., T], *args: Any) -> T:
        """`compute(*args)`, or `fallback` (the figure unknown for this layer) if it raises."""
        try:
            return compute(*args)
        except Exception as exc:  # an unexpected case in a rule: this layer's figure only
            self.record(figure, layer, exc)
            return fallback

    def record(self, figure: str, layer: Layer, exc: BaseException) -> None:
        self.by_figure.setdefault(figure, []).append((f"{layer.name} ({layer.op.value})", describe(exc)))

    def whole(self, figure: str, compute: Callable[[], T], fallback: Callable[[], T], shown: str = "shown as 0") -> T:
        """`compute()` for a whole pass, or `fallback()` if it raises (`shown` says what the
        result then shows)."""
        try:
            return compute()
        except Exception as exc:  # a pass that fails must not lose the other passes' figures
            self.failed_passes.append(f"{figure} could not be computed ({describe(exc)}); {shown}")
            return fallback()

    def notes(self) -> list[str]:
        out = []
        for figure, cases in self.by_figure.items():
            name, error = cases[0]
            more = f" and {len(cases) - 1} more" if len(cases) > 1 else ""
            out.append(f"{figure} unknown for {len(cases)} layer(s): {name}{more} ({error})")
        return out + self.failed_passes

"""How the parity view writes numbers, counts and shapes in its sentences and table cells."""

from __future__ import annotations


def thousands(x: int) -> str:
    """58134008 -> '58,134,008'."""
    return f"{x:,}"


def counted(n: int, noun: str) -> str:
    """'1 BatchNorm layer', '52 BatchNorm layers'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def shape_text(shape: list[int] | None) -> str:
    """[1, 16, 112, 112] -> '1x16x112x112'; '–' for no shape."""
    return "–" if shape is None else "x".join(str(d) for d in shape)

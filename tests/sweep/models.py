"""Small models for sweep tests (imported by the workers through PYTHONPATH)."""

from __future__ import annotations

from torch import nn


def tiny_cnn() -> nn.Module:
    """1x3x16x16 -> 10: conv, ReLU, global pool, linear (fast on every runtime)."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)
    )

"""Models that misbehave only on real tensors (static analysis runs them on meta tensors)."""

from __future__ import annotations

import ctypes
import time
from typing import Any

from torch import nn


class _Bad(nn.Module):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.action = action

    def forward(self, x: Any) -> Any:
        if not x.is_meta:
            if self.action == "segfault":
                ctypes.string_at(0)
            elif self.action == "raise":
                raise RuntimeError("this model always fails on real data")
            elif self.action == "hang":
                time.sleep(1000)
        return self.fc(x)


def segfault_net() -> nn.Module:
    return _Bad("segfault")


def raising_net() -> nn.Module:
    return _Bad("raise")


def hanging_net() -> nn.Module:
    return _Bad("hang")


def good_net() -> nn.Module:
    return _Bad("none")

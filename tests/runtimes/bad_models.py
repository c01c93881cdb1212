"""Models that misbehave only on real tensors (static analysis runs them on meta tensors)."""

from __future__ import annotations

import ctypes
import time
from typing import Any

import torch
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


class _Hungry(nn.Module):
    """Holds 64 MiB per sample of the batch while it runs: fine at batch 1, a runaway at batch 64."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: Any) -> Any:
        if not x.is_meta:
            scratch = torch.ones(x.shape[0], 16 * 2**20)  # float32: 64 MiB per sample, every page written
            x = x + scratch[:, :1] - 1
        return self.fc(x)


def hungry_net() -> nn.Module:
    return _Hungry()


class AllocatePerSample(nn.Module):
    """For TorchScript (tests/runtimes/test_hostile_profile.py): a forward that holds 256 MiB per
    sample of its batch, every page written, on its input's device (meta when zooprof inspects it, so
    analysis allocates nothing); measured at batch 16 it wants 4 GiB."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        held: list[torch.Tensor] = []
        for _ in range(x.shape[0]):
            held.append(torch.ones([67108864], device=x.device))  # 2**26 floats (2**26 is a float in TorchScript)
        total = torch.zeros([1], device=x.device)
        for t in held:  # every tensor used after all exist: the JIT cannot drop or free them early
            total = total + t[:1]
        return self.fc(x) + total

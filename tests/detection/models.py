"""Small models for the detection tests' runtime checks."""

from __future__ import annotations

import torch
from torch import nn


class RunningMax(nn.Module):
    """A running maximum: the TorchScript-based ONNX exporter has no symbolic for aten::cummax."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cummax(x, dim=1).values


def running_max() -> nn.Module:
    return RunningMax()

"""A real PyTorch model whose layer names are HTML, for the escaping tests of the report."""

from __future__ import annotations

from typing import Any

EVIL_LAYER = "<img src=x onerror=alert(1)>"


def build() -> Any:
    from torch import nn

    block = nn.Sequential()
    block.add_module(EVIL_LAYER, nn.Conv2d(3, 8, 3, padding=1))
    block.add_module("relu", nn.ReLU())
    block.add_module("</script><!--", nn.Conv2d(8, 8, 3, stride=2))
    model = nn.Sequential()
    model.add_module("block", block)
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module("head", nn.Linear(8, 4))
    return model

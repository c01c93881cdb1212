"""AlexNet as published (Krizhevsky, Sutskever, Hinton, NIPS 2012) and drawn on the course slide.

224x224 input with conv1 padding 2 (the slide's form; equivalent to the paper's 227 with
padding 0): 96x55x55, 96x27x27, 256x27x27, 256x13x13, 384x13x13, 384x13x13, 256x13x13,
256x6x6, then 4096, 4096, 1000. conv2, conv4 and conv5 are split over the paper's two
GPUs (groups=2). Local response normalisation follows the first two ReLUs, as in the paper.
60,965,224 parameters. Layer names follow the paper (conv1..conv5, fc6..fc8).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


def alexnet_2012(num_classes: int = 1000) -> Any:
    from torch import nn

    def lrn() -> nn.Module:
        return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)

    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2)),
                ("relu1", nn.ReLU(inplace=True)),
                ("norm1", lrn()),
                ("pool1", nn.MaxPool2d(kernel_size=3, stride=2)),
                ("conv2", nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2)),
                ("relu2", nn.ReLU(inplace=True)),
                ("norm2", lrn()),
                ("pool2", nn.MaxPool2d(kernel_size=3, stride=2)),
                ("conv3", nn.Conv2d(256, 384, kernel_size=3, padding=1)),
                ("relu3", nn.ReLU(inplace=True)),
                ("conv4", nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2)),
                ("relu4", nn.ReLU(inplace=True)),
                ("conv5", nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2)),
                ("relu5", nn.ReLU(inplace=True)),
                ("pool5", nn.MaxPool2d(kernel_size=3, stride=2)),
                ("flatten", nn.Flatten()),
                ("drop6", nn.Dropout(0.5)),
                ("fc6", nn.Linear(256 * 6 * 6, 4096)),
                ("relu6", nn.ReLU(inplace=True)),
                ("drop7", nn.Dropout(0.5)),
                ("fc7", nn.Linear(4096, 4096)),
                ("relu7", nn.ReLU(inplace=True)),
                ("fc8", nn.Linear(4096, num_classes)),
            ]
        )
    )

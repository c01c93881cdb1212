"""The 784-16-16-10 sigmoid network of the intro lecture (seed 000): 13,002 parameters.

a = sigmoid(W a + b) at every layer, on a flattened 28x28 MNIST digit.
"""

from __future__ import annotations

from typing import Any


def mnist_mlp() -> Any:
    from torch import nn

    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 16),
        nn.Sigmoid(),
        nn.Linear(16, 16),
        nn.Sigmoid(),
        nn.Linear(16, 10),
        nn.Sigmoid(),
    )

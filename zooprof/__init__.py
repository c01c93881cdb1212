"""zooprof: a model-zoo profiler for edge machine learning.

    import zooprof
    r = zooprof.inspect("alexnet-2012")
    r.totals["macs"]
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def inspect(model: str, input_shape: str | tuple[int, ...] | list[tuple[int, ...]] | None = None,
            **options: Any) -> Any:
    """Static analysis of a model reference; returns the ProfileResult the CLI renders.

    `model` is a zoo name, `torchvision:NAME`, `package.module:callable` or a file path;
    `input_shape` a string like "1x3x224x224" or a tuple (default: the zoo entry's).
    Options: trust (bool), use_cache (bool).
    """
    from zooprof.api import inspect as _inspect

    return _inspect(model, input_shape=input_shape, **options)


__all__ = ["__version__", "inspect"]

"""zooprof: a model-zoo profiler for edge machine learning.

import zooprof
r = zooprof.inspect("alexnet-2012")
r.totals["macs"]
p = zooprof.profile("mobilenet_v2", runtime="onnxruntime", threads=1)
p.measurements[0]["timing"]["latency_ms"]["median"]
p.layers_df(), p.summary_df()          # pandas DataFrames
old = zooprof.load("reports/base/result.json")
"""

from __future__ import annotations

from os import PathLike
from typing import Any

from zooprof.version import __version__


def inspect(
    model: str, input_shape: str | tuple[int, ...] | list[tuple[int, ...]] | None = None, **options: Any
) -> Any:
    """Static analysis of a model reference; returns the ProfileResult the CLI renders.

    `model` is a zoo name, `torchvision:NAME`, `package.module:callable` or a file path;
    `input_shape` a string like "1x3x224x224" or a tuple (default: the zoo entry's).
    Options: trust (bool), use_cache (bool).
    """
    from zooprof.measure.static import inspect as _inspect

    return _inspect(model, input_shape=input_shape, **options)


def profile(
    model: str, runtime: str | list[str] | None = None, batch: Any = 1, input_shape: Any = None, **options: Any
) -> Any:
    """Static analysis plus measured latency and memory; returns a ProfileResult whose
    `measurements` hold one entry per runtime x batch (each measured in its own worker).

    Options: threads, max_time, target_ci (0.01 = 1 %), timeout, memory_limit ("8G", bytes or
    "none"; default 80 % of the memory available as each worker starts), per_layer, trust, weights,
    ort_opt_level, device ("cpu", "cuda:0"), precision ("fp16"), cuda_graphs, cudnn_benchmark,
    ort_provider, dla_core, trtexec, use_cache. See `zooprof profile --help`.
    """
    from zooprof.measure.options import ProfileOptions
    from zooprof.measure.profiling import profile as _profile

    return _profile(model, ProfileOptions.parse(runtime=runtime, batch=batch, input_shape=input_shape, **options))


def load(path: str | PathLike[str]) -> Any:
    """A saved result (`zooprof profile -o`, `zooprof inspect -f json`) as a ProfileResult. A
    file that is not a result, or one written by a newer zooprof, is a one-line UsageError."""
    from zooprof.result.document import ProfileResult

    return ProfileResult.load(path)


__all__ = ["__version__", "inspect", "load", "profile"]

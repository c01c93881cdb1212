"""Side by side: zooprof's params and MACs/FLOPs next to torchinfo, fvcore and ptflops.

For each seed zoo model the script builds the real model (CPU tensors, random init, eval
mode), then asks each tool for its totals:

- zooprof: ``zooprof.inspect(name, use_cache=False)`` (static, meta device);
- torchinfo: ``summary(model, input_size=..., verbose=0)`` -> ``total_params``, ``total_mult_adds``;
- fvcore: ``FlopCountAnalysis(model, inputs).total()`` (one "flop" per MAC); the ops it
  skipped (``.unsupported_ops()``) are listed under the table;
- ptflops: ``get_model_complexity_info(..., backend=...)`` with the ``pytorch`` backend
  (module hooks + patched functionals) and the ``aten`` backend (aten dispatch).

A tool that fails on a model gets ``error: ...`` in its cells; the others carry on.

A second table reconciles every peer figure with zooprof's MACs: forward hooks and a
TorchFunctionMode on the real model measure the extra terms each tool adds (biases, batch
norm, pooling, activations), and the residual ``tool - (zooprof MACs + its extra terms)``
is printed; 0 everywhere means each difference is explained by that tool's convention.

    .venv/bin/python bench/peers.py [--models vgg16,resnet18] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.metadata
import io
import logging
import platform
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED = ["mnist-mlp", "alexnet-2012", "alexnet", "vgg16", "mobilenet_v2", "resnet18", "resnet50", "mobilenet_v3_large"]
TOOLS = ["zooprof", "torchinfo", "fvcore", "ptflops"]
COLUMNS = [
    "model",
    "zooprof params",
    "zooprof MACs",
    "zooprof FLOPs",
    "torchinfo params",
    "torchinfo mult-adds",
    'fvcore "flops"',
    "ptflops MACs (pytorch)",
    "ptflops MACs (aten)",
    "ptflops params",
]


@dataclass
class Row:
    """One model's figures; a value is an int, or a string starting with "error:"."""

    model: str
    cells: dict[str, int | str] = field(default_factory=dict)
    fvcore_skipped: dict[str, int] = field(default_factory=dict)
    terms: dict[str, int] = field(default_factory=dict)


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text.replace("|", "/")
    if len(text) > 80:
        text = text[:77] + "..."
    return f"error: {type(exc).__name__}: {text}" if text else f"error: {type(exc).__name__}"


def build_model(name: str) -> tuple[Any, tuple[int, ...]]:
    """The zoo entry `name` as a real CPU model with random weights, in eval mode, and its input shape."""
    import torch

    from zooprof.frontends.torch.read import import_callable
    from zooprof.reference.registry import zoo

    entry = zoo().get(name)
    torch.manual_seed(0)
    if entry.source.startswith("torchvision:"):
        import torchvision

        model = torchvision.models.get_model(entry.source.split(":", 1)[1], weights=None, **entry.kwargs)
    else:
        model = import_callable(entry.source)(**entry.kwargs)
    return model.eval(), tuple(entry.input_shape)


def run_zooprof(name: str) -> dict[str, int | str]:
    """zooprof's own totals (static analysis, cache bypassed)."""
    import zooprof

    totals = zooprof.inspect(name, use_cache=False).totals
    return {
        "zooprof params": int(totals["params"]),
        "zooprof MACs": int(totals["macs"]),
        "zooprof FLOPs": int(totals["flops"]),
    }


def run_torchinfo(model: Any, shape: tuple[int, ...]) -> dict[str, int | str]:
    """torchinfo's total params and total mult-adds."""
    import torchinfo

    stats = torchinfo.summary(model, input_size=shape, verbose=0, mode="eval")
    return {"torchinfo params": int(stats.total_params), "torchinfo mult-adds": int(stats.total_mult_adds)}


def run_fvcore(model: Any, shape: tuple[int, ...], row: Row) -> dict[str, int | str]:
    """fvcore's total "flops" (really MACs); records the ops it skipped in `row.fvcore_skipped`."""
    import torch
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, torch.randn(shape))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        total = int(analysis.total())
        row.fvcore_skipped = dict(sorted(analysis.unsupported_ops().items()))
    finally:
        logger.setLevel(level)
    return {'fvcore "flops"': total}


def run_ptflops(model: Any, shape: tuple[int, ...], backend: str) -> tuple[int, int]:
    """ptflops' (MACs, params) with the given backend; it prints its errors and returns None, so
    capture its output and turn a None into an exception."""
    from ptflops import get_model_complexity_info

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        macs, params = get_model_complexity_info(
            model, tuple(shape[1:]), as_strings=False, print_per_layer_stat=False, verbose=False, backend=backend
        )
    if macs is None or params is None:
        lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
        raise RuntimeError(lines[-1] if lines else "ptflops returned None")
    return int(macs), int(params)


def profile(name: str) -> Row:
    """Every tool's figures for one zoo model; a failing tool fills its cells with an error."""
    row = Row(name)

    def attempt(keys: list[str], fn: Callable[[], dict[str, int | str]]) -> None:
        try:
            row.cells.update(fn())
        except Exception as exc:  # a peer tool failing must not stop the sweep
            row.cells.update(dict.fromkeys(keys, _error(exc)))

    attempt(["zooprof params", "zooprof MACs", "zooprof FLOPs"], lambda: run_zooprof(name))
    try:
        base, shape = build_model(name)
    except Exception as exc:
        for key in COLUMNS[4:]:
            row.cells[key] = _error(exc)
        return row
    attempt(["torchinfo params", "torchinfo mult-adds"], lambda: run_torchinfo(copy.deepcopy(base), shape))
    attempt(['fvcore "flops"'], lambda: run_fvcore(copy.deepcopy(base), shape, row))

    def ptflops_both() -> dict[str, int | str]:
        cells: dict[str, int | str] = {}
        for backend, key in (("pytorch", "ptflops MACs (pytorch)"), ("aten", "ptflops MACs (aten)")):
            try:
                macs, params = run_ptflops(copy.deepcopy(base), shape, backend)
                cells[key] = macs
                cells.setdefault("ptflops params", params)
            except Exception as exc:
                cells[key] = _error(exc)
        cells.setdefault("ptflops params", cells["ptflops MACs (pytorch)"])
        return cells

    attempt(["ptflops MACs (pytorch)", "ptflops MACs (aten)", "ptflops params"], ptflops_both)
    try:
        row.terms = extra_terms(copy.deepcopy(base), shape)
    except Exception as exc:
        print(f"  reconciliation failed for {name}: {_error(exc)}", file=sys.stderr)
    return row


# --------------------------------------------------------------------------------------
# reconciliation: what each peer adds on top of zooprof's MACs, measured on the real model

# functionals ptflops' pytorch backend patches (count_functional=True): it adds the first
# argument's numel per call (ptflops/pytorch_engine.py patch_functional)
PTFLOPS_PATCHED = {
    "relu",
    "prelu",
    "elu",
    "relu6",
    "gelu",
    "silu",
    "softmax",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
}
TERMS = {
    "conv_bias": "conv outputs with a bias",
    "linear_bias": "linear outputs with a bias",
    "bn_params": "BN params",
    "bn_ops": "BN elements x (2 if affine)",
    "adaptive_avgpool_in": "adaptive avg pool inputs",
    "act_modules": "activation-module outputs (ptflops)",
    "pool_modules": "pool-module inputs (ptflops)",
    "patched_functionals": "patched F.* inputs (ptflops)",
    "lrn_internals": "LRN internals (ptflops)",
}


def extra_terms(model: Any, shape: tuple[int, ...]) -> dict[str, int]:
    """Run `model` once and measure the terms the peer tools add on top of plain MACs (see TERMS)."""
    import torch
    from ptflops.pytorch_ops import MODULES_MAPPING
    from torch import nn
    from torch.overrides import TorchFunctionMode

    terms = dict.fromkeys(TERMS, 0)
    pool_types = tuple(t for t in MODULES_MAPPING if "Pool" in t.__name__)
    act_types = tuple(
        t for t in MODULES_MAPPING if t.__name__ in ("ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GELU")
    )

    def hook(mod: nn.Module, args: tuple[Any, ...], out: Any) -> None:
        x = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) and mod.bias is not None:
            terms["conv_bias"] += out.numel()
        elif isinstance(mod, nn.Linear) and mod.bias is not None:
            terms["linear_bias"] += out.numel()
        elif isinstance(mod, nn.modules.batchnorm._BatchNorm) and x is not None:
            terms["bn_params"] += x.shape[0] * sum(p.numel() for p in mod.parameters())
            terms["bn_ops"] += x.numel() * (2 if mod.affine else 1)
        elif isinstance(mod, nn.LocalResponseNorm) and x is not None:
            # F.local_response_norm: x*x, *alpha, +k (Tensor.mul/add, patched) and avg_pool3d over
            # the channel-padded squares (patched F.avg_pool3d)
            pad = mod.size // 2 + (mod.size - 1) // 2
            terms["lrn_internals"] += 3 * x.numel() + x.numel() // x.shape[1] * (x.shape[1] + pad)
        if type(mod) in act_types:
            terms["act_modules"] += out.numel()
        elif type(mod) in pool_types and x is not None:
            terms["pool_modules"] += x.numel()

    class Calls(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
            name = getattr(func, "__name__", "")
            first = args[0] if args and isinstance(args[0], torch.Tensor) else None
            if first is not None and name in PTFLOPS_PATCHED:
                terms["patched_functionals"] += first.numel()
            if first is not None and name == "adaptive_avg_pool2d":
                terms["adaptive_avgpool_in"] += first.numel()
            return func(*args, **(kwargs or {}))

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    try:
        with torch.no_grad(), Calls():
            model(torch.randn(shape))
    finally:
        for h in handles:
            h.remove()
    return terms


# tool column -> the terms it adds to zooprof's MACs
CONVENTIONS = {
    "torchinfo mult-adds": ["conv_bias", "linear_bias", "bn_params"],
    'fvcore "flops"': ["bn_ops", "adaptive_avgpool_in"],
    "ptflops MACs (pytorch)": [
        "conv_bias",
        "linear_bias",
        "bn_ops",
        "act_modules",
        "pool_modules",
        "patched_functionals",
        "lrn_internals",
    ],
    "ptflops MACs (aten)": ["conv_bias", "linear_bias"],
}


def reconcile(row: Row) -> dict[str, int | str]:
    """For each peer column: the residual tool - (zooprof MACs + the terms of its convention)."""
    out: dict[str, int | str] = {}
    macs = row.cells.get("zooprof MACs")
    for column, keys in CONVENTIONS.items():
        value = row.cells.get(column)
        if not isinstance(macs, int) or not isinstance(value, int) or not row.terms:
            out[column] = "n/a"
            continue
        out[column] = value - macs - sum(row.terms[k] for k in keys)
    return out


def _fmt(value: int | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return value


def versions() -> dict[str, str]:
    """Installed versions of every tool in the table (and of torch/torchvision)."""
    out = {"python": platform.python_version()}
    for dist in ("zooprof", "torch", "torchvision", "torchinfo", "fvcore", "ptflops"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def to_markdown(rows: list[Row]) -> str:
    """The table, the versions and the ops fvcore skipped, as Markdown."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(COLUMNS) - 1)) + "|"]
    for row in rows:
        lines.append("| " + " | ".join([row.model] + [_fmt(row.cells.get(c)) for c in COLUMNS[1:]]) + " |")
    lines += [
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        "",
        "Ops fvcore skipped (counted as 0), with the number of calls:",
        "",
    ]
    for row in rows:
        skipped = ", ".join(f"`{op}` x{n}" for op, n in row.fvcore_skipped.items()) or "none"
        lines.append(f"- {row.model}: {skipped}")
    keys = list(TERMS)
    lines += [
        "",
        "Extra terms measured on the real model (batch 1):",
        "",
        "| model | " + " | ".join(TERMS[k] for k in keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for row in rows:
        lines.append(f"| {row.model} | " + " | ".join(_fmt(row.terms.get(k)) for k in keys) + " |")
    peers = list(CONVENTIONS)
    lines += [
        "",
        "Reconciliation: residual = tool - (zooprof MACs + the terms of its convention); "
        "0 means the difference is fully explained:",
        "",
        "| tool | terms added to zooprof MACs |",
        "|---|---|",
    ]
    lines += [f"| {c} | " + " + ".join(TERMS[k] for k in CONVENTIONS[c]) + " |" for c in peers]
    lines += ["", "| model | " + " | ".join(f"{c} residual" for c in peers) + " |", "|---|" + "---:|" * len(peers)]
    for row in rows:
        res = reconcile(row)
        lines.append(f"| {row.model} | " + " | ".join(_fmt(res[c]) for c in peers) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Profile the seed models with every tool, print the Markdown table, optionally save it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", default=",".join(SEED), help="comma-separated zoo names (default: the 8 seed models)"
    )
    parser.add_argument("--markdown", type=Path, help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    rows = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        print(f"profiling {name} ...", file=sys.stderr, flush=True)
        rows.append(profile(name))
    text = to_markdown(rows)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

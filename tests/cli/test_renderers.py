"""Renderers print names from model files as text, never as markup."""

from __future__ import annotations

from zooprof.renderers import render
from zooprof.result.document import ProfileResult

EVIL = "[bold red]<img src=x onerror=alert(1)>"


def tiny() -> ProfileResult:
    row = {
        "name": EVIL,
        "op": "relu",
        "source_op": "ReLU",
        "output_shape": [1, 4],
        "rf": None,
        "params": 0,
        "trainable_params": 0,
        "buffers": 0,
        "macs": 0,
        "macs_pct": 0.0,
        "flops": 4,
        "weight_bytes": 0,
        "activation_bytes": 16,
        "counted": True,
        "formula": [],
    }
    totals = {
        "params": 0,
        "trainable_params": 0,
        "non_trainable_params": 0,
        "buffers": 0,
        "macs": 0,
        "flops": 4,
        "weight_bytes": 0,
        "activation_bytes": 16,
        "peak_activation_bytes": 32,
        "peak_activation_layer": EVIL,
        "coverage": {"counted_layers": 1, "layers": 1, "percent": 100.0, "uncounted_ops": {}},
    }
    model = {
        "name": EVIL,
        "framework": "pytorch",
        "inputs": [{"name": "x", "shape": [1, 4], "dtype": "float32"}],
        "trace_method": "fx",
        "notes": [],
    }
    return ProfileResult(model, totals, [row])


def test_console_prints_names_literally() -> None:
    from zooprof.result.columns import COLUMNS

    text = render(tiny(), "table", columns=[COLUMNS["name"], COLUMNS["op"]], color=False)
    assert EVIL in text


def test_markdown_and_html_fragment_escape() -> None:
    from zooprof.result.columns import COLUMNS

    md = render(tiny(), "md", columns=[COLUMNS["name"]])
    assert "[bold red]&lt;img src=x onerror=alert(1)&gt;" in md and "<img" not in md  # HTML escaped (issue 16)
    html = tiny()._repr_html_()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html

"""Convolution (and the sliding-window arithmetic pooling shares with it)."""

from __future__ import annotations

from math import prod

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import RF, Rule, as_tuple, pads, window_rf


def window_out(size: int, k: int, s: int, lo: int, hi: int, d: int = 1, ceil_mode: bool = False) -> int:
    """Output length of a sliding window: floor((in + lo + hi - d*(k-1) - 1)/s) + 1."""
    span = size + lo + hi - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + lo:
        out -= 1  # PyTorch: the last window must start inside the input or left padding
    return out


def window_formula(size: int, k: int, s: int, lo: int, hi: int, d: int, out: int, ceil_mode: bool = False) -> str:
    """The slide's form, e.g. (224 + 2*2 - 11)/4 + 1 = 55."""
    pad = f"2*{lo}" if lo == hi else f"{lo} + {hi}"
    kern = f"{k}" if d == 1 else f"{d}*({k} - 1) - 1"
    rounding = "ceil" if ceil_mode else ""
    return f"{rounding}({size} + {pad} - {kern})/{s} + 1 = {out}"


class WindowRule(Rule):
    """Shared by conv and pooling: kernel, stride, padding, dilation over the spatial axes."""

    def _geometry(self, layer: Layer) -> tuple[tuple[int, ...], ...]:
        n = len(layer.output.spatial)  # as the input's; the output is there even when the input is a constant
        kernel = as_tuple(layer.attrs["kernel"], n)
        stride = as_tuple(layer.attrs.get("stride", 1), n)
        dilation = as_tuple(layer.attrs.get("dilation", 1), n)
        lo, hi = pads(layer, n)
        return kernel, stride, dilation, lo, hi

    def _out_spatial(self, layer: Layer) -> tuple[int, ...]:
        kernel, stride, dilation, lo, hi = self._geometry(layer)
        ceil_mode = bool(layer.attrs.get("ceil_mode", False))
        return tuple(
            window_out(i, k, s, a, b, d, ceil_mode)
            for i, k, s, a, b, d in zip(layer.inputs[0].spatial, kernel, stride, lo, hi, dilation, strict=True)
        )

    def explain(self, layer: Layer) -> list[str]:
        kernel, stride, dilation, lo, hi = self._geometry(layer)
        ceil_mode = bool(layer.attrs.get("ceil_mode", False))
        return [
            window_formula(i, k, s, a, b, d, o, ceil_mode)
            for i, k, s, a, b, d, o in zip(
                layer.inputs[0].spatial, kernel, stride, lo, hi, dilation, layer.output.spatial, strict=True
            )
        ]

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        kernel, stride, dilation, lo, _ = self._geometry(layer)
        return window_rf(inputs[0], kernel, stride, lo, dilation)


class ConvRule(WindowRule):
    """MACs = output elements x (C_in / groups) x kernel area (bias not counted, as torchvision).

    FLOPs = 2 x MACs, plus one add per output element when the conv has a bias.
    """

    kinds = frozenset({OpKind.CONV})

    def expected_shape(self, layer: Layer) -> tuple[int, ...]:
        n = layer.inputs[0].shape[0]
        return (n, int(layer.attrs["out_channels"]), *self._out_spatial(layer))

    def macs(self, layer: Layer) -> int:
        kernel, *_ = self._geometry(layer)
        per_output = int(layer.attrs["in_channels"]) // int(layer.attrs.get("groups", 1)) * prod(kernel)
        return layer.output.numel * per_output

    def flops(self, layer: Layer) -> int:
        return 2 * self.macs(layer) + (layer.output.numel if layer.attrs.get("bias") else 0)


class ConvTransposeRule(Rule):
    """Transposed conv: each input element is scattered through C_out/groups x kernel weights.

    MACs = input elements x (C_out / groups) x kernel area. Receptive field: not modelled
    (marked unknown) rather than guessed.
    """

    kinds = frozenset({OpKind.CONV_TRANSPOSE})

    def macs(self, layer: Layer) -> int:
        kernel = as_tuple(layer.attrs["kernel"], len(layer.inputs[0].spatial))
        per_input = int(layer.attrs["out_channels"]) // int(layer.attrs.get("groups", 1)) * prod(kernel)
        return layer.inputs[0].numel * per_input

    def flops(self, layer: Layer) -> int:
        return 2 * self.macs(layer) + (layer.output.numel if layer.attrs.get("bias") else 0)

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        return RF(known=False)

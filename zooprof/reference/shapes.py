"""What `--input-shape` means for a detection model, checked before anything is built.

A detector takes a list of CxHxW images. `NxCxHxW` gives N images of CxHxW; several shapes
(comma-separated) give images of different sizes in one list. No framework import.
"""

from __future__ import annotations

from zooprof.errors import UsageError

Shape = tuple[int, ...]


def check_image_shapes(name: str, shapes: list[Shape], channels: int = 3) -> None:
    """N x C x H x W with the model's channel count, else a one-line UsageError."""
    example = f"1x{channels}x320x320"
    for shape in shapes:
        text = "x".join(map(str, shape))
        if len(shape) != 4:
            raise UsageError(
                f"{name} is a detection model and takes a list of {channels}xHxW images; "
                f"--input-shape {text} has {len(shape)} dimension(s)",
                f"give NxCxHxW (N images of CxHxW), e.g. {example}; several sizes: {example},1x{channels}x480x640",
            )
        if shape[1] != channels:
            raise UsageError(
                f"{name} normalises {channels}-channel images; --input-shape {text} has {shape[1]} channel(s)",
                f"e.g. --input-shape {example}",
            )

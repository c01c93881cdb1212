"""Builders of PyTorch files for the safety tests (helpers, not a test module): small real
TorchScript and torch.export files, hostile variants of them, and pickles whose loading would write
a marker file (code ran). Everything is generated, deterministic, and tiny.

The scripted modules live here, at module level, because torch.jit.script reads their source."""

from __future__ import annotations

import builtins
import json
import pickle
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

INPUT = (1, 3, 8, 8)
INPUT_TEXT = "1x3x8x8"


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))


class LoopForever(nn.Module):
    """A forward that never returns (an int64 counter: 2**63 iterations)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        i = 0
        while i >= 0:
            i = i + 1
        return self.fc(x)


class AllocateHuge(nn.Module):
    """A forward that allocates 4.5 GB on the CPU, whatever device its input is on."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.ones([1125000000], dtype=torch.float32, device="cpu")
        return self.fc(x) + y[:4].to(x.device)


class _WritesMarker:
    """Pickles to a call of `exec` that writes the marker file: if the file appears, code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').write('x')",))


def marker_pickle(marker: Path) -> bytes:
    """A plain pickle whose loading writes `marker`."""
    return pickle.dumps((_WritesMarker(marker), {}), protocol=2)


def save_torchscript(path: Path, module: nn.Module | None = None) -> Path:
    torch.jit.script((module or Tiny()).eval()).save(str(path))
    return path


def save_export(path: Path) -> Path:
    torch.manual_seed(0)
    ep = torch.export.export(Tiny().eval(), (torch.zeros(INPUT),))
    torch.export.save(ep, str(path))
    return path


def rewrite_zip(
    src: Path, dst: Path, change: Callable[[str, bytes], bytes | None], add: dict[str, bytes] | None = None
) -> Path:
    """A copy of the zip `src` with each member's bytes passed through `change(name, data)` (None: drop
    the member), plus the members in `add`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
        root = zin.namelist()[0].split("/", 1)[0]
        for name, data in (add or {}).items():
            zout.writestr(name.replace("{root}", root), data)
    return dst


def edit_graph(src: Path, dst: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the .pt2 `src` whose models/model.json is changed in place by `edit`."""

    def change(name: str, data: bytes) -> bytes:
        if name.endswith("models/model.json"):
            doc = json.loads(data)
            edit(doc)
            return json.dumps(doc).encode()
        return data

    return rewrite_zip(src, dst, change)


def first_node(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["graph_module"]["graph"]["nodes"][0]


def truncated(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def flipped(src: Path, dst: Path, seed: int, count: int = 8) -> Path:
    """`src` with `count` bytes flipped at seeded positions."""
    data = bytearray(src.read_bytes())
    rng = random.Random(seed)
    for _ in range(count):
        i = rng.randrange(len(data))
        data[i] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst


def code_in_weight_name(marker: Path) -> str:
    """A weight name that torch.fx would paste into generated code as `getattr(self, "NAME")`:
    once there, it opens (creates) `marker`."""
    chars = "+".join(f"chr({ord(c)})" for c in str(marker))
    return f'w", 0) or open({chars}, chr(119)) or getattr(self, "v'


def rename_weight(src: Path, dst: Path, old: str, new: str) -> Path:
    """A copy of the .pt2 `src` with the weight `old` called `new` in every JSON member."""
    quoted_old, quoted_new = json.dumps(old).encode(), json.dumps(new).encode()
    return rewrite_zip(
        src, dst, lambda name, data: data.replace(quoted_old, quoted_new) if name.endswith(".json") else data
    )

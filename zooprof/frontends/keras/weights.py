"""Weights a model file holds, and their check against the config.

`FileWeight` is one weight tensor found in a file (.h5, .keras, a TF.js manifest, a built
model), `weight_key` splits its name into (layer, variable). `check_weights` compares them with
the weights the config describes (`GraphBuilder.expected`): matched by name, then by shape
for renamed layers; a disagreement is a UsageError, never a silent guess. Weights of layers
zooprof has no rule for are attached to those layers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from zooprof.errors import UsageError
from zooprof.frontends.keras.builder import GraphBuilder
from zooprof.frontends.keras.constants import Shape
from zooprof.ir.graph import DTYPE_BYTES, ParamSpec, numel


@dataclass
class FileWeight:
    """One weight tensor found in a model file: the Keras layer it belongs to (when the file
    names it), the variable name, and its shape."""

    layer: str | None
    var: str
    shape: Shape
    dtype: str = "float32"
    path: str = ""  # the full name in the file, e.g. 'lstm/lstm_cell/kernel:0'


def weight_key(name: str) -> tuple[str | None, str]:
    """'sequential_1/Conv1/kernel:0' -> ('Conv1', 'kernel')."""
    name = name.split(":")[0]
    parts = [p for p in name.split("/") if p]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return None, parts[-1] if parts else name


def weight_dtype(name: Any) -> str:
    """A weight's dtype name as zooprof knows it (float32 for anything else)."""
    s = str(name)
    return s if s in DTYPE_BYTES else "float32"


#: variable names that differ between Keras versions (config's name -> another file's name)
VAR_ALIASES = {"depthwise_kernel": "kernel"}


def _unnamed_variable(
    key: tuple[str, str], actual: dict[tuple[str | None, str], list[FileWeight]], used: set[tuple[str | None, str]]
) -> tuple[str | None, str] | None:
    """The file's name for a weight Keras 3 created without a name (`add_weight(shape=...)`, as
    keras.applications' LayerScale does: 'variable', 'variable_3'): the one such weight of that
    layer, when there is exactly one."""
    found = [
        k for k in actual if k[0] == key[0] and k not in used and re.fullmatch(r"variable(_\d+)?", k[1]) is not None
    ]
    return found[0] if len(found) == 1 else None


def check_weights(b: GraphBuilder, weights: list[FileWeight], source: str) -> list[str]:
    """Compare the file's weight shapes with the config's; attach file weights to uncounted layers."""
    notes: list[str] = []
    expected: dict[tuple[str, str], list[Shape]] = {}
    for e in b.expected:
        expected.setdefault((e.layer, e.var), []).append(e.shape)
    actual: dict[tuple[str | None, str], list[FileWeight]] = {}
    for w in weights:
        actual.setdefault((w.layer, w.var), []).append(w)
    named = any(k in expected for k in actual)
    if named:
        used: set[tuple[str | None, str]] = set()
        missing: list[tuple[tuple[str, str], Shape]] = []
        for key, shapes in expected.items():
            akey: tuple[str | None, str] = key
            if key not in actual and key[1] in VAR_ALIASES:
                akey = (key[0], VAR_ALIASES[key[1]])  # Keras 3 names a depthwise kernel 'kernel'
            if akey not in actual:
                akey = _unnamed_variable(key, actual, used) or akey
            got = actual.get(akey)
            if got is None:
                missing.extend((key, shape) for shape in shapes)
                continue
            used.add(akey)
            if sorted(shapes) != sorted(w.shape for w in got):
                hint = (
                    "the file is inconsistent (architecture and weights from different models?)"
                    if not b.assumed_shapes
                    else f"zooprof could not compute the output shape of {b.assumed_shapes[0]} (assumed equal to "
                    "its input), which the layers after it depend on; give a model without it"
                )
                raise UsageError(
                    f"{source}: weight '{key[0]}/{key[1]}' is "
                    f"{', '.join('x'.join(map(str, w.shape)) for w in got)} in the file, the config "
                    f"gives {', '.join('x'.join(map(str, s)) for s in shapes)}",
                    hint,
                )
        attached: list[str] = []
        orphans: list[FileWeight] = []
        for (layer_name, var), ws in actual.items():
            if (layer_name, var) in used:
                continue
            for w in ws:
                owners = [layer_name or "", *w.path.split(":")[0].split("/")]
                owner = next((o for o in owners if o in b.unknown_layers), None)
                if owner is None:
                    orphans.append(w)
                    continue
                i = b.unknown_layers[owner][0]
                layer = b.layers[i]
                label = w.path.split(":")[0] or f"{layer_name}/{var}"
                prefix = layer.name.rsplit("/", 1)[0] + "/" if "/" in layer.name else ""
                b.layers[i] = replace(layer, params=(*layer.params, ParamSpec(f"{prefix}{label}", w.shape, w.dtype)))
                attached.append(label)
        if missing or orphans:
            # names that differ (a renamed layer): the rest must still agree shape for shape
            if sorted(s for _, s in missing) != sorted(w.shape for w in orphans):
                if missing:
                    (layer_name, var), shape = missing[0]
                    raise UsageError(
                        f"{source}: the config gives layer '{layer_name}' a weight '{var}' "
                        f"{'x'.join(map(str, shape))}, the file has none",
                        "the file is inconsistent (architecture and weights from different models?)",
                    )
                w = orphans[0]
                raise UsageError(
                    f"{source}: the file holds a weight '{w.path or f'{w.layer}/{w.var}'}' "
                    f"({'x'.join(map(str, w.shape))}) that the config does not describe",
                    "the file is inconsistent, or zooprof misreads that layer",
                )
            notes.append(f"{len(missing)} weight(s) matched by shape, not by name (named differently in the file)")
        if attached:
            notes.append(
                f"weights of uncounted layers taken from the file: {', '.join(attached[:4])}"
                f"{' ...' if len(attached) > 4 else ''}"
            )
        return notes
    want = sorted(s for shapes in expected.values() for s in shapes)
    have = sorted(w.shape for w in weights)
    if want != have:
        n_want, n_have = sum(numel(s) for s in want), sum(numel(s) for s in have)
        if not b.unknown or n_have < n_want:
            raise UsageError(
                f"{source}: the weights file holds {len(have)} tensors ({n_have:,} values), the config "
                f"describes {len(want)} ({n_want:,} values)",
                "the file is inconsistent (architecture and weights from different models?)",
            )
        notes.append(
            f"the weights file holds {n_have - n_want:,} values more than the counted layers describe "
            "(weights of uncounted layers, not attributed)"
        )
    return notes

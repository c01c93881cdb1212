"""Generators of hostile Keras (.h5, .keras), TF.js and Teachable Machine files for
tests/hostile/test_keras_tfjs_files.py: every file is written here, deterministically (no
TensorFlow: configs as JSON, .h5 files with h5py, zips with zipfile and patched headers)."""

from __future__ import annotations

import base64
import copy
import json
import marshal
import os
import random
import struct
import types
import zipfile
from pathlib import Path
from typing import Any

from tests.frontends import keras_fixtures as F

TM = Path("/work/shared/fixtures/teachable-machine")


def lambda_config(name: str, marker: Path) -> dict[str, Any]:
    """A Keras 2 Lambda whose marshalled function writes `marker` when called."""
    src = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('x'), x)[1]"
    module = compile(src, "<payload>", "eval")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return {
        "class_name": "Lambda",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "function": [base64.b64encode(marshal.dumps(code)).decode(), None, None],
            "function_type": "lambda",
            "module": "__main__",
            "output_shape": None,
            "output_shape_type": "raw",
            "output_shape_module": None,
            "arguments": {},
        },
    }


def functional(layers: list[dict[str, Any]], inputs: str = "input_1", outputs: str | None = None) -> dict[str, Any]:
    """A Keras 2 Functional model record (layers given with their inbound_nodes)."""
    out = outputs or layers[-1]["name"]
    return {
        "class_name": "Functional",
        "config": {
            "name": "model",
            "layers": layers,
            "input_layers": [[inputs, 0, 0]],
            "output_layers": [[out, 0, 0]],
        },
        "keras_version": "2.13.1",
        "backend": "tensorflow",
    }


def input_layer(shape: list[Any], name: str = "input_1") -> dict[str, Any]:
    return {
        "class_name": "InputLayer",
        "config": {"batch_input_shape": shape, "dtype": "float32", "sparse": False, "name": name},
        "name": name,
        "inbound_nodes": [],
    }


def call(record: dict[str, Any], name: str, src: str, node: int = 0, index: int = 0) -> dict[str, Any]:
    """A layer record called on (src, node, index)."""
    out = copy.deepcopy(record)
    out.setdefault("config", {})["name"] = name
    out["name"] = name
    out["inbound_nodes"] = [[[src, node, index, {}]]]
    return out


def wrapped_lambda_model(wrapper: str, marker: Path) -> dict[str, Any]:
    """A Lambda hidden inside `wrapper`: TimeDistributed, Bidirectional (as an RNN cell), a nested
    Sequential, or TimeDistributed of a Functional model."""
    lam = lambda_config("lam", marker)
    if wrapper == "TimeDistributed":
        inner: dict[str, Any] = {"class_name": "TimeDistributed", "config": {"name": "td", "layer": lam}}
    elif wrapper == "Bidirectional":
        rnn = {"class_name": "RNN", "config": {"name": "rnn", "cell": lam, "units": 4}}
        inner = {"class_name": "Bidirectional", "config": {"name": "bi", "layer": rnn, "merge_mode": "concat"}}
    elif wrapper == "Sequential":
        inner = {"class_name": "Sequential", "config": {"name": "seq", "layers": [lam]}}
    else:  # TimeDistributed of a Functional model holding the Lambda
        sub = functional([input_layer([None, 8], "sub_in"), call(lam, "lam", "sub_in")], inputs="sub_in")
        inner = {"class_name": "TimeDistributed", "config": {"name": "td", "layer": sub}}
    return functional([input_layer([None, 4, 8]), call(inner, inner["config"]["name"], "input_1")])


def write_h5(path: Path, config: dict[str, Any] | str, weights_as_dataset: bool = False) -> Path:
    import h5py
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["model_config"] = config if isinstance(config, str) else json.dumps(config)
        f.attrs["keras_version"] = "2.13.1"
        f.attrs["backend"] = "tensorflow"
        if weights_as_dataset:
            f.create_dataset("model_weights", data=np.zeros(4, dtype="float32"))
    return path


def write_keras_zip(path: Path, config: dict[str, Any], members: dict[str, bytes] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
        z.writestr("config.json", json.dumps(config))
        for name, data in (members or {}).items():
            z.writestr(name, data)
    return path


def patch_zip(
    path: Path, member: str, *, size: int | None = None, flags: int | None = None, method: int | None = None
) -> Path:
    """Rewrite `member`'s central-directory (and local) header fields in place."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    cd = data.find(b"PK\x01\x02")
    while cd >= 0:
        n, extra, comment = struct.unpack_from("<HHH", data, cd + 28)
        if bytes(data[cd + 46 : cd + 46 + n]) == name:
            local = struct.unpack_from("<I", data, cd + 42)[0]
            if flags is not None:
                struct.pack_into("<H", data, cd + 8, flags)
                struct.pack_into("<H", data, local + 6, flags)
            if method is not None:
                struct.pack_into("<H", data, cd + 10, method)
                struct.pack_into("<H", data, local + 8, method)
            if size is not None:
                struct.pack_into("<I", data, cd + 24, size)
                struct.pack_into("<I", data, local + 22, size)
        cd = data.find(b"PK\x01\x02", cd + 46 + n + extra + comment)
    path.write_bytes(bytes(data))
    return path


def zip_bomb_member(path: Path, config: dict[str, Any], member: str, mib: int = 256) -> Path:
    """A .keras zip whose `member` really expands to `mib` MiB of zeros."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        if member != "config.json":
            z.writestr("config.json", json.dumps(config))
        with z.open(member, "w", force_zip64=True) as dst:
            block = b"\0" * (1 << 20)
            for _ in range(mib):
                dst.write(block)
    return path


def tfjs(folder: Path, topology: dict[str, Any] | None = None, weights: list[dict[str, Any]] | None = None) -> Path:
    return F.write_tfjs(folder, topology, weights)


def mutated_topology(edit: Any) -> dict[str, Any]:
    """The small TF.js topology with `edit(layers)` applied (layers: the Sequential's list)."""
    topology = copy.deepcopy(F.TFJS_TOPOLOGY)
    edit(topology["config"]["layers"])
    return topology


def reversed_chain(n: int) -> dict[str, Any]:
    """A Functional model of n ReLU layers in a chain, listed in reverse order."""
    layers = [input_layer([None, 8])]
    prev = "input_1"
    chain = []
    for i in range(n):
        chain.append(
            {"class_name": "ReLU", "config": {"name": f"r{i}"}, "name": f"r{i}", "inbound_nodes": [[[prev, 0, 0, {}]]]}
        )
        prev = f"r{i}"
    return functional(layers + chain[::-1], outputs=prev)


DEEP = "__DEEP__"


def nested_sequential(depth: int) -> str:
    """JSON text of a Sequential nested `depth` deep (too deep for json.dumps)."""
    text = (
        '{"class_name": "Sequential", "config": {"name": "s0", "layers": [{"class_name": "ReLU", '
        '"config": {"name": "r", "batch_input_shape": [null, 4]}}]}}'
    )
    for i in range(1, depth):
        text = f'{{"class_name": "Sequential", "config": {{"name": "s{i}", "layers": [{text}]}}}}'
    return text


def deepen(path: Path, depth: int) -> Path:
    """Replace the string DEEP in a JSON file with a list nested `depth` deep."""
    path.write_text(path.read_text().replace(f'"{DEEP}"', "[" * depth + "1" + "]" * depth))
    return path


def tfjs_text(folder: Path, topology: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.json").write_text(f'{{"modelTopology": {topology}, "weightsManifest": []}}')
    return folder / "model.json"


def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def flip(path: Path, seed: int, n: int = 16) -> Path:
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(n):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    os.chmod(path, 0o644)
    path.write_bytes(bytes(data))
    return path


def truncate(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    os.chmod(path, 0o644)
    path.write_bytes(data[: int(len(data) * fraction)])
    return path

"""Lab assignments: the TOML file, validated, and the matrix of cells it declares.

    [assignment]  name, description
    [matrix]      models (required), runtimes, devices, precisions, batches, threads,
                  power_modes, repeats, [matrix.input_shapes] (model = "1x3x224x224")
    [measure]     max_time, target_ci, timeout, per_layer, power, sensor, sample_hz, idle
    [cooldown]    seconds, temperature_c, max_wait_s
    [grading]     see zooprof.sweep.grading

docs/labs.md has the whole format. A cell is one measurement: a plain dict (model, runtime,
device, precision, batch, threads, input_shape, power_mode, repeat); `cell_key` names it in the
results database, `machine_fingerprint` names the machine, so `zooprof sweep` skips the cells a
machine already has.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Cell = dict[str, Any]
CELL_KEYS = ("model", "runtime", "device", "precision", "batch", "threads", "input_shape", "power_mode", "repeat")

SECTIONS: dict[str, dict[str, str]] = {
    "assignment": {"name": "text", "description": "text", "course": "text"},
    "matrix": {
        "models": "list of text",
        "runtimes": "list of text",
        "devices": "list of text",
        "precisions": "list of text",
        "batches": "list of integers",
        "threads": "list of integers",
        "power_modes": "list of text or integers",
        "repeats": "integer",
        "input_shapes": "table of model = shape",
    },
    "measure": {
        "max_time": "number",
        "target_ci": "text or number",
        "timeout": "number",
        "per_layer": "boolean",
        "power": "boolean",
        "sensor": "text",
        "sample_hz": "number",
        "idle": "text or number",
        "trust": "boolean",
        "memory_limit": "text or number",
    },
    "cooldown": {"seconds": "number", "temperature_c": "number", "max_wait_s": "number"},
    "grading": {
        "required": "text or integer",
        "max_ci_rel": "number",
        "min_iterations": "integer",
        "board_model": "text",
        "power_modes": "list of text or integers",
        "latency_mad_k": "number",
        "energy_rel_tol": "number",
        "static_rel_tol": "number",
    },
}
REQUIRED = {("assignment", "name"), ("matrix", "models")}


@dataclass
class Assignment:
    """A validated assignment file."""

    path: Path
    name: str
    matrix: dict[str, Any]
    measure: dict[str, Any] = field(default_factory=dict)
    cooldown: dict[str, Any] = field(default_factory=dict)
    grading: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def cells(self) -> list[Cell]:
        """Every cell, power mode outermost (switching a Jetson's mode is the slow step)."""
        m = self.matrix
        shapes = m.get("input_shapes") or {}
        axes = itertools.product(
            m.get("power_modes") or [None],
            m["models"],
            m.get("runtimes") or [None],
            m.get("devices") or [None],
            m.get("precisions") or [None],
            m.get("batches") or [1],
            m.get("threads") or [None],
            range(int(m.get("repeats") or 1)),
        )
        cells = [
            {
                "model": model,
                "runtime": runtime,
                "device": device,
                "precision": precision,
                "batch": batch,
                "threads": threads,
                "input_shape": shapes.get(model),
                "power_mode": None if mode is None else str(mode),
                "repeat": repeat,
            }
            for mode, model, runtime, device, precision, batch, threads, repeat in axes
        ]
        for cell in cells:
            if cell["runtime"] == "default":  # the model's own runtime
                cell["runtime"] = None
        return cells


def cell_key(cell: Cell) -> str:
    """The cell's name in the results database: its settings, not where or when it ran."""
    canonical = json.dumps({k: cell.get(k) for k in CELL_KEYS}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def cell_label(cell: Cell) -> str:
    parts = [cell["model"], cell.get("runtime") or "default", f"b{cell['batch']}"]
    for key in ("device", "precision"):
        if cell.get(key):
            parts.append(str(cell[key]))
    if cell.get("threads"):
        parts.append(f"t{cell['threads']}")
    if cell.get("power_mode") is not None:
        parts.append(f"mode {cell['power_mode']}")
    if cell.get("repeat"):
        parts.append(f"#{cell['repeat'] + 1}")
    return " ".join(parts)


def machine_fingerprint(environment: dict[str, Any]) -> str:
    """The machine a row was measured on, for --resume: board model, CPU, memory, L4T release
    (never the hostname: a board renamed is the same board)."""
    board = environment.get("board") if isinstance(environment.get("board"), dict) else {}
    parts = [
        board.get("model"),
        environment.get("cpu_model"),
        environment.get("memory_bytes"),
        board.get("l4t_release"),
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# loading and validation


def _line_of(text: str, section: str, key: str) -> int | None:
    """The line number of `key = ...` inside `[section]` (for messages); None if not found."""
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[([^\[\]]+)\]", line)
        if header:
            current = header.group(1).strip()
            continue
        in_section = current is not None and (current == section or current.startswith(section + "."))
        if in_section and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
        if current is None and section == "" and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None


def _type_ok(value: Any, kind: str) -> bool:
    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def is_num(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    checks = {
        "text": lambda v: isinstance(v, str),
        "integer": is_int,
        "number": is_num,
        "boolean": lambda v: isinstance(v, bool),
        "text or number": lambda v: isinstance(v, str) or is_num(v),
        "text or integer": lambda v: isinstance(v, str) or is_int(v),
        "list of text": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "list of integers": lambda v: isinstance(v, list) and all(is_int(x) for x in v),
        "list of text or integers": lambda v: isinstance(v, list) and all(isinstance(x, str) or is_int(x) for x in v),
        "table of model = shape": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
    }
    return checks[kind](value)


def load_assignment(path: str | Path) -> Assignment:
    """Read and validate an assignment file; a UsageError names the file, the line, the key and
    what is allowed."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read assignment {p}: {exc}", "give a TOML file, e.g. labs/lab1.toml") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{p}: not valid TOML: {exc}", "see docs/labs.md for the format") from None

    def fail(section: str, key: str | None, what: str) -> UsageError:
        line = _line_of(text, section, key) if key else None
        where = f"{p}" + (f":{line}" if line else "") + f": [{section}]" + (f" {key}" if key else "")
        return UsageError(f"{where}: {what}", "see docs/labs.md for the format")

    for section in data:
        if section not in SECTIONS:
            raise fail(section, None, f"unknown section; allowed: {', '.join(SECTIONS)}")
        if not isinstance(data[section], dict):
            raise fail(section, None, "must be a table ([section] followed by key = value lines)")
        for key, value in data[section].items():
            allowed = SECTIONS[section]
            if key not in allowed:
                raise fail(section, key, f"unknown key; allowed: {', '.join(allowed)}")
            if not _type_ok(value, allowed[key]):
                raise fail(section, key, f"must be {allowed[key]}, got {type(value).__name__} {value!r}")
    for section, key in REQUIRED:
        if key not in data.get(section, {}):
            raise fail(section, None, f"'{key}' is required")
    matrix = data["matrix"]
    for key in ("models", "runtimes", "devices", "precisions", "batches", "threads", "power_modes"):
        if key in matrix and not matrix[key]:
            raise fail("matrix", key, "must not be empty (leave the key out for the default)")
    for key in ("batches", "threads"):
        if any(v < 1 for v in matrix.get(key, [])):
            raise fail("matrix", key, "every value must be 1 or more")
    if matrix.get("repeats", 1) < 1:
        raise fail("matrix", "repeats", "must be 1 or more")
    _check_values(matrix, data.get("measure", {}), fail)
    return Assignment(
        path=p,
        name=data["assignment"]["name"],
        description=data["assignment"].get("description", ""),
        matrix=matrix,
        measure=data.get("measure", {}),
        cooldown=data.get("cooldown", {}),
        grading=data.get("grading", {}),
    )


def _check_values(matrix: dict[str, Any], measure: dict[str, Any], fail: Any) -> None:
    """Values the rest of zooprof would refuse later, refused now with the line."""
    from zooprof import runtimes
    from zooprof.reference.resolve import parse_shape
    from zooprof.runtimes.devices import parse_device, parse_precision

    for runtime in matrix.get("runtimes", []):
        if runtime != "default":
            try:
                runtimes.parse_runtimes(runtime)
            except UsageError as exc:
                raise fail("matrix", "runtimes", exc.message) from None
    for key, parse in (("devices", parse_device), ("precisions", parse_precision)):
        for value in matrix.get(key, []):
            try:
                parse(value)
            except UsageError as exc:
                raise fail("matrix", key, exc.message) from None
    for model, shape in (matrix.get("input_shapes") or {}).items():
        if model not in matrix["models"]:
            raise fail("matrix", "input_shapes", f"'{model}' is not one of the models")
        try:
            parse_shape(shape)
        except UsageError as exc:
            raise fail("matrix", "input_shapes", exc.message) from None
    for key in ("max_time", "timeout", "sample_hz"):
        if key in measure and measure[key] <= 0:
            raise fail("measure", key, "must be above 0")
    if "memory_limit" in measure:
        from zooprof.runtimes.memory_limit import parse_memory_limit

        try:
            parse_memory_limit(measure["memory_limit"])
        except UsageError as exc:
            raise fail("measure", "memory_limit", exc.message) from None

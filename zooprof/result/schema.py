"""Reading result documents of any schema version (see docs/result-schema.md).

`upgrade_document` is what `ProfileResult.from_dict` runs first: it refuses what this
zooprof cannot read, with a message that says which zooprof can, and fills the keys an
older (or a newer minor) 1.x document lacks. What it fills is listed in
`environment["schema_defaults"]`, so a derived or missing figure is never mistaken for a
measured one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError

#: The schema major version this zooprof reads (any minor: 1.0, 1.1, ...).
READ_MAJOR = 1
#: Totals that are sums of the per-layer key of the same name (plus, for the stored-tensor keys,
#: the optional `totals.params_not_in_trace`: tensors no layer uses; absent in documents before it).
SUMMED_TOTALS = (
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
    "flops",
    "weight_bytes",
    "activation_bytes",
)
HINT_RESULT = "give a JSON file written by `zooprof profile` or `zooprof inspect -f json`"


class ResultFileError(UsageError, ValueError):
    """A file that is not a result this zooprof can read. Also a ValueError, so code that treats
    an unreadable cache entry as a miss (zooprof.result.cache) keeps doing so."""


def parse_version(value: Any) -> tuple[int, int] | None:
    """'1.0' -> (1, 0); '1' or 1 -> (1, 0); anything else -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value, 0) if value >= 0 else None
    if not isinstance(value, str):
        return None
    parts = value.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0


def writer_version(d: dict[str, Any]) -> str:
    """The zooprof version that wrote a document, as far as it says."""
    env = d.get("environment") if isinstance(d.get("environment"), dict) else {}
    return str(d.get("zooprof_version") or env.get("zooprof_version") or "an unknown version")


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def read_json(path: str | Path) -> Any:
    """The JSON in `path`, or a one-line error saying why there is none."""
    p = Path(path)
    if not p.exists():
        raise ResultFileError(f"no such file: {p}", HINT_RESULT)
    if p.is_dir():
        raise ResultFileError(f"{p} is a folder, not a result file", "give the result.json inside it")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ResultFileError(f"{p} is not a zooprof result (not a text file)", HINT_RESULT) from None
    except json.JSONDecodeError as exc:
        raise ResultFileError(
            f"{p} is not a zooprof result (not valid JSON: line {exc.lineno}: {exc.msg})", HINT_RESULT
        ) from None


def upgrade_document(d: Any, where: str = "") -> dict[str, Any]:
    """Check that `d` is a result this zooprof reads and return a copy with defaults filled in."""
    from zooprof.version import __version__

    pre = _prefix(where)
    if not isinstance(d, dict):
        raise ResultFileError(f"{pre}not a zooprof result (a JSON {type(d).__name__}, not an object)", HINT_RESULT)
    if "rows" in d and "sources" in d and "schema_version" not in d:
        raise ResultFileError(
            f"{pre}a `zooprof compare` output, not a result", "compare the result files it was made from"
        )
    if "schema_version" not in d:
        raise ResultFileError(f"{pre}not a zooprof result (no schema_version)", HINT_RESULT)
    version = parse_version(d["schema_version"])
    if version is None:
        raise ResultFileError(
            f"{pre}not a zooprof result (malformed schema_version {d['schema_version']!r})", HINT_RESULT
        )
    major, _minor = version
    written = f"written by zooprof {writer_version(d)} (schema {d['schema_version']})"
    if major > READ_MAJOR:
        raise ResultFileError(
            f"{pre}{written}; this zooprof ({__version__}) reads schema {READ_MAJOR}.x",
            "upgrade zooprof: pip install -U zooprof",
        )
    if major < READ_MAJOR:
        raise ResultFileError(
            f"{pre}{written}, which reads it; this zooprof ({__version__}) reads schema {READ_MAJOR}.x only",
            "open it with the zooprof that wrote it, or measure again",
        )
    missing = [k for k in ("model", "totals", "layers") if k not in d]
    if missing:
        raise ResultFileError(
            f"{pre}not a complete zooprof result (schema {d['schema_version']} without {', '.join(missing)})",
            HINT_RESULT,
        )
    if not isinstance(d["model"], dict) or not isinstance(d["totals"], dict) or not isinstance(d["layers"], list):
        raise ResultFileError(
            f"{pre}not a zooprof result (model and totals must be objects, layers a list)", HINT_RESULT
        )
    return fill_defaults(d)


def fill_defaults(d: dict[str, Any]) -> dict[str, Any]:
    """A copy of `d` with the keys a 1.x document written before they existed lacks. Totals are
    derived from the layers where the layers hold them; what cannot be derived stays absent (n/a).
    Copies are shallow (a cache hit of a large model stays fast); `d` itself is not changed."""
    filled: list[str] = []
    d = dict(d)
    for key in ("model", "totals"):
        d[key] = dict(d[key])
    d["environment"] = dict(d["environment"]) if isinstance(d.get("environment"), dict) else d.get("environment")

    def default(obj: dict[str, Any], key: str, value: Any, label: str) -> None:
        if key not in obj:
            obj[key] = value
            filled.append(label)

    default(d, "measurements", [], "measurements (none)")
    if not isinstance(d.get("environment"), dict):
        d["environment"] = {}
        filled.append("environment (empty)")
    d.setdefault("graph", None)
    model, totals, layers = d["model"], d["totals"], d["layers"]
    default(model, "name", model.get("reference") or "unknown", "model.name")
    default(model, "reference", model["name"], "model.reference")
    default(model, "framework", "unknown", "model.framework")
    default(model, "notes", [], "model.notes")
    default(model, "reference_figures", {}, "model.reference_figures")
    default(model, "trace_method", "", "model.trace_method")
    if "inputs" not in model and model.get("input_shape"):
        model["inputs"] = [{"name": "input", "shape": list(model["input_shape"]), "dtype": "float32"}]
        filled.append("model.inputs (from input_shape)")
    if any(not isinstance(r, dict) or "source_op" not in r or "output_shape" not in r for r in layers):
        layers = [{"source_op": r.get("op", "unknown"), "output_shape": [], **r} for r in layers if isinstance(r, dict)]
        d["layers"] = layers
        filled.append("layers' source_op and output_shape")
    rows = layers
    outside = totals.get("params_not_in_trace") if isinstance(totals.get("params_not_in_trace"), dict) else {}
    for key in SUMMED_TOTALS:
        if key not in totals and rows and all(key in r for r in rows):
            totals[key] = sum(r[key] for r in rows) + int(outside.get(key, 0))
            filled.append(f"totals.{key} (sum of layers)")
    if "peak_activation_bytes" not in totals and rows and all("live_bytes" in r for r in rows):
        totals["peak_activation_bytes"] = max(r["live_bytes"] for r in rows)
        filled.append("totals.peak_activation_bytes (max of layers' live_bytes)")
    if "coverage" not in totals and all("counted" in r for r in rows):
        counted = [r for r in rows if r["counted"]]
        uncounted: dict[str, int] = {}
        for r in rows:
            if not r["counted"]:
                uncounted[r["source_op"]] = uncounted.get(r["source_op"], 0) + 1
        totals["coverage"] = {
            "counted_layers": len(counted),
            "layers": len(rows),
            "percent": round(100.0 * len(counted) / len(rows), 2) if rows else 100.0,
            "uncounted_ops": uncounted,
        }
        filled.append("totals.coverage (from layers' counted flags)")
    if filled:
        d["environment"]["schema_defaults"] = filled
    return d

"""ProfileResult: the one contract between measuring and reporting.

A versioned JSON document: the model reference, the graph, per-layer analysis rows,
totals, (later) measurements, and the environment it was made in. Render or compare it
anywhere later; see docs/result-schema.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.0"


@dataclass
class ProfileResult:
    model: dict[str, Any]
    totals: dict[str, Any]
    layers: list[dict[str, Any]]
    environment: dict[str, Any] = field(default_factory=dict)
    graph: dict[str, Any] | None = None
    measurements: list[dict[str, Any]] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION

    def to_dict(self, include_graph: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schema_version": self.schema_version,
            "model": self.model,
            "totals": self.totals,
            "layers": self.layers,
            "measurements": self.measurements,
            "environment": self.environment,
        }
        if include_graph and self.graph is not None:
            d["graph"] = self.graph
        return d

    def to_json(self, include_graph: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(include_graph), indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "") -> ProfileResult:
        """A result from its JSON form. A newer major schema, an older one or a document that is
        not a result raises `zooprof.result.schema.ResultFileError` (a UsageError saying which zooprof
        reads it); a 1.x document missing later keys loads with defaults (zooprof/schema.py)."""
        from zooprof.result.schema import upgrade_document

        d = upgrade_document(d, where)
        return cls(
            d["model"],
            d["totals"],
            d["layers"],
            d["environment"],
            d["graph"],
            d["measurements"],
            str(d["schema_version"]),
        )

    def save(self, path: str | Path) -> Path:
        """Write atomically: a reader never sees half a file."""
        return write_atomic(Path(path), json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> ProfileResult:
        """Read a saved result; any problem with the file is a one-line ResultFileError."""
        from zooprof.result.schema import read_json

        return cls.from_dict(read_json(path), str(path))

    def layers_df(self) -> Any:
        """A pandas DataFrame, one row per layer: the CSV columns (docs/report-format.md) with
        numeric dtypes, plus `counted`. Needs pandas (`pip install zooprof[pandas]`)."""
        from zooprof.result.frames import layers_df

        return layers_df(self)

    def summary_df(self) -> Any:
        """A pandas DataFrame, one row per runtime x batch: the columns of `zooprof compare`."""
        from zooprof.result.frames import summary_df

        return summary_df(self)

    def _repr_html_(self) -> str:
        from zooprof.result.notebook import render_html_fragment

        return render_html_fragment(self)


def write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); a report is meant to be shared, so give it the
        # mode any new file gets under the user's umask, as open() would
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

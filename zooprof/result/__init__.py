"""ProfileResult: the one contract between measuring and reporting.

- `document`: `ProfileResult` (versioned JSON, atomic save, load).
- `schema`: reading documents of any schema version.
- `cache`: results of static analysis kept by key.
- `columns`: the per-layer column vocabulary (--columns, CSV headers, JSON keys, tables, HTML).
- `summary`: a result's summary rows (one per measurement), their columns and the Pareto front.
- `lines`: the title and totals lines of a result.
- `notebook`: the HTML fragment a notebook shows (`ProfileResult._repr_html_`).
- `frames`: results as pandas DataFrames.

Everything here is derived from one document, without a framework or another result, and
imports nothing above it in the pipeline (no frontend, runtime, measure, compare, renderer or cli).
"""

from zooprof.result.document import SCHEMA_VERSION, ProfileResult, write_atomic

__all__ = ["SCHEMA_VERSION", "ProfileResult", "write_atomic"]

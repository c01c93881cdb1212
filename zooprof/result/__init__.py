"""ProfileResult: the one contract between measuring and reporting.

- `document`: `ProfileResult` (versioned JSON, atomic save, load).
- `schema`: reading documents of any schema version.
- `cache`: results of static analysis kept by key.
- `frames`: results as pandas DataFrames.

Imports nothing above it in the pipeline (no frontend, runtime, compare or renderer).
"""

from zooprof.result.document import SCHEMA_VERSION, ProfileResult, write_atomic

__all__ = ["SCHEMA_VERSION", "ProfileResult", "write_atomic"]

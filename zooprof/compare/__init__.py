"""Comparing results: side-by-side entries, the regression gate, format parity.

The column vocabulary and the rows of one result live in `zooprof.result` (`columns`, `summary`),
so a result can describe itself without importing this package.

- `rows`: `zooprof compare` entries over several results (Pareto front, coverage notes, sources).
- `regression`: the `--fail-if` rule grammar and checks.
- `parity`: one model in several formats side by side (`zooprof compare-formats`).
"""

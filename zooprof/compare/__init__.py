"""Comparing results: the column vocabulary, side-by-side rows, the regression gate, format parity.

- `columns`: the one column vocabulary (key, heading, unit, digits) of every renderer.
- `rows`: `zooprof compare` rows (one per result x measurement) and the Pareto front.
- `regression`: the `--fail-if` rule grammar and checks.
- `parity`: one model in several formats side by side (`zooprof compare-formats`).
"""

"""Measuring: the one orchestration layer used by the CLI, the Python API and sweeps.

- `options`: `ProfileOptions`, the frozen, validated measurement options.
- `static`: reference -> frontend -> analyses -> ProfileResult (cached): `inspect`.
- `profiling`: one isolated worker per runtime x batch, power sampling, derived figures: `profile`.
- `timing`, `statistics`: the timing harness and its statistics (stdlib only).
- `convert`: explicit, cached conversions between formats (torch -> ONNX, Keras -> TFLite).
- `environment`: the machine record every result carries.
"""

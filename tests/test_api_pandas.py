"""The Python API: zooprof.load, layers_df, summary_df, _repr_html_, and results of other schema versions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import zooprof
from zooprof.errors import MissingDependencyError, UsageError
from zooprof.renderers import render
from zooprof.result.columns import CSV_COLUMNS
from zooprof.result.document import ProfileResult
from zooprof.result.schema import ResultFileError
from zooprof.result.summary import CSV_KEYS

GOLDEN = Path(__file__).resolve().parent / "golden" / "tiny_result.json"


def tiny_doc() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text())


def write(tmp_path: Path, doc: Any, name: str = "r.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


# --- zooprof.load and the DataFrames -------------------------------------------------------------


def test_load_and_layers_df(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    r = zooprof.load(GOLDEN)
    df = r.layers_df()
    assert list(df.columns) == [*CSV_COLUMNS, "counted"] and len(df) == 6
    for col in (
        "params",
        "trainable_params",
        "buffers",
        "macs",
        "flops",
        "weight_bytes",
        "activation_bytes",
        "macs_pct",
    ):
        assert pd.api.types.is_numeric_dtype(df[col]), col
    # the hand calculation of tests/golden: conv 3->4 3x3 on 8x8 and dense 64->10
    assert df["params"].sum() == 112 + 650 == r.totals["params"]
    assert df["macs"].sum() == 6912 + 640 == r.totals["macs"]
    assert df.set_index("name").loc["conv1", "output_shape"] == "1x4x8x8"
    # the op without a rule: its MACs are unknown (NA), not 0
    weird = df.set_index("name").loc["weird"]
    assert not weird["counted"] and pd.isna(weird["macs"]) and pd.isna(weird["flops"])
    assert df["counted"].sum() == 5


def test_summary_df_one_row_per_runtime_and_batch() -> None:
    pd = pytest.importorskip("pandas")
    df = zooprof.load(GOLDEN).summary_df()
    assert list(df.columns) == list(CSV_KEYS)
    assert list(df["runtime"]) == ["torch", "onnxruntime", "tflite"]
    assert list(df["status"]) == ["ok", "ok", "failed"]
    for col in (
        "latency_median_ms",
        "latency_p99_ms",
        "throughput_per_s",
        "energy_per_inference_mj",
        "macs",
        "params",
        "batch",
        "weights_mb",
    ):
        assert pd.api.types.is_numeric_dtype(df[col]), col
    assert df["latency_median_ms"].iloc[0] == 0.5 and df["energy_per_inference_mj"].iloc[0] == 1.25
    assert pd.isna(df["energy_per_inference_mj"].iloc[1])  # no sensor: NA, not 0
    assert pd.isna(df["latency_median_ms"].iloc[2]) and "no route" in df["reason"].iloc[2]
    assert list(df["pareto"]) == [False, True, False]  # 0.25 ms beats 0.5 ms at equal MACs
    assert (df["macs"] == 7552).all()


def test_summary_df_of_a_static_result() -> None:
    pytest.importorskip("pandas")
    r = zooprof.load(GOLDEN)
    r.measurements = []
    df = r.summary_df()
    assert len(df) == 1 and df["status"].iloc[0] == "static" and df["reason"].iloc[0].startswith("not measured")


def test_inspect_then_layers_df_sums_to_known_params() -> None:
    pytest.importorskip("pandas")
    df = zooprof.inspect("mnist-mlp").layers_df()
    assert df["params"].sum() == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13_002
    assert df["macs"].sum() == 784 * 16 + 16 * 16 + 16 * 10


def test_missing_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    r = zooprof.load(GOLDEN)
    for method in (r.layers_df, r.summary_df):
        with pytest.raises(MissingDependencyError) as exc:
            method()
        assert "pip install 'zooprof[pandas]'" in str(exc.value) and exc.value.exit_code == 2


def test_repr_html_and_json_round_trip() -> None:
    r = zooprof.load(GOLDEN)
    html = r._repr_html_()
    assert "<table>" in html and "conv1" in html and "tiny-net" in html
    back = ProfileResult.from_dict(json.loads(r.to_json()))
    assert back.totals == r.totals and back.layers == r.layers and back.measurements == r.measurements


# --- schema versions ---------------------------------------------------------------------------------


def test_an_older_1x_document_loads_with_defaults(tmp_path: Path) -> None:
    """A 1.0 result from before measurements, environment, coverage and peak memory were written."""
    doc = tiny_doc()
    for key in ("measurements", "environment"):
        del doc[key]
    for key in ("coverage", "peak_activation_bytes", "params", "weight_bytes"):
        del doc["totals"][key]
    del doc["model"]["inputs"]
    r = zooprof.load(write(tmp_path, doc))
    assert r.measurements == [] and r.schema_version == "1.0"
    assert r.totals["params"] == 762 and r.totals["weight_bytes"] == 3048  # sums of the layers
    assert r.totals["peak_activation_bytes"] == 1792  # max of live_bytes
    assert r.totals["coverage"] == {"counted_layers": 5, "layers": 6, "percent": 83.33, "uncounted_ops": {"unknown": 1}}
    assert r.model["inputs"][0]["shape"] == [1, 3, 8, 8]
    filled = r.environment["schema_defaults"]
    assert "totals.coverage (from layers' counted flags)" in filled and "totals.params (sum of layers)" in filled
    assert render(r, "csv") == (GOLDEN.parent / "layers.csv").read_text()  # renders as a current one
    assert render(r, "md").startswith("## tiny-net")


def test_what_cannot_be_derived_stays_missing(tmp_path: Path) -> None:
    doc = tiny_doc()
    del doc["totals"]["peak_activation_bytes"]
    for row in doc["layers"]:
        del row["live_bytes"]
    r = zooprof.load(write(tmp_path, doc))
    assert "peak_activation_bytes" not in r.totals
    from zooprof.result.summary import compare_rows

    assert {row["peak_activation_mb"] for row in compare_rows([r], ["r.json"])} == {None}  # n/a, not 0


def test_a_newer_minor_version_loads(tmp_path: Path) -> None:
    doc = tiny_doc()
    doc["schema_version"] = "1.7"
    doc["totals"]["something_new"] = {"x": 1}
    doc["later_section"] = []
    r = zooprof.load(write(tmp_path, doc))
    assert r.schema_version == "1.7" and r.totals["params"] == 762 and r.totals["something_new"] == {"x": 1}


def test_a_newer_major_version_says_to_upgrade(tmp_path: Path) -> None:
    doc = tiny_doc()
    doc["schema_version"] = "2.0"
    doc["environment"]["zooprof_version"] = "1.4.0"
    with pytest.raises(UsageError) as exc:
        zooprof.load(write(tmp_path, doc, "future.json"))
    msg = str(exc.value)
    assert "future.json: written by zooprof 1.4.0 (schema 2.0); this zooprof (0.1.0) reads schema 1.x" in msg
    assert "upgrade zooprof" in msg and exc.value.exit_code == 2


def test_a_top_level_writer_version_is_read_too(tmp_path: Path) -> None:
    doc = {"schema_version": "3.1", "zooprof_version": "2.0.0", "result": {}}
    with pytest.raises(UsageError, match=r"written by zooprof 2.0.0 \(schema 3.1\)"):
        zooprof.load(write(tmp_path, doc))


def test_an_older_major_version_names_the_zooprof_that_reads_it(tmp_path: Path) -> None:
    doc = {
        "schema_version": "0.9",
        "model": {},
        "totals": {},
        "layers": [],
        "environment": {"zooprof_version": "0.0.3"},
    }
    with pytest.raises(UsageError) as exc:
        zooprof.load(write(tmp_path, doc))
    assert "written by zooprof 0.0.3 (schema 0.9), which reads it; this zooprof (0.1.0) reads schema 1.x" in str(
        exc.value
    )


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ('{"hello": "world"}', "not a zooprof result (no schema_version)"),
        ("[1, 2, 3]", "not a zooprof result (a JSON list, not an object)"),
        ('{"schema_version": "one"}', "malformed schema_version 'one'"),
        ('{"schema_version": "1.0", "model": {}}', "without totals, layers"),
        ('{"kind": "zooprof-compare", "rows": [], "sources": []}', "a `zooprof compare` output, not a result"),
        ("name,op\nconv1,conv\n", "not valid JSON: line 1"),
    ],
)
def test_not_a_result(tmp_path: Path, content: str, expect: str) -> None:
    path = tmp_path / "thing.json"
    path.write_text(content)
    with pytest.raises(ResultFileError) as exc:
        zooprof.load(path)
    assert expect in str(exc.value) and str(path) in str(exc.value)
    assert isinstance(exc.value, UsageError) and exc.value.exit_code == 2


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        zooprof.load(tmp_path / "nope.json")
    with pytest.raises(UsageError, match="is a folder"):
        zooprof.load(tmp_path)


def test_the_cache_treats_an_unreadable_entry_as_a_miss() -> None:
    from zooprof.result import cache

    doc = tiny_doc()
    doc["schema_version"] = "9.0"
    (cache.cache_dir()).mkdir(parents=True, exist_ok=True)
    (cache.cache_dir() / "future-entry.json").write_text(json.dumps(doc))
    (cache.cache_dir() / "broken-entry.json").write_text("{")
    assert cache.load("future-entry") is None and cache.load("broken-entry") is None
    assert cache.load("absent-entry") is None


def test_from_dict_does_not_change_its_input() -> None:
    doc = tiny_doc()
    del doc["totals"]["coverage"]
    before = json.dumps(doc, sort_keys=True)
    ProfileResult.from_dict(doc)
    assert json.dumps(doc, sort_keys=True) == before

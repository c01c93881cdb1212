"""`zooprof compare`: saved results and models side by side, --fail-if both ways, the rule grammar."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run
from zooprof.compare.regression import METRICS, check_rules, parse_rule
from zooprof.compare.rows import compare_entries
from zooprof.errors import UsageError
from zooprof.result.document import ProfileResult
from zooprof.result.summary import CSV_KEYS, ROW_KEYS, compare_rows, mark_pareto


def measurement(
    median: float = 10.0,
    p99: float = 12.0,
    *,
    runtime: str = "torch",
    batch: int = 1,
    status: str = "ok",
    power: dict[str, Any] | None = None,
    macs: int = 1_000_000,
) -> dict[str, Any]:
    if status != "ok":
        return {
            "runtime": runtime,
            "batch": batch,
            "status": status,
            "failure": "crash",
            "reason": "worker died from signal 11 (SIGSEGV)",
        }
    m: dict[str, Any] = {
        "runtime": runtime,
        "batch": batch,
        "device": "cpu",
        "precision": "fp32",
        "status": "ok",
        "timing": {
            "latency_ms": {
                "median": median,
                "p90": p99,
                "p95": p99,
                "p99": p99,
                "mean": median,
                "min": median,
                "max": p99,
            }
        },
        "memory": {"peak_rss_bytes": 100_000_000},
        "throughput_per_s": batch * 1000.0 / median,
        "achieved_gflops": 2 * macs * batch / (median / 1000) / 1e9,
    }
    if power is not None:
        m["power"] = power
    return m


def result_doc(
    name: str = "net",
    measurements: list[dict[str, Any]] | None = None,
    *,
    params: int = 1000,
    macs: int = 1_000_000,
    version: str = "1.0",
) -> dict[str, Any]:
    """A saved result written by hand: one dense layer, totals, measurements."""
    layer = {
        "name": "fc",
        "op": "dense",
        "source_op": "Linear",
        "output_shape": [1, 10],
        "params": params,
        "trainable_params": params,
        "buffers": 0,
        "macs": macs,
        "macs_pct": 100.0,
        "flops": 2 * macs,
        "weight_bytes": 4 * params,
        "activation_bytes": 40,
        "counted": True,
        "rf": None,
        "formula": [],
    }
    return {
        "schema_version": version,
        "model": {
            "name": name,
            "reference": name,
            "framework": "pytorch",
            "input_shape": [1, 100],
            "inputs": [{"name": "x", "shape": [1, 100], "dtype": "float32"}],
            "notes": [],
        },
        "totals": {
            "params": params,
            "trainable_params": params,
            "non_trainable_params": 0,
            "buffers": 0,
            "macs": macs,
            "flops": 2 * macs,
            "weight_bytes": 4 * params,
            "activation_bytes": 40,
            "peak_activation_bytes": 440,
            "coverage": {"counted_layers": 1, "layers": 1, "percent": 100.0, "uncounted_ops": {}},
        },
        "layers": [layer],
        "measurements": [measurement()] if measurements is None else measurements,
        "environment": {"zooprof_version": "0.1.0", "command": "zooprof profile net"},
    }


def save(tmp_path: Path, name: str, doc: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def gate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, base: dict[str, Any], new: dict[str, Any], *rules: str
) -> tuple[int, str, str]:
    args = ["compare", save(tmp_path, "base.json", base), save(tmp_path, "new.json", new), "-f", "csv"]
    for rule in rules:
        args += ["--fail-if", rule]
    return run(capsys, *args)


# --- --fail-if, both ways ---------------------------------------------------------------------


def test_latency_rule_fails_when_slower_by_more_than_5_percent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = gate(
        capsys, tmp_path, result_doc(), result_doc(measurements=[measurement(11.0)]), "latency.p50>+5%"
    )
    assert code == 1
    assert "FAILED latency.p50>+5%: net torch b1" in err
    assert "10 ms -> 11 ms (+10.00 %; fails if >+5 %)" in err  # (11 - 10) / 10 = +10 %
    assert "1 failed, 0 passed, 0 not checked" in err
    assert out.startswith(",".join(CSV_KEYS))  # the rows are still written


def test_latency_rule_passes_within_5_percent(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = gate(capsys, tmp_path, result_doc(), result_doc(measurements=[measurement(10.4)]), "latency.p50>+5%")
    assert code == 0
    assert "passed latency.p50>+5%" in err and "(+4.00 %;" in err


def test_exactly_at_the_limit_passes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert gate(capsys, tmp_path, result_doc(), result_doc(measurements=[measurement(10.5)]), "latency.p50>+5%")[0] == 0


def test_absolute_rule_with_unit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    slower = result_doc(measurements=[measurement(10.0, p99=15.0)])
    code, _, err = gate(capsys, tmp_path, result_doc(), slower, "latency.p99>+2ms")
    assert code == 1 and "12 ms -> 15 ms (+3 ms; fails if >+2 ms)" in err
    assert (
        gate(
            capsys, tmp_path, result_doc(), result_doc(measurements=[measurement(10.0, p99=13.5)]), "latency.p99>+2ms"
        )[0]
        == 0
    )
    # the same limit in microseconds
    assert gate(capsys, tmp_path, result_doc(), slower, "latency.p99>+2000us")[0] == 1


def test_params_any_increase(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = gate(capsys, tmp_path, result_doc(), result_doc(params=1001), "params>0")
    assert code == 1 and "FAILED params>0: net (" in err and "1,000 -> 1,001 (+1;" in err
    assert gate(capsys, tmp_path, result_doc(), result_doc(params=1000), "params>0")[0] == 0
    assert gate(capsys, tmp_path, result_doc(), result_doc(params=900), "params>0")[0] == 0


def test_throughput_drop(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # throughput 100/s -> 80/s is -20 %
    code, _, err = gate(capsys, tmp_path, result_doc(), result_doc(measurements=[measurement(12.5)]), "throughput<-5%")
    assert code == 1 and "100 /s -> 80 /s (-20.00 %; fails if <-5 %)" in err
    assert gate(capsys, tmp_path, result_doc(), result_doc(measurements=[measurement(10.2)]), "throughput<-5%")[0] == 0


def test_energy_rule(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    def power(mj: float) -> dict[str, Any]:
        return {"status": "ok", "avg_power_mw": 5000.0, "energy_per_inference_mj": mj}

    base = result_doc(measurements=[measurement(power=power(2.0))])
    assert gate(capsys, tmp_path, base, result_doc(measurements=[measurement(power=power(2.3))]), "energy>+10%")[0] == 1
    assert gate(capsys, tmp_path, base, result_doc(measurements=[measurement(power=power(2.1))]), "energy>+10%")[0] == 0


def test_missing_metric_is_not_checked_and_does_not_fail(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = result_doc(measurements=[measurement(power={"status": "ok", "energy_per_inference_mj": 2.0})])
    code, _, err = gate(capsys, tmp_path, base, result_doc(), "energy>+10%")
    assert code == 0
    assert "not checked energy>+10%: net torch b1" in err and "no power record (measured without --power)" in err
    assert "0 failed, 0 passed, 1 not checked" in err
    no_sensor = result_doc(
        measurements=[measurement(power={"status": "n/a", "reason": "no power sensor on this machine: x86 VM"})]
    )
    code, _, err = gate(capsys, tmp_path, base, no_sensor, "energy>+10%")
    assert code == 0 and "power n/a (no power sensor on this machine: x86 VM)" in err


def test_static_candidate_is_not_checked_for_latency_but_is_for_params(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = gate(
        capsys, tmp_path, result_doc(), result_doc(measurements=[], params=2000), "latency.p50>+5%", "params>+10%"
    )
    assert code == 1
    assert "not checked latency.p50>+5%" in err and "the baseline has no row for runtime static batch 1" in err
    assert "FAILED params>+10%" in err and "(+100.00 %;" in err


def test_failed_candidate_measurement_fails_the_rule(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = gate(
        capsys, tmp_path, result_doc(), result_doc(measurements=[measurement(status="failed")]), "latency.p50>+5%"
    )
    assert code == 1 and "the candidate's measurement failed: crash: worker died from signal 11" in err


def test_rows_are_matched_by_runtime_and_batch(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = result_doc(measurements=[measurement(10.0), measurement(2.0, runtime="onnxruntime")])
    new = result_doc(
        measurements=[measurement(10.0), measurement(3.0, runtime="onnxruntime"), measurement(50.0, batch=8)]
    )
    code, _, err = gate(capsys, tmp_path, base, new, "latency.p50>+5%")
    assert code == 1
    assert "passed latency.p50>+5%: net torch b1" in err
    assert "FAILED latency.p50>+5%: net onnxruntime b1" in err and "2 ms -> 3 ms" in err
    assert "not checked latency.p50>+5%: net torch b8" in err and "no row for runtime torch batch 8" in err


def test_several_candidates_and_another_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys,
        "compare",
        save(tmp_path, "a.json", result_doc("a")),
        save(tmp_path, "b.json", result_doc("b", [measurement(9.0)])),
        save(tmp_path, "c.json", result_doc("c", [measurement(20.0)])),
        "-f",
        "json",
        "--fail-if",
        "latency>+5%",
    )
    assert code == 1
    assert "passed latency>+5%: b torch b1" in err and "(baseline model a)" in err
    assert "FAILED latency>+5%: c torch b1" in err


def test_json_output_holds_rows_sources_and_checks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys,
        "compare",
        save(tmp_path, "base.json", result_doc()),
        save(tmp_path, "new.json", result_doc(measurements=[measurement(11.0)])),
        "-f",
        "json",
        "--fail-if",
        "latency.p50>+5%",
    )
    assert code == 1
    doc = json.loads(out)
    assert [set(r) for r in doc["rows"]] == [set(ROW_KEYS)] * 2
    assert [s["source"] for s in doc["sources"]] == [str(tmp_path / "base.json"), str(tmp_path / "new.json")]
    (check,) = doc["checks"]
    assert check["status"] == "failed" and check["baseline"] == 10.0 and check["candidate"] == 11.0
    assert check["change"] == pytest.approx(10.0) and check["change_unit"] == "%"


# --- the rule grammar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "op", "amount", "relative"),
    [
        ("latency.p50>+5%", "latency.p50", ">", 5.0, True),
        ("latency.p99>+2ms", "latency.p99", ">", 2.0, False),
        ("latency.p99 > +0.5 s", "latency.p99", ">", 500.0, False),
        ("latency>5%", "latency.p50", ">", 5.0, True),
        ("energy>+10%", "energy", ">", 10.0, True),
        ("energy>+1J", "energy", ">", 1000.0, False),
        ("params>0", "params", ">", 0.0, False),
        ("latency.p50>0", "latency.p50", ">", 0.0, False),
        ("params>+1M", "params", ">", 1e6, False),
        ("throughput<-5%", "throughput", "<", -5.0, True),
        ("weights>+512kB", "weights", ">", 0.512, False),
        ("rss>+50MB", "rss", ">", 50.0, False),
    ],
)
def test_parse_rule(text: str, metric: str, op: str, amount: float, relative: bool) -> None:
    rule = parse_rule(text)
    assert (rule.metric.name, rule.op, rule.relative) == (metric, op, relative)
    assert rule.amount == pytest.approx(amount)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("latency.p50", "malformed --fail-if rule 'latency.p50'"),
        ("latency.p50>=5%", "malformed"),
        ("latency.p50>fast", "malformed"),
        ("latency.p42>+5%", "unknown metric 'latency.p42'"),
        ("speed>+5%", "unknown metric 'speed'"),
        ("latency.p99>+2mJ", "unit 'mJ' does not fit latency.p99"),
    ],
)
def test_malformed_rule_names_rule_and_metrics(text: str, expect: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_rule(text)
    assert expect in str(exc.value)
    if "unit" not in expect:
        assert "latency.p50" in str(exc.value.hint) and "energy" in str(exc.value.hint)


def test_malformed_rule_on_the_command_line_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = gate(capsys, tmp_path, result_doc(), result_doc(), "latency.p50>>5%")
    assert code == 2 and out == ""
    assert "malformed --fail-if rule 'latency.p50>>5%'" in err and "metrics: latency.p50" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_fail_if_needs_two_items(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "compare", save(tmp_path, "base.json", result_doc()), "--fail-if", "params>0")
    assert code == 2 and "needs a baseline and at least one candidate" in err


def test_relative_change_from_zero_is_not_checked() -> None:
    base, new = ProfileResult.from_dict(result_doc(params=0)), ProfileResult.from_dict(result_doc(params=5))
    (check,) = check_rules(compare_entries([base, new], ["a", "b"]), [parse_rule("params>+5%")])
    assert check.status == "not checked" and "relative change is undefined" in check.note


def test_every_metric_reads_a_full_measurement() -> None:
    power = {"status": "ok", "avg_power_mw": 4000.0, "energy_per_inference_mj": 2.0}
    r = ProfileResult.from_dict(result_doc(measurements=[measurement(power=power)]))
    (entry,) = compare_entries([r], ["a"])
    values = {name: m.read(entry)[0] for name, m in METRICS.items()}
    assert all(v is not None for v in values.values()), values
    assert values["rss"] == 100.0 and values["power"] == 4000.0 and values["activation"] == 440 / 1e6


# --- rows and the Pareto front ---------------------------------------------------------------------


def test_pareto_front_by_hand() -> None:
    rows = [
        {"status": "ok", "macs": m, "latency_median_ms": t}
        for m, t in [(1, 10.0), (2, 5.0), (3, 5.0), (2, 5.0), (5, 1.0), (6, 2.0)]
    ]
    rows += [
        {"status": "failed", "macs": 0, "latency_median_ms": None},
        {"status": "static", "macs": 0, "latency_median_ms": None},
    ]
    mark_pareto(rows)
    # (3, 5) is beaten by (2, 5); (6, 2) by (5, 1); the two (2, 5) tie and both stay
    assert [r["pareto"] for r in rows] == [True, True, False, True, True, False, False, False]


def test_rows_scale_per_call_figures_with_batch() -> None:
    r = ProfileResult.from_dict(result_doc(measurements=[measurement(10.0), measurement(40.0, batch=8)]))
    one, eight = compare_rows([r], ["x"])
    assert one["macs"] == 1_000_000 and eight["macs"] == 8_000_000
    assert eight["peak_activation_mb"] == pytest.approx(8 * 440 / 1e6)
    assert eight["params"] == one["params"] == 1000 and eight["weights_mb"] == one["weights_mb"] == 0.004
    assert eight["throughput_per_s"] == 200.0 and eight["achieved_gflops"] == pytest.approx(2 * 8e6 / 0.04 / 1e9)


# --- saved results, models, formats ------------------------------------------------------------------


def test_saved_results_to_csv_md_json_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    items = [save(tmp_path, "a.json", result_doc("a")), save(tmp_path, "b.json", result_doc("b", [measurement(5.0)]))]
    for name in ("out.csv", "out.md", "out.json", "out.txt"):
        code, out, err = run(capsys, "compare", *items, "-o", str(tmp_path / name))
        assert code == 0 and out == "" and f"wrote {tmp_path / name}" in err
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert [(r["model"], r["latency_median_ms"], r["pareto"]) for r in rows] == [
        ("a", "10.0", "false"),
        ("b", "5.0", "true"),
    ]
    assert "| b | torch | 1 | cpu | fp32 | ok | 1,000 | 1.00 M |" in (tmp_path / "out.md").read_text()
    assert json.loads((tmp_path / "out.json").read_text())["kind"] == "zooprof-compare"
    assert "Comparison" in (tmp_path / "out.txt").read_text()


@pytest.mark.skipif(importlib.util.find_spec("jinja2") is None, reason="jinja2 not installed")
def test_html_output_when_the_renderer_exists(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    try:
        from zooprof.renderers.html import render_compare_html  # noqa: F401
    except ImportError:
        pytest.skip("render_compare_html not written yet")
    items = [save(tmp_path, "a.json", result_doc("a")), save(tmp_path, "b.json", result_doc("b", [measurement(5.0)]))]
    code, _, _ = run(capsys, "compare", *items, "-o", str(tmp_path / "c.html"))
    assert code == 0 and "<html" in (tmp_path / "c.html").read_text().lower()


def test_a_quoted_pattern_is_expanded(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for name in ("r1", "r2", "r3"):
        save(tmp_path, f"{name}.json", result_doc(name))
    code, out, _ = run(capsys, "compare", str(tmp_path / "r*.json"), "-f", "csv")
    assert code == 0 and [r["model"] for r in csv.DictReader(io.StringIO(out))] == ["r1", "r2", "r3"]


def test_a_run_folder_is_a_saved_result(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run_dir = tmp_path / "20250101-120000-net"
    run_dir.mkdir()
    save(run_dir, "result.json", result_doc("from-folder"))
    code, out, _ = run(capsys, "compare", str(run_dir), save(tmp_path, "b.json", result_doc("b")), "-f", "csv")
    assert code == 0
    assert [(r["model"], r["source"]) for r in csv.DictReader(io.StringIO(out))] == [
        ("from-folder", str(run_dir)),
        ("b", str(tmp_path / "b.json")),
    ]


def test_a_bad_item_does_not_lose_the_others(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}')
    code, out, err = run(
        capsys,
        "compare",
        save(tmp_path, "a.json", result_doc("a")),
        str(bad),
        str(tmp_path / "missing.json"),
        "-f",
        "csv",
    )
    assert code == 1
    assert [r["model"] for r in csv.DictReader(io.StringIO(out))] == ["a"]
    assert "notes.json is not a zooprof result" in err or "not a zooprof result (no schema_version)" in err
    assert "no such file" in err


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["compare", "mnist-mlp", "--batch", "8"], "add --runtime"),
        (["compare", "mnist-mlp", "--memory-limit", "2G"], "add --runtime"),
        (["compare", "mnist-mlp", "--timeout", "60"], "add --runtime"),
        (["compare", "mnist-mlp", "--runtime", "torch", "--memory-limit", "12Q"], "malformed --memory-limit '12Q'"),
        (["compare", "mnist-mlp", "--runtime", "torch", "--memory-limit", "10M"], "is below 64 MiB"),
        (["compare", "mnist-mlp", "-o", "out.xlsx"], "cannot tell the format"),
        (["compare", "mnist-mlp", "--format", "pdf"], "unknown format 'pdf'"),
        (["compare", "nope/*.json"], "no file matches"),
        (["compare", "a.json", "b.json", "--fail-if", "latency.p50>+5"], "give a unit for latency.p50"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], expect: str) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2 and expect in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_future_schema_says_which_zooprof_reads_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = result_doc(version="2.0")
    doc["environment"]["zooprof_version"] = "3.1.0"
    code, _, err = run(capsys, "compare", save(tmp_path, "future.json", doc))
    assert code == 2
    assert "written by zooprof 3.1.0 (schema 2.0); this zooprof (0.1.0) reads schema 1.x" in err and "upgrade" in err


def test_static_comparison_of_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "compare", "mnist-mlp", "alexnet-2012", "-f", "csv")
    assert code == 0 and "static comparison" in err
    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(out))}
    mlp, alex = rows["mnist-mlp"], rows["alexnet-2012"]
    assert int(mlp["params"]) == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13_002
    assert int(mlp["macs"]) == 784 * 16 + 16 * 16 + 16 * 10
    assert int(alex["params"]) == 60_965_224 and int(alex["macs"]) == 724_406_816
    assert float(alex["weights_mb"]) == 60_965_224 * 4 / 1e6
    for r in (mlp, alex):
        assert r["status"] == "static" and r["latency_median_ms"] == "n/a" and r["pareto"] == "false"
        assert r["reason"].startswith("not measured")
    code, out, _ = run(capsys, "compare", "mnist-mlp", "alexnet-2012")
    assert code == 0 and "60,965,224" in out and "static rows: not measured" in out


def test_peak_activation_is_linear_in_batch() -> None:
    """What the per-call scaling of compare rows assumes, checked on the zoo's AlexNet."""
    from zooprof.measure.static import inspect

    one = inspect("alexnet-2012")
    eight = inspect("alexnet-2012", input_shape="8x3x224x224")
    assert eight.totals["peak_activation_bytes"] == 8 * one.totals["peak_activation_bytes"]
    assert eight.totals["macs"] == 8 * one.totals["macs"]


@pytest.mark.slow
def test_measured_comparison(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_json = tmp_path / "c.json"
    code, _, err = run(
        capsys, "compare", "mnist-mlp", "alexnet-2012", "--runtime", "torch", "--max-time", "0.5", "-o", str(out_json)
    )
    assert code == 0, err
    rows = {r["model"]: r for r in json.loads(out_json.read_text())["rows"]}
    for r in rows.values():
        assert r["status"] == "ok" and r["runtime"] == "torch" and r["batch"] == 1
        assert 0 < r["latency_median_ms"] <= r["latency_p99_ms"]
        assert r["throughput_per_s"] == pytest.approx(1000 / r["latency_median_ms"], rel=1e-3)
        assert r["achieved_gflops"] == pytest.approx(2 * r["macs"] / r["latency_median_ms"] / 1e6, rel=1e-2)
        assert r["energy_per_inference_mj"] is None  # no --power: n/a, not 0
    # the MLP is cheaper and faster: it is on the front, AlexNet is dominated
    assert rows["mnist-mlp"]["pareto"] and not rows["alexnet-2012"]["pareto"]


@pytest.mark.slow
def test_memory_limit_fails_that_row_and_the_comparison_goes_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """hungry_net holds 64 MiB per sample: at batch 64 (4 GiB) its worker passes a 2 GiB limit and
    that row fails with the reason; its batch 1 and the other model are measured under the same
    limit (the option reaches every worker)."""
    out_json = tmp_path / "c.json"
    code, out, err = run(
        capsys,
        "compare",
        "tests.runtimes.bad_models:good_net",
        "tests.runtimes.bad_models:hungry_net",
        "--runtime",
        "torch",
        "--input-shape",
        "1x4",
        "--batch",
        "64,1",
        "--max-time",
        "0.3",
        "--timeout",
        "120",
        "--memory-limit",
        "2G",
        "-o",
        str(out_json),
    )
    rows = json.loads(out_json.read_text())["rows"]
    hungry64 = next(r for r in rows if "hungry" in r["model"] and r["batch"] == 64)
    assert hungry64["status"] == "failed", hungry64
    assert hungry64["reason"].endswith(
        "over the memory limit of 2 GiB (--memory-limit); use a smaller batch or raise the limit"
    )
    others = [r for r in rows if r is not hungry64]
    assert len(others) == 3 and all(r["status"] == "ok" for r in others), [r.get("reason") for r in others]
    assert code == 0, err  # a failed row is shown, not an error of the command (no --fail-if)
    assert "over the memory limit of 2 GiB" in out + err  # the failed row's reason, said at once

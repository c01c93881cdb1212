"""tegrastats parsing (JetPack 4 to 7), energy integration and `zooprof power-log`, with known answers."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.helpers import run
from tests.sensors.tegrastats_lines import AGX_ORIN, JP7, NANO, ORIN_NANO, XNX_JP5  # noqa: E402
from zooprof.sensors.tegrastats import SUMMED, Sample, parse_line, parse_log, summarize

FIXTURE = SHARED / "fixtures" / "jetson" / "tegrastats_samples.txt"


def _one(line: str) -> Sample:
    s = parse_line(line)
    assert s is not None
    return s


def test_every_fixture_line_parses() -> None:
    if not FIXTURE.is_file():
        pytest.skip(f"shared fixtures absent ({FIXTURE})")
    lines = [x for x in FIXTURE.read_text(encoding="utf-8").splitlines() if x.strip() and not x.startswith("#")]
    assert len(lines) == 10
    for line in lines:
        s = parse_line(line)
        assert s is not None, line
        assert s.rails and s.total_mw is not None and s.ram_total_mb and s.cpu_loads, line
    assert len(parse_log(FIXTURE.read_text(encoding="utf-8"))) == 10  # comment lines skipped


def test_nano_jetpack4() -> None:
    s = _one(NANO)
    assert s.timestamp is None
    assert s.rails == {"POM_5V_IN": 2746, "POM_5V_GPU": 159, "POM_5V_CPU": 796}
    assert (s.total_mw, s.total_source) == (2746, "POM_5V_IN")
    assert (s.ram_used_mb, s.ram_total_mb) == (1464, 3964)
    assert (s.gpu_load_pct, s.gpu_freq_mhz) == (7, 768)
    assert s.cpu_loads == [90, 16, 0, 9] and s.cpu_freqs_mhz == [1479] * 4
    assert s.temperatures["GPU"] == 28.5 and s.temperatures["thermal"] == 30.25
    assert "IRAM" not in s.rails and "RAM" not in s.rails and "SWAP" not in s.rails


def test_xavier_nx_jetpack5_timestamp_and_bracket_freq() -> None:
    s = _one(XNX_JP5)
    assert s.timestamp == datetime(2024, 7, 9, 13, 31, 31)
    assert (s.total_mw, s.total_source) == (2763, "VDD_IN")
    assert s.rails["VDD_SOC"] == 650
    assert (s.gpu_load_pct, s.gpu_freq_mhz) == (0, 114)


def test_orin_nano_vdd_in_and_gr3d_without_freq() -> None:
    s = _one(ORIN_NANO)
    assert (s.total_mw, s.total_source) == (4824, "VDD_IN")
    assert (s.gpu_load_pct, s.gpu_freq_mhz) == (0, None)
    assert s.temperatures["cpu"] == 50.031 and s.temperatures["soc0"] == 50


def test_agx_orin_has_no_total_rail_so_rails_are_summed_and_flagged() -> None:
    s = _one(AGX_ORIN)
    assert s.total_mw == 4940 + 988 + 4442 and s.total_source == SUMMED
    assert len(s.cpu_loads) == 12


def test_jetpack7_three_values_now_max_temps_and_two_gpc_freq() -> None:
    s = _one(JP7)
    assert s.rails == {"VDD_GPU_SOC": 5139, "VDD_CPU_CV": 3268, "VIN_SYS_5V0": 5500}
    assert s.total_mw == 5139 + 3268 + 5500 and s.total_source == SUMMED
    assert (s.gpu_load_pct, s.gpu_freq_mhz) == (12, 1300)
    assert s.temperatures == {"cpu": 52.968, "soc2": 48.406, "soc0": 49.531, "gpu": 47.625}
    assert "NVENC0" not in s.rails and "APE" not in s.rails


def test_offline_sensor_offline_core_and_unknown_tokens() -> None:
    line = (
        "RAM 100/3964MB CPU [5%@102,off,off,7%@102] GR3D_FREQ 0%@[1300,1300] FOO_BAR ??? "
        "PLL@-256C CPU@41C POM_5V_IN 1000/900 WEIRD 12/x"
    )
    s = _one(line)
    assert s.temperatures["PLL"] is None and s.temperatures["CPU"] == 41
    assert s.cpu_loads == [5, None, None, 7]
    assert (s.gpu_load_pct, s.gpu_freq_mhz) == (0, 1300)
    assert s.rails == {"POM_5V_IN": 1000}


@pytest.mark.parametrize(
    "line",
    [
        "",
        "# comment",
        "hello world",
        "Traceback (most recent call last):",
        "07-09-2024 13:31:31 nothing here",
        "tegrastats: command not found",
    ],
)
def test_non_tegrastats_lines_are_none(line: str) -> None:
    assert parse_line(line) is None


def _trace(mw: list[float], t0: datetime | None = datetime(2024, 1, 1, 12, 0, 0)) -> list[Sample]:
    from datetime import timedelta

    return [
        Sample(
            timestamp=None if t0 is None else t0 + timedelta(seconds=i),
            rails={"VDD_IN": p},
            total_mw=p,
            total_source="VDD_IN",
        )
        for i, p in enumerate(mw)
    ]


def test_constant_power_energy_from_timestamps() -> None:
    out = summarize(_trace([5000.0] * 11), None, None, None)  # t = 0..10 s
    rail = out["rails"]["VDD_IN"]  # type: ignore[index]
    assert out["time_source"].startswith("timestamps")  # type: ignore[union-attr]
    assert rail["energy_j"] == pytest.approx(50.0) and rail["duration_s"] == 10
    assert (rail["mean_mw"], rail["min_mw"], rail["max_mw"], rail["samples"]) == (5000, 5000, 5000, 11)
    assert out["total"]["energy_j"] == pytest.approx(50.0)  # type: ignore[index]


def test_constant_power_energy_from_interval_without_timestamps() -> None:
    out = summarize(_trace([5000.0] * 11, t0=None), 0.5, None, None)  # t = 0..5 s
    assert out["rails"]["VDD_IN"]["energy_j"] == pytest.approx(25.0)  # type: ignore[index]
    assert "interval 0.5 s" in out["time_source"]  # type: ignore[operator]
    default = summarize(_trace([5000.0] * 11, t0=None), None, None, None)
    assert default["rails"]["VDD_IN"]["energy_j"] == pytest.approx(50.0)  # type: ignore[index]
    assert "default" in default["time_source"]  # type: ignore[operator]


def test_step_trace_and_window() -> None:
    samples = _trace([1000.0] * 5 + [3000.0] * 6)  # 1 W for t=0..4, 3 W for t=5..10
    # trapezoid: 4 s * 1 W + 1 s * 2 W (the step) + 5 s * 3 W = 21 J
    assert summarize(samples)["rails"]["VDD_IN"]["energy_j"] == pytest.approx(21.0)  # type: ignore[index]
    w = summarize(samples, None, 5, 10)
    assert w["rails"]["VDD_IN"]["energy_j"] == pytest.approx(15.0) and w["samples"] == 6  # type: ignore[index]


def test_fewer_than_two_samples_is_not_applicable_never_zero() -> None:
    one = summarize(_trace([5000.0]))["rails"]["VDD_IN"]  # type: ignore[index]
    assert isinstance(one["energy_j"], str) and one["energy_j"].startswith("n/a (")
    empty = summarize(_trace([5000.0] * 3), None, 100, None)
    assert empty["samples"] == 0 and empty["total"]["energy_j"].startswith("n/a (")  # type: ignore[index]


def _log(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "tegra.log"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_cli_csv_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _log(tmp_path, [f"07-09-2024 13:31:{31 + i} " + XNX_JP5.split(" ", 2)[2] for i in range(4)])
    out_csv = tmp_path / "out.csv"
    code, out, err = run(capsys, "power-log", str(log), "-o", str(out_csv))
    assert code == 0, err
    assert "VDD_IN" in out and "board total" in out and "total from VDD_IN" in out
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert list(rows[0]) == [
        "seconds",
        "timestamp",
        "VDD_IN",
        "VDD_CPU_GPU_CV",
        "VDD_SOC",
        "total_mw",
        "ram_used_mb",
        "cpu_load_pct",
        "gpu_load_pct",
        "temp_AUX_c",
        "temp_CPU_c",
        "temp_thermal_c",
        "temp_AO_c",
        "temp_GPU_c",
        "temp_PMIC_c",
    ]
    assert rows[0]["ram_used_mb"] == "3168" and float(rows[0]["cpu_load_pct"]) == pytest.approx(102 / 6, abs=0.01)
    assert rows[0]["gpu_load_pct"] == "0.0" and rows[0]["temp_CPU_c"] == "46.5"
    assert [float(r["seconds"]) for r in rows] == [0, 1, 2, 3]
    assert rows[0]["timestamp"] == "2024-07-09T13:31:31" and float(rows[0]["total_mw"]) == 2763


def test_cli_json_window_clock_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _log(tmp_path, [f"07-09-2024 13:31:{31 + i} " + XNX_JP5.split(" ", 2)[2] for i in range(4)])
    out_json = tmp_path / "out.json"
    code, _, err = run(capsys, "power-log", str(log), "--from", "13:31:32", "--to", "3", "-o", str(out_json))
    assert code == 0, err
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["summary"]["samples"] == 3 and len(data["timeline"]) == 3
    assert data["summary"]["rails"]["VDD_IN"]["energy_j"] == pytest.approx(2 * 2.763)


def test_cli_agx_orin_interval_sum_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _log(tmp_path, [AGX_ORIN] * 3)
    code, out, err = run(capsys, "power-log", str(log), "--interval", "0.5")
    assert code == 0, err
    assert "sum of rails" in out and "interval 0.5 s" in out.replace("\n", " ")


@pytest.mark.parametrize(
    "args",
    [
        ("missing.log",),
        ("empty.log",),
        ("ok.log", "--from", "soon"),
        ("ok.log", "--from", "12:00:00"),
        ("ok.log", "-o", "x.txt"),
    ],
)
def test_cli_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    (tmp_path / "empty.log").write_text("not a tegrastats line\n", encoding="utf-8")
    (tmp_path / "ok.log").write_text(NANO + "\n" + NANO + "\n", encoding="utf-8")  # no timestamps
    code, out, err = run(capsys, "power-log", str(tmp_path / args[0]), *args[1:])
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _fixture_section(title: str) -> list[str]:
    """The tegrastats lines of one '# --- title' block of the shared fixture."""
    lines, inside = [], False
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ---"):
            inside = title in line
        elif inside and line.strip() and not line.startswith("#"):
            lines.append(line)
    return lines


@pytest.mark.skipif(not FIXTURE.exists(), reason="needs ../shared/fixtures")
def test_cli_nano_fixture_lines_mean_and_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nano = _fixture_section("Jetson Nano")
    assert len(nano) >= 3
    expected = [float(re.search(r"POM_5V_IN (\d+)/", line).group(1)) for line in nano]  # type: ignore[union-attr]
    log = _log(tmp_path, ["garbage line from a crashed logger", *nano])
    out_json = tmp_path / "nano.json"
    code, out, err = run(capsys, "power-log", str(log), "-o", str(out_json))
    assert code == 0, err
    summary = json.loads(out_json.read_text(encoding="utf-8"))["summary"]
    assert summary["total"]["source"] == "POM_5V_IN"
    assert summary["rails"]["POM_5V_IN"]["mean_mw"] == pytest.approx(sum(expected) / len(expected))
    assert all(r["unit"] == "mW" for r in summary["rails"].values()) and summary["total"]["unit"] == "mW"
    assert summary["unreadable_lines"] == {"count": 1, "first": [[1, "garbage line from a crashed logger"]]}
    assert "1 line could not be read" in err and "line 1" in err
    board = summary["board"]
    assert board["ram_used_mb"]["unit"] == "MB" and board["temperatures_c"]["CPU"]["unit"] == "C"
    assert board["cpu_load_pct"]["samples"] == len(nano)


def test_cli_html_report_escapes_and_is_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _log(tmp_path, [f"07-09-2024 13:31:{31 + i} " + XNX_JP5.split(" ", 2)[2] for i in range(4)])
    hostile = tmp_path / "<img src=x onerror=alert(1)>.log"
    hostile.write_text(log.read_text(), encoding="utf-8")
    out_html = tmp_path / "rails.html"
    code, out, err = run(capsys, "power-log", str(hostile), "-o", str(out_html))
    assert code == 0, err
    page = out_html.read_text(encoding="utf-8")
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<svg" in page and "VDD_IN" in page and "http://" not in page and "https://" not in page

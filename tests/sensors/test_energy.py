"""Energy maths against traces with known answers, the sampler thread, the replay sensor, and
power sampling wired into `zooprof profile`."""

from __future__ import annotations

import json
import time

import pytest

from zooprof.sensors.base import ENERGY, POWER, TEMPERATURE, Channel, PollingSensor, Probe, Trace
from zooprof.sensors.energy import average_power, energy_record, idle_power, integrate, power_series
from zooprof.sensors.replay import ReplaySensor, trace_from_tegrastats
from zooprof.sensors.sampling import PowerOptions, PowerSession, parse_duration, window_of


def power_trace(points: list[tuple[float, float]], name: str = "VDD_IN") -> Trace:
    trace = Trace("test", {name: Channel(name, "mW", POWER)}, total=name, total_source=name)
    for t, p in points:
        trace.append(t, {name: p})
    return trace


def constant(mw: float, t0: float, t1: float, hz: float = 100.0) -> Trace:
    n = round((t1 - t0) * hz)
    return power_trace([(t0 + i / hz, mw) for i in range(n + 1)])


def test_issue_acceptance_constant_5w_one_second_100_iterations_2w_idle() -> None:
    rec = energy_record(constant(5000.0, 10.0, 11.0), (10.0, 11.0), 100, idle_mw=2000.0, idle_seconds=5.0)
    assert rec["status"] == "ok"
    assert rec["avg_power_mw"] == pytest.approx(5000.0)
    assert rec["energy_per_inference_raw_mj"] == pytest.approx(50.0)
    assert rec["energy_per_inference_mj"] == pytest.approx(30.0)
    assert rec["samples"] == 101 and rec["sample_hz_achieved"] == pytest.approx(100.0)


def test_step_trace_integrates_exactly_with_the_trapezoidal_rule() -> None:
    # 1 W for 2 s, then 3 W for 2 s, sampled at 10 Hz: the ramp between 1.9 s and 2.0 s
    # holds (1 + 3) / 2 W for 0.1 s. Energy = 1*1.9 + 2*0.1 + 3*2.0 = 8.1 J = 8100 mJ.
    pts = [(i / 10, 1000.0 if i < 20 else 3000.0) for i in range(41)]
    energy, covered = integrate(*zip(*pts, strict=True), 0.0, 4.0)  # type: ignore[arg-type]
    assert covered == pytest.approx(4.0)
    assert energy == pytest.approx(8100.0)
    rec = energy_record(power_trace(pts), (0.0, 4.0), 81, idle_mw=None)
    assert rec["energy_per_inference_raw_mj"] == pytest.approx(100.0)
    assert rec["energy_per_inference_mj"] is None
    assert rec["energy_note"].startswith("n/a (no idle baseline")


def test_window_cut_inside_the_trace_interpolates_at_its_edges() -> None:
    # power rises linearly 0 -> 10,000 mW over 10 s; over [2.5, 7.5] s the mean is 5,000 mW
    pts = [(float(i), 1000.0 * i) for i in range(11)]
    mean, why = average_power(*zip(*pts, strict=True), 2.5, 7.5)  # type: ignore[arg-type]
    assert why is None and mean == pytest.approx(5000.0)


def test_energy_counter_with_wrap_around() -> None:
    # A counter in mJ with a range of 1,000 mJ: 5 W = 5 mJ/ms, read every 0.1 s = +500 mJ per read
    wrap = 1000.0
    ch = Channel("package-0", "mJ", ENERGY, wrap=wrap)
    trace = Trace("rapl", {"package-0": ch}, total="package-0", total_source="sum of packages")
    for i in range(21):
        trace.append(i * 0.1, {"package-0": (i * 500.0) % wrap})
    t, p = power_series(trace, "package-0")
    assert len(p) == 20 and all(v == pytest.approx(5000.0) for v in p)
    rec = energy_record(trace, (0.05, 1.95), 19, idle_mw=0.0)
    assert rec["avg_power_mw"] == pytest.approx(5000.0)
    assert rec["energy_per_inference_mj"] == pytest.approx(5000.0 * 1.9 / 19)


def test_too_few_samples_is_na_with_a_reason_never_zero() -> None:
    trace = power_trace([(0.0, 4000.0), (1.0, 4000.0)])  # 1 Hz, like jtop
    rec = energy_record(trace, (0.2, 0.5), 30, idle_mw=1000.0)
    assert rec["status"] == "n/a"
    assert rec["energy_per_inference_mj"] is None and rec["energy_per_inference_raw_mj"] is None
    assert "only 0 sample(s)" in rec["reason"] and "--sample-hz" in rec["reason"]
    assert "avg_power_mw" not in rec


def test_a_trace_that_misses_most_of_the_window_is_na() -> None:
    rec = energy_record(constant(5000.0, 0.0, 1.0), (0.0, 10.0), 100, idle_mw=0.0)
    assert rec["status"] == "n/a" and "covers 10 %" in rec["reason"]


def test_a_sensor_without_total_is_na() -> None:
    trace = Trace("thermal", {"cpu": Channel("cpu", "C", TEMPERATURE)})
    for i in range(5):
        trace.append(i, {"cpu": 40.0})
    rec = energy_record(trace, (0, 4), 10)
    assert rec["status"] == "n/a" and "no total power" in rec["reason"]


def test_idle_power_and_temperatures_and_rails() -> None:
    chans = {
        "VDD_IN": Channel("VDD_IN", "mW", POWER),
        "VDD_GPU": Channel("VDD_GPU", "mW", POWER),
        "temp_gpu": Channel("temp_gpu", "C", TEMPERATURE),
    }
    trace = Trace("jetson", chans, total="VDD_IN", total_source="VDD_IN")
    for i in range(11):
        trace.append(i / 10, {"VDD_IN": 3000.0, "VDD_GPU": 1000.0, "temp_gpu": 40.0 + i})
    assert idle_power(trace) == (pytest.approx(3000.0), None)
    rec = energy_record(trace, (0.0, 1.0), 10, idle_mw=2500.0, idle_seconds=1.0)
    assert rec["rails"] == {"VDD_GPU": {"unit": "mW", "avg": 1000.0, "energy_mj": 1000.0}}
    assert rec["temperatures_c"]["temp_gpu"] == {"start": 40.0, "end": 50.0, "max": 50.0}
    assert rec["energy_per_inference_mj"] == pytest.approx(50.0)
    assert rec["timeline"]["t_s"][0] == 0.0 and len(rec["timeline"]["total_mw"]) == 11


class CountingSensor(PollingSensor):
    name = "counting"

    def __init__(self) -> None:
        self.reads = 0

    def probe(self) -> Probe:
        return Probe(self.name, True, "always")

    def channels(self) -> dict[str, Channel]:
        return {"P": Channel("P", "mW", POWER)}

    def total(self) -> tuple[str | None, str | None]:
        return "P", "P"

    def read(self) -> dict[str, float | None]:
        self.reads += 1
        return {"P": 1234.0}


@pytest.mark.slow
def test_polling_sensor_samples_on_the_perf_counter_clock_in_a_thread() -> None:
    s = CountingSensor()
    before = time.perf_counter()
    s.start(200.0)
    time.sleep(0.3)
    trace = s.stop()
    after = time.perf_counter()
    assert before <= trace.t[0] and trace.t[-1] <= after
    assert all(b > a for a, b in zip(trace.t, trace.t[1:], strict=False))
    assert 20 <= trace.samples <= 70  # ~60 at 200 Hz; a loaded 2-core host gets fewer, never a burst
    assert trace.series["P"] == [1234.0] * trace.samples


@pytest.mark.slow
def test_replay_sensor_pins_the_recorded_trace_to_its_start(tmp_path) -> None:
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(constant(5000.0, 0.0, 100.0).to_dict()))
    sensor = ReplaySensor.from_file(str(path))
    assert sensor.probe().available
    t0 = time.perf_counter()
    sensor.start(100.0)
    time.sleep(0.2)
    trace = sensor.stop()
    assert trace.t[0] >= t0 and trace.samples >= 15 and trace.total == "VDD_IN"


def test_replay_of_a_tegrastats_log_uses_its_total_rail() -> None:
    from tests.sensors.tegrastats_lines import AGX_ORIN, NANO

    trace = trace_from_tegrastats("\n".join([NANO] * 3))
    assert trace.total == "POM_5V_IN" and trace.t == [0.0, 1.0, 2.0]
    assert trace.series["POM_5V_IN"] == [2746.0] * 3
    summed = trace_from_tegrastats("\n".join([AGX_ORIN] * 2))
    assert summed.total == "total" and summed.series["total"] == [4940.0 + 988.0 + 4442.0] * 2
    assert "sum of rails" in summed.total_source


def test_parse_duration() -> None:
    assert parse_duration("5s") == 5.0 and parse_duration("500ms") == 0.5 and parse_duration("0") == 0.0
    assert parse_duration("1m") == 60.0
    from zooprof.errors import UsageError

    with pytest.raises(UsageError):
        parse_duration("five seconds")


def test_window_of_a_worker_timing_record() -> None:
    timing = {"timestamps_s": [[1.0, 1.1], [1.1, 1.2], [1.2, 1.3]], "calls_per_sample": 10}
    assert window_of(timing) == ((1.0, 1.3), 30)
    assert window_of({"timestamps_s": []}) is None


@pytest.mark.slow
def test_power_session_idle_baseline_then_sampling(tmp_path) -> None:
    trace = power_trace([(i / 100, 2000.0 if i < 50 else 5000.0) for i in range(10_001)])
    session = PowerSession(PowerOptions("replay", 100.0, 0.3), sensor=ReplaySensor(trace), probes=[])
    session.host = None
    session.measure_idle()
    assert session.idle_mw == pytest.approx(2000.0, rel=0.01)
    with session.sampling():
        time.sleep(0.7)
        t1 = time.perf_counter()
        timing = {"timestamps_s": [[t1 - 0.2, t1 - 0.1], [t1 - 0.1, t1]], "calls_per_sample": 50}
    rec = session.record(timing)
    assert rec["status"] == "ok" and rec["avg_power_mw"] == pytest.approx(5000.0)
    assert rec["energy_per_inference_mj"] == pytest.approx((5000 - session.idle_mw) * 0.2 / 100, rel=1e-6)


def test_no_sensor_gives_na_with_every_probe_reason() -> None:
    probes = [Probe("jetson-sysfs", False, "no INA3221"), Probe("rapl", False, "no powercap")]
    session = PowerSession(PowerOptions(), sensor=None, probes=probes)
    with session.sampling():
        pass
    rec = session.record({"timestamps_s": [[0.0, 1.0]], "calls_per_sample": 1})
    assert rec["status"] == "n/a" and rec["energy_per_inference_mj"] is None
    assert "jetson-sysfs: no INA3221" in rec["reason"] and "rapl: no powercap" in rec["reason"]


class BrokenSensor(CountingSensor):
    name = "broken"

    def open_files(self) -> None:
        raise OSError("rail file vanished")


def test_a_sensor_that_fails_to_start_costs_its_figures_not_the_measurement() -> None:
    session = PowerSession(PowerOptions("broken", 100.0, 0.0), sensor=BrokenSensor(), host=None, probes=[])
    ran = False
    with session.sampling():
        ran = True
    rec = session.record({"timestamps_s": [[0.0, 1.0]], "calls_per_sample": 1})
    assert ran and rec["status"] == "n/a" and rec["energy_per_inference_mj"] is None
    assert "sensor broken failed to start: OSError: rail file vanished" in rec["reason"]

"""Jetson power modes in a sweep, with a fake nvpmodel: names from nvpmodel.conf, the switch
verified, the original mode restored; off a Jetson each cell says why nothing was switched."""

from __future__ import annotations

from zooprof.sweep.powermodes import PowerModes, parse_modes

# the two modes of a Jetson Nano's /etc/nvpmodel.conf (JetPack 4.6), as NVIDIA ships them
NANO_CONF = """
< POWER_MODEL ID=0 NAME=MAXN >
CPU_ONLINE CORE_0 1
< POWER_MODEL ID=1 NAME=5W >
CPU_ONLINE CORE_0 1
< PM_CONFIG DEFAULT=0 >
"""


class FakeNano:
    def __init__(self, mode: int = 0, allowed: bool = True) -> None:
        self.mode, self.allowed, self.calls = mode, allowed, []

    def __call__(self, argv: list[str]) -> tuple[int, str]:
        self.calls.append(argv)
        if argv == ["nvpmodel", "-q"]:
            name = {0: "MAXN", 1: "5W"}[self.mode]
            return 0, f"NV Power Mode: {name}\n{self.mode}\n"
        if argv == ["cat", "/etc/nvpmodel.conf"]:
            return 0, NANO_CONF
        if argv[:4] == ["sudo", "-n", "nvpmodel", "-m"]:
            if not self.allowed:
                return 1, "sudo: a password is required"
            self.mode = int(argv[4])
            return 0, ""
        return 127, f"{argv[0]} not found"


def test_parse_modes() -> None:
    assert parse_modes(NANO_CONF) == {"MAXN": 0, "5W": 1}


def test_switch_by_name_verify_and_restore() -> None:
    nano = FakeNano(mode=0)
    waits: list[float] = []
    modes = PowerModes(nano, sleep=waits.append)
    assert modes.original == "MAXN (mode 0)"
    ok, what = modes.apply("5W", settle_s=5)
    assert ok and what == "power mode 5W (mode 1), after 5 s to settle" and waits == [5]
    assert ["sudo", "-n", "nvpmodel", "-m", "1"] in nano.calls
    assert modes.restore() == "power mode restored to MAXN (mode 0)" and nano.mode == 0


def test_an_unknown_mode_lists_the_boards_modes() -> None:
    ok, what = PowerModes(FakeNano(), sleep=lambda s: None).apply("15W")
    assert not ok and what == "unknown power mode '15W' on this board; it has: MAXN (0), 5W (1)"


def test_without_sudo_rights_the_cell_says_how_to_allow_it() -> None:
    ok, what = PowerModes(FakeNano(allowed=False), sleep=lambda s: None).apply("1")
    assert not ok and "sudo: a password is required" in what and "sudoers" in what


def test_off_a_jetson_nothing_is_switched() -> None:
    modes = PowerModes(lambda argv: (127, "nvpmodel not found"), sleep=lambda s: None)
    ok, what = modes.apply("MAXN")
    assert not ok and what == "power mode MAXN not set: nvpmodel -q failed (nvpmodel not found): not a Jetson?"
    assert modes.restore() is None


def test_cooldown_waits_for_the_hottest_zone(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two fake zones at 55.0 and 48.5 °C (millidegrees in sysfs): below 60 no wait; below 50 the
    sweep waits in 2 s steps up to max_wait_s and says how hot it still is."""
    from tests.sensors.fake_boards import write
    from zooprof.sweep.run import cooldown, hottest_zone

    for i, (name, milli) in enumerate((("CPU-therm", 55000), ("GPU-therm", 48500))):
        write(tmp_path, f"sys/class/thermal/thermal_zone{i}/type", name)
        write(tmp_path, f"sys/class/thermal/thermal_zone{i}/temp", milli)
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(tmp_path))
    assert hottest_zone(tmp_path) == 55.0
    slept: list[float] = []
    assert cooldown({"temperature_c": 60}, slept.append) == "hottest zone 55.0 °C after 0 s" and slept == []
    assert cooldown({"temperature_c": 50, "max_wait_s": 4}, slept.append) == "hottest zone 55.0 °C after 4 s"
    assert slept == [2.0, 2.0]
    assert cooldown({"seconds": 3}, slept.append) == "waited 3 s" and slept[-1] == 3


def test_sweep_eta() -> None:
    from zooprof.cli.sweep_cmd import eta_text

    # 2 of 6 cells in 10 s: 5 s a cell, 4 left = 20 s
    assert eta_text(10.0, 2, 6) == ", ETA 0m20s"
    assert eta_text(130.0, 1, 2) == ", ETA 2m10s" and eta_text(5.0, 6, 6) == "" and eta_text(0.0, 0, 6) == ""

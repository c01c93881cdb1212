"""--memory-limit: the text forms, the default (a share of the memory available, capped by the
process's cgroup), the reason line, and the parent's reading of a process's resident memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from zooprof.errors import UsageError
from zooprof.measure.options import ProfileOptions
from zooprof.runtimes import memory_limit as ml

GiB = 2**30
MiB = 2**20


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("8G", 8 * GiB),
        ("512M", 512 * MiB),
        ("1.5GiB", int(1.5 * GiB)),
        ("300mb", 300 * MiB),
        (" 2 g ", 2 * GiB),
        ("65536K", 64 * MiB),
        ("1T", 2**40),
        (3 * GiB, 3 * GiB),
        ("none", ml.NO_LIMIT),
        ("OFF", ml.NO_LIMIT),
        ("auto", None),
        (None, None),
    ],
)
def test_sizes_in_every_form(given: object, expected: object) -> None:
    assert ml.parse_memory_limit(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("12Q", "malformed --memory-limit '12Q'"),
        ("8", "--memory-limit 8 has no unit"),
        ("10M", "--memory-limit 10M is below 64 MiB"),
        (1000, "--memory-limit 1000 is below 64 MiB"),
        ("-1G", "malformed --memory-limit '-1G'"),
        ("", "malformed --memory-limit ''"),
        ("0%", "--memory-limit 0% is out of range"),
        ("150%", "--memory-limit 150% is out of range"),
        ("x%", "--memory-limit x% is out of range"),
        (True, "malformed --memory-limit 'True'"),
    ],
)
def test_bad_sizes_are_one_line_usage_errors(given: object, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        ml.parse_memory_limit(given)
    assert exc.value.message == message
    assert "\n" not in str(exc.value) and exc.value.hint


def test_profile_options_parse_and_record_the_limit() -> None:
    assert ProfileOptions().memory_limit is None and ProfileOptions().record()["memory_limit"] is None
    o = ProfileOptions.parse(memory_limit="2G")
    assert o.memory_limit == 2 * GiB and o.record()["memory_limit"] == 2 * GiB
    assert ProfileOptions.parse(memory_limit="none").record()["memory_limit"] == "none"
    with pytest.raises(UsageError, match="malformed --memory-limit"):
        ProfileOptions.parse(memory_limit="lots")
    with pytest.raises(UsageError, match="--memory-limit is not applied with --on"):
        ProfileOptions.parse(memory_limit="2G", on="pi@board")  # a board's agent runs its own workers


def _machine(monkeypatch: pytest.MonkeyPatch, total: int, available: int) -> None:
    import psutil

    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(total=total, available=available))


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_default_is_80_percent_of_the_available_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    _machine(monkeypatch, total=64 * GiB, available=10 * GiB)  # the test's empty machine root: no cgroup
    assert ml.resolve(None) == 8 * GiB
    assert ml.resolve(ml.NO_LIMIT) is None and ml.resolve(3 * GiB) == 3 * GiB
    assert ml.parse_memory_limit("25%") == 16 * GiB  # a share of the total, not of what is free


def test_cgroup_v2_limit_caps_total_and_available(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A container's memory.max (the tightest of the cgroup and its ancestors) bounds the machine;
    the inactive file cache under it counts as free, as the kernel reclaims it first."""
    _write(
        tmp_path,
        {
            "proc/self/cgroup": "0::/lab.slice/job\n",
            "sys/fs/cgroup/lab.slice/memory.max": str(6 * GiB),
            "sys/fs/cgroup/lab.slice/memory.current": str(5 * GiB),
            "sys/fs/cgroup/lab.slice/memory.stat": f"anon 1000\ninactive_file {2 * GiB}\nactive_file 5\n",
            "sys/fs/cgroup/lab.slice/job/memory.max": "max",
            "sys/fs/cgroup/lab.slice/job/memory.current": str(4 * GiB),
        },
    )
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(tmp_path))
    _machine(monkeypatch, total=64 * GiB, available=40 * GiB)
    assert ml.total_memory() == 6 * GiB
    assert ml.available_memory() == 6 * GiB - (5 * GiB - 2 * GiB)
    assert ml.resolve(None) == int(3 * GiB * 0.8)
    assert ml.parse_memory_limit("50%") == 3 * GiB
    (tmp_path / "sys/fs/cgroup/lab.slice/job/memory.max").write_text(str(4 * GiB + 512 * MiB))
    assert ml.total_memory() == 4 * GiB + 512 * MiB and ml.available_memory() == 512 * MiB
    _machine(monkeypatch, total=64 * GiB, available=100 * MiB)  # the machine itself is fuller still
    assert ml.available_memory() == 100 * MiB


def test_cgroup_v1_hierarchical_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """cgroup v1 (JetPack's Docker): memory.stat's hierarchical_memory_limit; inside a container
    the cgroup's own folder is the mount's root, whatever path /proc/self/cgroup names."""
    _write(
        tmp_path,
        {
            "proc/self/cgroup": "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n",
            "sys/fs/cgroup/memory/memory.stat": f"cache 5\nhierarchical_memory_limit {8 * GiB}\n"
            f"total_inactive_file {GiB}\n",
            "sys/fs/cgroup/memory/memory.limit_in_bytes": str(8 * GiB),
            "sys/fs/cgroup/memory/memory.usage_in_bytes": str(5 * GiB),
        },
    )
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(tmp_path))
    _machine(monkeypatch, total=32 * GiB, available=30 * GiB)
    assert ml.total_memory() == 8 * GiB and ml.available_memory() == 4 * GiB
    unlimited = "9223372036854771712"
    _write(tmp_path, {"sys/fs/cgroup/memory/memory.stat": f"hierarchical_memory_limit {unlimited}\n"})
    assert ml.total_memory() == 32 * GiB and ml.available_memory() == 30 * GiB


def test_reason_line() -> None:
    assert ml.over_limit_reason(int(1.53 * GiB), 1500 * MiB, default=False) == (
        "worker used 1.53 GiB, over the memory limit of 1.46 GiB (--memory-limit); "
        "use a smaller batch or raise the limit"
    )
    # never the same figure on both sides
    assert "used 2.001 GiB, over the memory limit of 2 GiB" in ml.over_limit_reason(int(2.001 * GiB), 2 * GiB, False)
    assert "(80% of the memory available at its start; --memory-limit)" in ml.over_limit_reason(
        13 * GiB, 12 * GiB, default=True
    )
    assert ml.format_size(312 * MiB) == "312 MiB" and ml.format_size(int(12.34 * GiB)) == "12.3 GiB"


def _proc_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(field)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_watch_reads_the_resident_memory_the_kernel_reports() -> None:
    """A process of its own holding 64 MiB and no children (pytest's own process may have some,
    started by other tests): the watch's reading against the kernel's /proc/PID/status."""
    code = (
        "import sys; held = b'\\x01' * (64 << 20); sys.stdout.write('ready\\n'); sys.stdout.flush(); "
        "sys.stdin.read(); assert len(held) == 64 << 20"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        rss_before = _proc_status(proc.pid, "VmRSS")
        hwm_before = _proc_status(proc.pid, "VmHWM")
        watch = ml.MemoryWatch(proc.pid, limit=None)
        used = watch.sample()
        rss_after = _proc_status(proc.pid, "VmRSS")
        assert min(rss_before, rss_after) - 4 * MiB <= used <= max(rss_before, rss_after) + 4 * MiB
        assert used > 64 * MiB and watch.last == used
        assert hwm_before <= watch.peak <= _proc_status(proc.pid, "VmHWM")  # the kernel's high-water mark too
        assert not watch.over()
        small = ml.MemoryWatch(proc.pid, limit=used // 2)
        assert not small.over()  # nothing sampled yet
        small.sample()
        assert small.over()
    finally:
        proc.communicate("", timeout=30)
    assert proc.returncode == 0


def test_watch_of_a_gone_process_reads_nothing() -> None:
    watch = ml.MemoryWatch(2**22 + 12345, limit=MiB)  # above any Linux pid (PID_MAX_LIMIT is 2^22)
    assert watch.sample() == 0 and not watch.over() and watch.peak == 0
    watch.kill_descendants()

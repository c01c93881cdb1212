"""The memory limit of a measurement worker: `--memory-limit` parsed, its default, and the watch.

A worker's address space says nothing about what it costs the machine: CUDA and PyTorch reserve
tens of GiB of virtual memory they never touch, so RLIMIT_AS (what the TorchScript reader in
frontends/torch/isolated.py uses) would break them. The limit is on resident memory instead, and
the parent enforces it: `MemoryWatch` samples the resident set size (RSS) of the worker and its
descendants (trtexec, a converter) with psutil, `SAMPLE_S` apart, and a worker over the limit is
killed with all of them. Its row fails with the reason; the run goes on.

Default (`--memory-limit` not given): 80 % of the memory available when the worker starts
(psutil's `available`, free plus reclaimable cache, or the room left under this process's cgroup
memory limit when that is smaller: a container's `--memory`). Available, not total: what other programs hold is not the
worker's to take, and past `available` the machine swaps or the kernel's OOM killer picks a
victim, possibly not the worker. 80 %, not all: the watch samples 5 times a second, and a worker
allocating at several GB/s grows for up to a sampling interval (a new child process: up to a
second, `FAMILY_REFRESH_S`) past the limit before it is seen.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.sensors.proc_status import status_bytes

#: `ProfileOptions.memory_limit` for no limit at all (`--memory-limit none`)
NO_LIMIT = "none"
DEFAULT_FRACTION = 0.8
MIN_LIMIT = 64 * 2**20  # a bare Python worker needs ~30 MiB; below this no measurement can run
SAMPLE_S = 0.2  # resident memory of the known processes: ~20 us per process on Linux
FAMILY_REFRESH_S = 1.0  # finding descendants scans every process (~2 ms): once a second
_UNITS = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_SIZE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*([kmgt])(?:i?b)?$")
_EXAMPLE = "give a size such as 8G or 512M, a share of the machine's memory such as 50%, or none"


def parse_memory_limit(value: Any) -> int | str | None:
    """`--memory-limit` in any form a user gives -> bytes (int), `NO_LIMIT`, or None (the default).

    Text: '8G', '512M', '1.5GiB', '300mb' (binary units: 1G = 2^30 bytes), '50%' (of the
    machine's memory, `total_memory()`), 'none' / 'off' (no limit), 'auto' (the default).
    An int is bytes. Anything else, or under 64 MiB, is a one-line UsageError."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise UsageError(f"malformed --memory-limit '{value}'", _EXAMPLE)
    if isinstance(value, int):
        size = value
    else:
        text = str(value).strip().lower()
        if text in ("none", "off", "unlimited"):
            return NO_LIMIT
        if text in ("auto", "default"):
            return None
        size = _parse_text(text, value)
    if size < MIN_LIMIT:
        raise UsageError(
            f"--memory-limit {value} is below {format_size(MIN_LIMIT)}",
            "a worker needs more than that to start; give e.g. 2G, or none for no limit",
        )
    return size


def _parse_text(text: str, value: Any) -> int:
    if text.endswith("%"):
        try:
            share = float(text[:-1])
        except ValueError:
            share = float("nan")
        if not 0 < share <= 100:
            raise UsageError(f"--memory-limit {value} is out of range", "give a share between 0 and 100 %, e.g. 50%")
        return int(total_memory() * share / 100)
    match = _SIZE.match(text)
    if match is None:
        if re.fullmatch(r"\d+(\.\d*)?", text):
            raise UsageError(f"--memory-limit {value} has no unit", f"{_EXAMPLE} (K, M, G, T: powers of 1024)")
        raise UsageError(f"malformed --memory-limit '{value}'", _EXAMPLE)
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def format_size(n: int, digits: int = 3) -> str:
    """Bytes for a reason line, to `digits` significant digits: '312 MiB', '12.3 GiB', '1.46 GiB'
    (binary units, as --memory-limit reads them)."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:.{digits}g} {unit}"
    return f"{n / 2**10:.{digits}g} KiB"


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _stat(folder: Path, key: str) -> int:
    """A counter of the cgroup's memory.stat (0 when absent)."""
    for line in (_read(folder / "memory.stat") or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _cgroup_limits() -> list[tuple[int, int]]:
    """(limit, used) for each memory limit of this process's cgroups: cgroup v2 `memory.max` of
    its cgroup and every ancestor, cgroup v1 `hierarchical_memory_limit`. `used` leaves out the
    inactive file cache, which the kernel reclaims before it fails an allocation (as `docker
    stats` does). Read under ZOOPROF_SYSFS_ROOT like every /proc and /sys path of the machine
    (tests give an empty one; the variable is read here, as zooprof.sensors.sysfs_root does,
    since runtimes/ sits below sensors/)."""
    root = Path(os.environ.get("ZOOPROF_SYSFS_ROOT", "/"))
    out: list[tuple[int, int]] = []
    for line in (_read(root / "proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        try:
            if controllers == "":  # v2: the tightest of the cgroup and its ancestors applies
                base = root / "sys/fs/cgroup"
                folder = base / path.lstrip("/")
                folder = folder if folder.is_dir() else base  # a cgroup namespace: its root is ours
                while True:
                    limit = _read(folder / "memory.max")
                    if limit and limit != "max":
                        current = int(_read(folder / "memory.current") or 0)
                        out.append((int(limit), current - _stat(folder, "inactive_file")))
                    if folder == base or base not in folder.parents:
                        break
                    folder = folder.parent
            elif "memory" in controllers.split(","):
                base = root / "sys/fs/cgroup/memory"
                folder = base / path.lstrip("/")
                folder = folder if folder.is_dir() else base
                limit = _stat(folder, "hierarchical_memory_limit") or int(_read(folder / "memory.limit_in_bytes") or 0)
                if 0 < limit < 2**60:  # v1 writes "no limit" as a number near 2^63
                    usage = int(_read(folder / "memory.usage_in_bytes") or 0)
                    out.append((limit, usage - _stat(folder, "total_inactive_file")))
        except ValueError:
            continue
    return out


def total_memory() -> int:
    """The machine's memory (psutil), or this process's cgroup memory limit where that is smaller."""
    import psutil

    return min([int(psutil.virtual_memory().total), *(limit for limit, _ in _cgroup_limits())])


def available_memory() -> int:
    """Memory a new process can take without swapping: psutil's `available` (free + reclaimable
    cache), or the room left under this process's cgroup memory limit where that is smaller."""
    import psutil

    rooms = [max(limit - used, 0) for limit, used in _cgroup_limits()]
    return min([int(psutil.virtual_memory().available), *rooms])


def resolve(limit: int | str | None) -> int | None:
    """The limit in bytes for a worker starting now (None: no limit). Called per worker, so the
    default follows what the machine has free at that moment."""
    if limit == NO_LIMIT:
        return None
    if limit is None:
        return int(available_memory() * DEFAULT_FRACTION)
    return int(limit)


def over_limit_reason(used: int, limit: int, default: bool) -> str:
    """The row's one line when the watch kills a worker."""
    how = (
        f"{DEFAULT_FRACTION:.0%} of the memory available at its start; --memory-limit" if default else "--memory-limit"
    )
    digits = 3
    while format_size(used, digits) == format_size(limit, digits) and digits < 9:
        digits += 1  # never "used 1.5 GiB, over the memory limit of 1.5 GiB"
    return (
        f"worker used {format_size(used, digits)}, over the memory limit of {format_size(limit, digits)} "
        f"({how}); use a smaller batch or raise the limit"
    )


class MemoryWatch:
    """The parent's view of a worker's resident memory: the worker and its descendants, summed.

    `sample()` reads each known process's RSS (cheap) and rescans for descendants every
    `FAMILY_REFRESH_S`. RSS counts a page shared between two processes of the family twice, so
    the sum errs high, never low. `peak` is the highest of the sums and of the worker's own
    high-water mark (Linux VmHWM, read with each sample), which catches the worker's peaks
    between samples (the job resets it after loading, zooprof.runtimes.job: the samples cover
    the loading)."""

    def __init__(self, pid: int, limit: int | None) -> None:
        import psutil

        self.limit = limit
        self.peak = 0
        self.last = 0
        self._psutil = psutil
        self._family: dict[int, Any] = {}
        self._next_scan = 0.0
        try:
            self._root: Any = psutil.Process(pid)
        except psutil.Error:
            self._root = None
        else:
            self._family[pid] = self._root

    def _scan(self) -> None:
        try:
            for child in self._root.children(recursive=True):
                self._family.setdefault(child.pid, child)
        except self._psutil.Error:
            pass  # the worker is gone: its descendants known so far are still watched and killed

    def sample(self) -> int:
        """The family's resident bytes now (updates `peak`)."""
        if self._root is None:
            return 0
        now = time.monotonic()
        if now >= self._next_scan:
            self._scan()
            self._next_scan = now + FAMILY_REFRESH_S
        total = 0
        for pid, proc in list(self._family.items()):
            try:
                total += proc.memory_info().rss
            except self._psutil.Error:  # exited (or a zombie): it holds no memory
                if pid != self._root.pid:
                    del self._family[pid]
        self.last = total
        self.peak = max(self.peak, total, status_bytes("VmHWM", self._root.pid) or 0)
        return total

    def over(self) -> bool:
        """Whether the last sample passed the limit."""
        return self.limit is not None and self.last > self.limit

    def kill_descendants(self) -> None:
        """SIGKILL every descendant seen (psutil checks each is still the process it saw, not a
        reused pid). The worker itself is its multiprocessing.Process's to kill."""
        if self._root is None:
            return
        self._scan()
        for pid, proc in self._family.items():
            if pid != self._root.pid:
                with contextlib.suppress(self._psutil.Error):
                    proc.kill()

"""A process's memory as the Linux kernel counts it: the fields of /proc/PID/status.

    VmRSS   resident memory now          VmHWM   its peak (the high-water mark)
    VmSize  address space mapped (what RLIMIT_AS limits)

Used by the measurement worker (its own memory around the timed run), the parent's memory watch
(the worker's peak), the TorchScript reader (its child's address-space limit) and the board agent.
"""

# Python 3.6 compatible, standard library only: the board agent imports this module on a Jetson
# (zooprof.remote.BOARD_MODULES; JetPack 4.6 ships Python 3.6). Hence typing's Optional/Union forms.

from typing import Optional, Union


def status_bytes(field: str, pid: Union[int, str] = "self") -> Optional[int]:
    """`field` ("VmRSS", "VmHWM", "VmSize") of /proc/`pid`/status in bytes (the file gives kB);
    None where it cannot be read: not Linux, the process gone, or a kernel without the field."""
    prefix = field + ":"
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(prefix):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None

"""Jobs for the worker tests (importable by a spawned child)."""

from __future__ import annotations

import ctypes
import time
from typing import Any


def good(x: int, report: Any) -> dict[str, Any]:
    report({"step": 1})
    return {"value": x * 2}


def raises(x: int, report: Any) -> dict[str, Any]:
    raise ValueError(f"bad value {x}\nsecond line")


def segfaults(x: int, report: Any) -> dict[str, Any]:
    ctypes.string_at(0)
    return {}


def hangs(x: int, report: Any) -> dict[str, Any]:
    time.sleep(1000)
    return {}

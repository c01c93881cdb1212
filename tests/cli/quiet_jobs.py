"""A worker job that writes to file descriptor 2 as a native library does (TensorFlow's absl
start-up lines), for tests/cli/test_quiet_tensorflow.py."""

from __future__ import annotations

import os
from typing import Any

NOISE = "W0000 00:00:1 absl noise: All log messages before absl::InitializeLog() is called"


def noisy(value: int, report: Any) -> dict[str, Any]:
    os.write(2, (NOISE + "\n").encode())
    return {"value": value, "tf_level": os.environ.get("TF_CPP_MIN_LOG_LEVEL")}

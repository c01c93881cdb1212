"""What every command shares: the --debug switch, one-line error reports, file names."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from zooprof.errors import ZooprofError

DEBUG = False


def report_error(exc: ZooprofError) -> None:
    """One line on stderr (the traceback first with --debug)."""
    if DEBUG:
        traceback.print_exception(exc)
    hint = f"; {exc.hint}" if exc.hint else ""
    print(f"error: {exc.message}{hint}", file=sys.stderr)


def safe_name(model: str) -> str:
    """A model reference as a file name: reports/{model}.csv."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(model).name)

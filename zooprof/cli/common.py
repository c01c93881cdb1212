"""What every command shares: the --debug switch, one-line error reports, file names."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zooprof.errors import ZooprofError

#: --memory-limit's help, the same for every command that measures
MEMORY_LIMIT_HELP = (
    "Kill a measurement's worker (and its children) when their resident memory passes this: "
    "8G, 512M, 50% of the machine's, or none (default: 80% of the memory available when it starts)."
)

DEBUG = False


def report_error(exc: ZooprofError) -> None:
    """One line on stderr (the traceback first with --debug)."""
    if DEBUG:
        traceback.print_exception(exc)
    hint = f"; {exc.hint}" if exc.hint else ""
    print(f"error: {exc.message}{hint}", file=sys.stderr)


def terminal_width() -> int | None:
    """The terminal's width in characters when stdout is one, else None (a file or a pipe: no limit)."""
    if not sys.stdout.isatty():
        return None
    import shutil

    return shutil.get_terminal_size().columns


def safe_name(model: str) -> str:
    """A model reference as a file name: reports/{model}.csv."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(model).name)


def analyze_or_report(model: str, models: list[str], analyze: Callable[[str], Any]) -> Any | None:
    """Static analysis of one model of a run over `models`. A failure is reported in one
    line (prefixed with the model when there are several) and returns None, so the other
    models go on; a run of one model exits with the error's code."""
    try:
        return analyze(model)
    except ZooprofError as exc:
        if len(models) > 1:
            exc.message = f"{model}: {exc.message}"
        report_error(exc)
        if len(models) == 1:
            import typer

            raise typer.Exit(exc.exit_code) from None
        return None

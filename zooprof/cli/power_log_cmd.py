"""`zooprof power-log`: rail power and energy from a Jetson tegrastats log (imports no framework).

Parses and checks the options, reads the log (zooprof.sensors.tegrastats) and prints or writes
what the power-log renderers (zooprof.renderers.powerlog_text, powerlog_html) make of it."""

from __future__ import annotations

import re
from pathlib import Path

import typer


def parse_when(value: str | None, first_ts: object, option: str) -> float | None:
    """`--from/--to`: seconds from the start (e.g. 12.5) or clock time HH:MM:SS of the log's timestamps."""
    from datetime import datetime

    from zooprof.errors import UsageError

    if value is None:
        return None
    text = value.strip()
    try:
        secs = float(text)
    except ValueError:
        secs = None
    if secs is not None:
        if secs < 0 or secs != secs:
            raise UsageError(f"{option} {value!r}: must be non-negative seconds from the start of the log")
        return secs
    m = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})", text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3)) > 59:
        raise UsageError(f"{option} {value!r}: not seconds or HH:MM:SS", "e.g. --from 30 or --from 13:31:31")
    if not isinstance(first_ts, datetime):
        raise UsageError(
            f"{option} {value!r}: the log has no timestamps to match a clock time against",
            "give seconds from the start instead",
        )
    clock = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
    start = first_ts.hour * 3600 + first_ts.minute * 60 + first_ts.second
    return float((clock - start) % 86400)  # a clock time before the start means the next day


def power_log(
    file: Path = typer.Argument(..., help="A tegrastats log (e.g. from `tegrastats --interval 1000 --logfile f`)."),
    t_from: str | None = typer.Option(None, "--from", help="Window start: seconds from the start, or HH:MM:SS."),
    t_to: str | None = typer.Option(None, "--to", help="Window end: seconds from the start, or HH:MM:SS."),
    interval: float | None = typer.Option(
        None,
        "--interval",
        help="Seconds between lines when they carry no timestamp (tegrastats --interval / 1000; default 1.0).",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write .csv (per-sample timeline), .json "
        "(summary + timeline) or .html (tables and a power chart, offline).",
    ),
    width: int = typer.Option(None, "--width", help="Table width in characters (default: the terminal's)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column whole, however wide the table."),
) -> None:
    """Per-rail power (mean/min/max mW) and energy (J, trapezoidal) from a Jetson tegrastats log."""
    from zooprof.errors import UsageError
    from zooprof.renderers import extensions_text, format_by_extension, render_document
    from zooprof.renderers.documents import PowerLog
    from zooprof.sensors.tegrastats import read_log, summarize, timeline

    if interval is not None and not interval > 0:
        raise UsageError(f"--interval {interval}: must be a positive number of seconds")
    kind = None if output is None else format_by_extension(str(output), "power-log")
    if output is not None and kind is None:
        raise UsageError(f"-o {output}: unknown output type", f"use a {extensions_text('power-log')} file name")
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{file}: cannot read ({exc.strerror or exc})") from None
    samples, skipped = read_log(text)
    if not samples:
        raise UsageError(f"{file}: no tegrastats line in it", "record one with `tegrastats --logfile FILE`")
    first_ts = samples[0].timestamp
    lo = parse_when(t_from, first_ts, "--from")
    hi = parse_when(t_to, first_ts, "--to")
    if lo is not None and hi is not None and hi < lo:
        raise UsageError(f"--to {t_to!r} is before --from {t_from!r}")
    summary = summarize(samples, interval, lo, hi)
    summary["unreadable_lines"] = {"count": len(skipped), "first": [list(x) for x in skipped[:10]]}
    if skipped:
        shown = ", ".join(f"line {n}: {t[:60]!r}" for n, t in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        plural = "line" if len(skipped) == 1 else "lines"
        typer.echo(
            f"warning: {len(skipped)} {plural} could not be read as tegrastats output and were left out "
            f"({shown}{more})",
            err=True,
        )
    columns, rows = timeline(samples, interval, lo, hi)
    if not rows:
        raise UsageError(
            f"no sample between --from {t_from} and --to {t_to}",
            f"the log spans 0 to {summarize(samples, interval)['end_s']:g} s",
        )

    import sys

    from zooprof.cli.common import terminal_width

    tty = sys.stdout.isatty()
    doc = PowerLog(str(file), file.name, summary, columns, rows, color=tty, width=width or terminal_width(), wide=wide)
    table = render_document("power-log", "table", doc)
    typer.echo(table, nl=not table.endswith("\n"))
    if output is not None and kind is not None:
        from zooprof.result.document import write_atomic

        write_atomic(output, render_document("power-log", kind, doc))
        typer.echo(f"wrote {output}")

"""The `zooprof` command. Commands live in one module each and import frameworks lazily.

Errors a user can act on (zooprof.errors.ZooprofError) print as one line with a non-zero
exit code; `--debug` anywhere on the command line shows the traceback instead.
"""

from __future__ import annotations

import gc
import sys

import typer

from zooprof.cli import (
    common,
    compare_cmd,
    compare_formats_cmd,
    grade_cmd,
    inspect_cmd,
    list_cmd,
    power_log_cmd,
    profile_cmd,
    remote_cmd,
    report_cmd,
    results_cmd,
    sweep_cmd,
    sysinfo_cmd,
)
from zooprof.errors import ZooprofError
from zooprof.version import __version__

app = typer.Typer(
    name="zooprof",
    help="Model-zoo profiler for edge ML: per-layer shapes, receptive fields, params, MACs/FLOPs and memory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"zooprof {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    """zooprof: inspect and compare models for edge deployment."""


app.command("list")(list_cmd.list_models)
app.command("inspect")(inspect_cmd.inspect)
app.command("profile")(profile_cmd.profile)
app.command("compare")(compare_cmd.compare)
app.command("compare-formats")(compare_formats_cmd.compare_formats)
app.command("power-log")(power_log_cmd.power_log)
app.command("report")(report_cmd.report)
app.command("results")(results_cmd.results)
app.command("sysinfo")(sysinfo_cmd.sysinfo)
app.command("sweep")(sweep_cmd.sweep)
app.command("grade")(grade_cmd.grade)
app.add_typer(remote_cmd.app, name="remote")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args = [a for a in args if a != "--debug"]
    common.DEBUG = debug
    # A short-lived command: the cyclic garbage collector would walk the ~350,000 objects
    # torch and torchvision create on import several times and once more at exit (~1.5 s
    # of a 4 s command). Reference counting still frees memory. Only for the console
    # script (argv None), not for programmatic calls such as the tests'.
    standalone = argv is None
    if standalone:
        gc.disable()
    try:
        app(args=args, prog_name="zooprof")  # exits itself on success and on usage errors
    except ZooprofError as exc:
        common.report_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        sys.exit(1)
    finally:
        if standalone:
            gc.freeze()

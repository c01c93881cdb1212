"""`zooprof compare`: models or saved results side by side, and a --fail-if regression gate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from zooprof.cli.common import MEMORY_LIMIT_HELP


def compare(
    items: list[str] = typer.Argument(
        ...,
        help="Saved results (.json files, run folders) and/or model references (zoo names, "
        "torchvision:NAME, model files). The first is the --fail-if baseline.",
        show_default=False,
    ),
    runtime: str = typer.Option(
        None,
        "--runtime",
        "-r",
        help="Measure the models on these runtimes (comma-separated, or 'default' for each "
        "model's own). Without it models are compared statically.",
    ),
    batch: str = typer.Option(None, "--batch", "-b", help="Comma-separated batch sizes to measure (needs --runtime)."),
    max_time: float = typer.Option(
        None, "--max-time", min=0.1, help="Time budget per measurement, seconds (default 20; needs --runtime)."
    ),
    threads: int = typer.Option(None, "--threads", "-t", min=1, help="Threads per runtime (needs --runtime)."),
    timeout: float = typer.Option(
        None, "--timeout", min=1, help="Kill a measurement's worker after this many s (default 300; needs --runtime)."
    ),
    memory_limit: str = typer.Option(None, "--memory-limit", help=MEMORY_LIMIT_HELP + " Needs --runtime."),
    device: str = typer.Option(None, "--device", "-d", help="cpu, cuda or cuda:N (needs --runtime)."),
    precision: str = typer.Option(None, "--precision", help="fp32, fp16, bf16 or int8 (needs --runtime)."),
    input_shape: str = typer.Option(None, "--input-shape", "-i", help="Input shape for the models, batch first."),
    output: str = typer.Option(None, "--output", "-o", help="Write to FILE: .txt, .csv, .md, .json or .html."),
    fmt: str = typer.Option(
        None, "--format", "-f", help="table, csv, json, md or html (default: from -o, else table)."
    ),
    fail_if: list[str] = typer.Option(
        None,
        "--fail-if",
        help="Regression rule, e.g. 'latency.p50>+5%' (repeatable; docs/compare.md). "
        "Exit 1 when a candidate breaks one.",
    ),
    trust: bool = typer.Option(False, "--trust", help="Allow loading pickled model files (runs code from the file)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use the static-analysis cache."),
    width: int = typer.Option(None, "--width", help="Table width in characters (default: the terminal's)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column whole, however wide the table."),
) -> None:
    """Compare models or saved results: params, MACs, memory, latency, throughput, energy, Pareto front."""
    from zooprof.cli.common import analyze_or_report, terminal_width
    from zooprof.compare.regression import parse_rules
    from zooprof.errors import UsageError
    from zooprof.renderers import format_for

    # validate every option before loading or measuring anything
    kind = format_for(output, fmt, "compare")
    rules = parse_rules(fail_if)
    if rules and len(items) < 2:
        raise UsageError(
            "--fail-if needs a baseline and at least one candidate", "give two or more items; the first is the baseline"
        )
    paths = expand_items(items)
    models = [i for i in paths if not _is_result_file(i)]
    measure = runtime is not None
    if not measure and any(v is not None for v in (batch, max_time, threads, timeout, memory_limit, device, precision)):
        raise UsageError(
            "--batch, --max-time, --threads, --timeout, --memory-limit, --device and --precision apply to measurements",
            "add --runtime (e.g. --runtime torch) to measure the models",
        )
    options = None
    if measure:
        from zooprof.measure.options import ProfileOptions

        # "--runtime default": each model on its own runtime
        options = ProfileOptions.parse(
            runtime=None if runtime.strip().lower() == "default" else runtime,
            batch=batch or "1",
            input_shape=input_shape,
            threads=threads,
            device=device,
            precision=precision,
            max_time=20.0 if max_time is None else max_time,
            timeout=ProfileOptions.timeout if timeout is None else timeout,
            memory_limit=memory_limit,
            trust=trust,
            use_cache=not no_cache,
            command="zooprof " + " ".join(sys.argv[1:]),
        )
        options.check_available()
    elif input_shape:
        from zooprof.reference.resolve import parse_shape

        parse_shape(input_shape)

    results: list[Any] = []
    sources: list[str] = []
    baseline_failed = False
    command = "zooprof " + " ".join(sys.argv[1:])
    for n, item in enumerate(paths):
        if _is_result_file(item):
            result = _load_or_report(item, paths)
        else:
            result = analyze_or_report(
                item,
                paths,
                lambda m: _model_result(m, input_shape, trust, not no_cache, command, options),
            )
        if result is None:
            baseline_failed = baseline_failed or n == 0
            continue
        results.append(result)
        sources.append(item)
    if not results:
        raise typer.Exit(1)
    if models and not measure:
        typer.echo("static comparison: models not measured (give --runtime to measure them)", err=True)

    from zooprof.compare.regression import check_rules
    from zooprof.compare.rows import compare_entries, coverage_notes, source_record
    from zooprof.renderers import render_document
    from zooprof.renderers.documents import Comparison

    entries = compare_entries(results, sources)
    rows = [e.row for e in entries]
    checks = check_rules(entries, rules) if rules and not baseline_failed else []
    comparison = Comparison(
        results,
        rows,
        [source_record(r, s) for r, s in zip(results, sources, strict=True)],
        coverage_notes(results),
        [c.to_dict() for c in checks] if rules else None,
        width or (None if output else terminal_width()),
        wide,
    )
    text = render_document("compare", kind, comparison)
    if output:
        from zooprof.result.document import write_atomic

        write_atomic(Path(output), text)
        typer.echo(f"wrote {output}", err=True)
    else:
        typer.echo(text, nl=not text.endswith("\n"))

    for check in checks:
        typer.echo(f"fail-if: {check.line()}", err=True)
    if rules and baseline_failed:
        typer.echo(f"fail-if: not checked: the baseline {paths[0]} could not be read", err=True)
    broken = [c for c in checks if c.status == "failed"]
    if rules and not baseline_failed:
        skipped = sum(c.status == "not checked" for c in checks)
        typer.echo(
            f"fail-if: {len(broken)} failed, {len(checks) - len(broken) - skipped} passed, {skipped} not checked",
            err=True,
        )
    if broken or len(results) < len(paths):
        raise typer.Exit(1)


def _is_result_file(item: str) -> bool:
    """A saved result: a .json file, or a run folder of `zooprof profile` (holding result.json;
    other folders are models: TF.js, SavedModel, Teachable Machine exports)."""
    return item.lower().endswith(".json") or (Path(item).is_dir() and (Path(item) / "result.json").is_file())


def expand_items(items: list[str]) -> list[str]:
    """Items as given; a pattern the shell did not expand (quoted, or on Windows) is expanded here."""
    import glob

    from zooprof.errors import UsageError

    out: list[str] = []
    for item in items:
        if any(c in item for c in "*?[") and not Path(item).exists():
            found = sorted(glob.glob(item))
            if not found:
                raise UsageError(f"no file matches '{item}'", "check the path; saved results end in .json")
            out.extend(found)
        else:
            out.append(item)
    return out


def _load_or_report(path: str, items: list[str]) -> Any:
    """A saved result, or None after a one-line error (which names the file) so the other items
    go on; a run of one item exits with the error's code, as analyze_or_report does."""
    from zooprof.cli.common import report_error
    from zooprof.errors import ZooprofError
    from zooprof.result.document import ProfileResult

    try:
        return ProfileResult.load(Path(path) / "result.json" if Path(path).is_dir() else path)
    except ZooprofError as exc:
        report_error(exc)
        if len(items) == 1:
            raise typer.Exit(exc.exit_code) from None
        return None


def _model_result(model: str, input_shape: str | None, trust: bool, use_cache: bool, command: str, options: Any) -> Any:
    """Static analysis of one model, measured with `options` (ProfileOptions) when given."""
    if options is None:
        from zooprof.measure.static import inspect

        return inspect(model, input_shape=input_shape, trust=trust, use_cache=use_cache, command=command)
    from zooprof.cli.progress import Progress
    from zooprof.measure.profiling import profile

    with Progress() as progress:
        return profile(model, options, progress)

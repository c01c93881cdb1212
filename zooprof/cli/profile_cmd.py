"""`zooprof profile`: measured latency, throughput and memory per runtime x batch."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from zooprof.cli.common import MEMORY_LIMIT_HELP


def profile(
    models: list[str] = typer.Argument(
        ..., help="Zoo name, torchvision:NAME, package.module:callable or a model file.", show_default=False
    ),
    runtime: str = typer.Option(
        None,
        "--runtime",
        "-r",
        help="Comma-separated: torch, onnxruntime, tensorrt, tflite, tensorflow (default: the model's own).",
    ),
    device: str = typer.Option(
        None, "--device", "-d", help="cpu, cuda or cuda:N (default: cpu; the GPU for tensorrt)."
    ),
    precision: str = typer.Option(
        None, "--precision", help="fp32, fp16, bf16 or int8 (default: the model's own). Recorded in each row."
    ),
    cuda_graphs: bool = typer.Option(
        False,
        "--cuda-graphs",
        help="On CUDA: capture one CUDA graph and time its replay (torch; trtexec --useCudaGraph).",
    ),
    cudnn_benchmark: bool = typer.Option(
        False,
        "--cudnn-benchmark",
        help="torch on CUDA: let cuDNN pick the fastest kernels (torch.backends.cudnn.benchmark).",
    ),
    ort_provider: str = typer.Option(
        None, "--ort-provider", help="ONNX Runtime execution provider: cpu, cuda or tensorrt (default: from --device)."
    ),
    dla: int = typer.Option(None, "--dla", min=0, help="TensorRT: run on this Jetson DLA core (GPU fallback allowed)."),
    on: str = typer.Option(
        None, "--on", help="Measure on a board over SSH: user@host, user@host:port or a ~/.ssh/config host."
    ),
    ssh_config: str = typer.Option(None, "--ssh-config", help="With --on: an ssh_config file (ssh -F FILE)."),
    board_python: str = typer.Option(
        None, "--board-python", help="With --on: the board's Python for the agent (default python3)."
    ),
    trtexec: str = typer.Option(
        None, "--trtexec", help="Path of trtexec (default: $ZOOPROF_TRTEXEC, PATH, /usr/src/tensorrt/bin)."
    ),
    batch: str = typer.Option("1", "--batch", "-b", help="Comma-separated batch sizes, e.g. 1,8."),
    threads: int = typer.Option(None, "--threads", "-t", min=1, help="Threads per runtime (default: the runtime's)."),
    input_shape: str = typer.Option(None, "--input-shape", "-i", help="Input shape, batch first: 1x3x224x224."),
    per_layer: bool = typer.Option(False, "--per-layer", help="Also time each layer (where the time goes)."),
    per_stage: bool = typer.Option(
        False,
        "--per-stage",
        help="Detection models: also time each stage (transform, backbone, neck, head, postprocess).",
    ),
    max_time: float = typer.Option(20.0, "--max-time", min=0.1, help="Time budget per measurement, seconds."),
    target_ci: str = typer.Option("1%", "--target-ci", help="Stop when the 95% CI of the median is within this."),
    timeout: float = typer.Option(300.0, "--timeout", min=1, help="Kill a measurement's worker after this many s."),
    memory_limit: str = typer.Option(
        None,
        "--memory-limit",
        help=MEMORY_LIMIT_HELP,
    ),
    output: str = typer.Option(
        None, "--output", "-o", help="Result JSON path (default reports/<time>-<model>/result.json); {model} allowed."
    ),
    weights: str = typer.Option(None, "--weights", help="A state_dict file to load (PyTorch models)."),
    ort_opt_level: str = typer.Option(None, "--ort-opt-level", help="ONNX Runtime graph optimisation level."),
    trust: bool = typer.Option(False, "--trust", help="Allow loading pickled model files (runs code from the file)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use the static-analysis cache."),
    power: bool = typer.Option(False, "--power", help="Sample power while measuring: average power, energy/inference."),
    sensor: str = typer.Option(
        None,
        "--sensor",
        help="Power sensor (implies --power): auto, jetson-sysfs, jtop, tegrastats, nvml, rapl, "
        "replay:FILE. See zooprof sysinfo.",
    ),
    sample_hz: float = typer.Option(50.0, "--sample-hz", min=0.1, help="Sensor sampling rate, Hz."),
    idle: str = typer.Option("3s", "--idle", help="Idle baseline before measuring (e.g. 5s; 0 for none)."),
    width: int = typer.Option(None, "--width", help="Table width in characters (default: the terminal's)."),
    wide: bool = typer.Option(False, "--wide", help="Show every column whole, however wide the table."),
    report: str = typer.Option(None, "--report", help="Also write the HTML report (PATH.html); {model} allowed."),
) -> None:
    """Measure latency, throughput and memory of models on one or more runtimes, each in its own worker."""
    from zooprof.cli.common import analyze_or_report, safe_name, terminal_width
    from zooprof.cli.progress import Progress
    from zooprof.errors import UsageError
    from zooprof.measure.options import ProfileOptions
    from zooprof.measure.profiling import profile as measure_profile
    from zooprof.renderers import format_by_extension
    from zooprof.renderers.measurements import render_measurements

    # every option validated once, before any model is loaded
    options = ProfileOptions.parse(
        runtime=runtime,
        batch=batch,
        input_shape=input_shape,
        target_ci=target_ci,
        threads=threads,
        max_time=max_time,
        timeout=timeout,
        memory_limit=memory_limit,
        per_layer=per_layer,
        per_stage=per_stage,
        trust=trust,
        weights=weights,
        ort_opt_level=ort_opt_level,
        device=device,
        precision=precision,
        cuda_graphs=cuda_graphs,
        cudnn_benchmark=cudnn_benchmark,
        ort_provider=ort_provider,
        dla_core=dla,
        trtexec=trtexec,
        on=on,
        ssh_config=ssh_config,
        board_python=board_python,
        use_cache=not no_cache,
        command="zooprof " + " ".join(sys.argv[1:]),
    )
    options.check_available()
    if output and len(models) > 1 and "{model}" not in output:
        raise UsageError("several models but one output file", "put {model} in the name, e.g. -o reports/{model}.json")
    if report and format_by_extension(report) != "html":
        raise UsageError(
            f"--report writes HTML, not '{Path(report).suffix or report}'", "e.g. --report reports/{model}.html"
        )
    if report and len(models) > 1 and "{model}" not in report:
        raise UsageError("several models but one report file", "put {model} in the name: --report reports/{model}.html")

    if ssh_config and not on:
        raise UsageError("--ssh-config is for --on", "add --on user@board")
    session = None
    if on and (power or sensor):
        # the board samples its own rails (INA3221); energy is computed here from its trace
        from dataclasses import replace

        from zooprof.sensors.sampling import PowerOptions, parse_duration

        if sensor not in (None, "auto", "jetson-sysfs"):
            raise UsageError(
                f"--sensor {sensor} is not available with --on", "a board is sampled through its INA3221 rails"
            )
        options = replace(options, power=PowerOptions("jetson-sysfs", sample_hz, parse_duration(idle)))
    elif power or sensor:
        from zooprof.sensors.sampling import PowerOptions, PowerSession, parse_duration

        session = PowerSession(PowerOptions(sensor or "auto", sample_hz, parse_duration(idle)))
        if session.sensor is None and sensor and sensor != "auto":
            raise UsageError(
                session.unavailable_reason or f"sensor {sensor} not available",
                "zooprof sysinfo lists the sensors found here; --sensor auto takes the best one",
            )
        if session.sensor is None:
            typer.echo(f"power: n/a: {session.unavailable_reason} - latency is still measured", err=True)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    failed = False
    try:
        for model in models:
            with Progress() as progress:
                result = analyze_or_report(
                    model, models, lambda m, progress=progress: measure_profile(m, options, progress, session)
                )
            if result is None:
                failed = True
                continue
            path = (
                Path(output.replace("{model}", safe_name(model)))
                if output
                else Path("reports") / f"{stamp}-{safe_name(model)}" / "result.json"
            )
            result.save(path)
            typer.echo(render_measurements(result, width=width or terminal_width(), wide=wide), nl=False)
            typer.echo(f"wrote {path}", err=True)
            if report:
                from zooprof.renderers.html import render_html
                from zooprof.result.document import write_atomic

                page = write_atomic(Path(report.replace("{model}", safe_name(model))), render_html(result))
                typer.echo(f"wrote {page}", err=True)
            if any(m["status"] != "ok" for m in result.measurements):
                failed = True
    finally:
        if session is not None:
            session.close()
    if failed:
        raise typer.Exit(1)

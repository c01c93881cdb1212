"""`ProfileOptions`: every measurement option in one frozen object, validated once.

The CLI (`zooprof profile`, `zooprof compare --runtime`), the Python API (`zooprof.profile`),
`zooprof compare-formats --latency` and, later, sweeps build one `ProfileOptions` from what the
user gave (`ProfileOptions.parse`, which accepts the CLI's text forms) and pass it on whole;
nothing below re-validates or re-defaults an option. Bad values are one-line UsageErrors raised
before any model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zooprof.errors import UsageError
from zooprof.sensors.sampling import PowerOptions

if TYPE_CHECKING:
    from zooprof.runtimes.devices import Device

Shape = tuple[int, ...]


def parse_batches(text: str | list[int] | tuple[int, ...] | int) -> tuple[int, ...]:
    """'1,8' (or 8, or [1, 8]) -> (1, 8); every batch a positive integer."""
    if isinstance(text, int):
        out = [text]
    elif isinstance(text, (list, tuple)):
        out = [int(b) for b in text]
    else:
        try:
            out = [int(x) for x in str(text).split(",") if x.strip()]
        except ValueError:
            out = []
    if not out or any(b < 1 for b in out):
        raise UsageError(f"malformed --batch '{text}'", "give positive integers, e.g. --batch 1,8")
    return tuple(out)


def parse_percent(text: str | float) -> float:
    """'1%' or '0.01' -> 0.01."""
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise UsageError(f"malformed percentage '{text}'", "e.g. --target-ci 1%") from None
    if not 0 < value < 1:
        raise UsageError(f"--target-ci {text} is out of range", "give a value between 0 and 100 %")
    return value


def parse_input_shapes(value: Any) -> tuple[Shape, ...] | None:
    """'1x3x224x224' (several: comma-separated), a tuple of ints, or a list of tuples -> shapes."""
    from zooprof.reference.resolve import parse_shape

    if value is None:
        return None
    if isinstance(value, str):
        return tuple(parse_shape(value))
    if isinstance(value, tuple) and all(isinstance(d, int) for d in value):
        return (value,)
    return tuple(tuple(int(d) for d in s) for s in value)


@dataclass(frozen=True)
class ProfileOptions:
    """How to measure: which runtimes and batches, how long, what else to record.

    `runtimes` empty means "the model's own runtime" (`zooprof.runtimes.default_runtime`).
    `power` None means no power sampling. `device` None means each runtime's own (CPU; the GPU
    for TensorRT) and `precision` None the model's own (zooprof.runtimes.devices). `memory_limit`
    is bytes, "none" (no limit) or None: the default, a share of the memory available when each
    worker starts (zooprof.runtimes.memory_limit); text forms ('8G', '50%') are parsed here.
    """

    runtimes: tuple[str, ...] = ()
    batches: tuple[int, ...] = (1,)
    input_shapes: tuple[Shape, ...] | None = None
    threads: int | None = None
    max_time: float = 20.0
    target_ci: float = 0.01
    timeout: float = 300.0
    memory_limit: int | str | None = None
    per_layer: bool = False
    per_stage: bool = False
    trust: bool = False
    weights: str | None = None
    ort_opt_level: str | None = None
    device: str | None = None
    precision: str | None = None
    cuda_graphs: bool = False
    cudnn_benchmark: bool = False
    ort_provider: str | None = None
    dla_core: int | None = None
    trtexec: str | None = None
    on: str | None = None
    ssh_config: str | None = None
    board_python: str | None = None
    power: PowerOptions | None = None
    use_cache: bool = True
    command: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        from zooprof import runtimes as rt

        if self.runtimes:
            object.__setattr__(self, "runtimes", tuple(rt.parse_runtimes(",".join(self.runtimes))))
        object.__setattr__(self, "batches", parse_batches(self.batches))
        if self.threads is not None and self.threads < 1:
            raise UsageError(f"--threads {self.threads} is out of range", "give 1 or more")
        for name, low in (("max_time", 0.1), ("timeout", 1.0)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < low:
                flag = "--" + name.replace("_", "-")
                raise UsageError(f"{flag} {value} is out of range", f"give {low:g} seconds or more")
        from zooprof.runtimes.memory_limit import parse_memory_limit

        object.__setattr__(self, "memory_limit", parse_memory_limit(self.memory_limit))
        if self.on is not None and self.memory_limit is not None:
            raise UsageError(
                "--memory-limit is not applied with --on", "the board's agent runs its workers; drop --memory-limit"
            )
        if not 0 < self.target_ci < 1:
            raise UsageError(f"--target-ci {self.target_ci} is out of range", "give a value between 0 and 100 %")
        self._check_device_options()
        if self.on is not None:
            from zooprof.remote.ssh import parse_target

            parse_target(self.on)

    def _check_device_options(self) -> None:
        from zooprof.runtimes import devices

        device = devices.parse_device(self.device)
        object.__setattr__(self, "device", None if device is None else str(device))
        object.__setattr__(self, "precision", devices.parse_precision(self.precision))
        if self.ort_provider is not None:
            provider = str(self.ort_provider).strip().lower()
            if provider not in devices.ORT_PROVIDERS:
                raise UsageError(
                    f"unknown --ort-provider '{self.ort_provider}'", f"choose from: {', '.join(devices.ORT_PROVIDERS)}"
                )
            object.__setattr__(self, "ort_provider", provider)
            if provider != "cpu" and device is None:  # a GPU provider implies the GPU
                object.__setattr__(self, "device", "cuda:0")
        if self.dla_core is not None and (not isinstance(self.dla_core, int) or self.dla_core < 0):
            raise UsageError(f"--dla {self.dla_core} is out of range", "give a DLA core index: 0 or 1")
        if self.cuda_graphs and (device is None or device.kind != "cuda") and "tensorrt" not in self.runtimes:
            raise UsageError("--cuda-graphs needs the GPU", "add --device cuda")

    def device_for(self, runtime: str) -> Device:
        """The device `runtime` measures on: --device, or the runtime's own default."""
        from zooprof.runtimes import devices

        return devices.parse_device(self.device) or devices.default_device(runtime)

    @classmethod
    def parse(
        cls,
        runtime: str | list[str] | tuple[str, ...] | None = None,
        batch: Any = 1,
        input_shape: Any = None,
        target_ci: str | float = 0.01,
        power: bool | PowerOptions | None = None,
        **options: Any,
    ) -> ProfileOptions:
        """From the forms a user gives (CLI text or Python values): runtime "torch,onnxruntime",
        batch "1,8", input_shape "1x3x224x224", target_ci "1%", power True for the defaults."""
        if isinstance(runtime, str):
            runtime = (runtime,) if runtime.strip() else ()
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"unknown profile option(s): {', '.join(unknown)}", f"options: {', '.join(sorted(known))}")
        return cls(
            runtimes=tuple(runtime or ()),
            batches=parse_batches(batch),
            input_shapes=parse_input_shapes(input_shape),
            target_ci=parse_percent(target_ci),
            power=PowerOptions() if power is True else (power or None),
            **options,
        )

    def check_available(self) -> None:
        """Fail before any work if a named runtime's package is missing, or the device asked of it
        is not here (`--device cuda` without a CUDA GPU, TensorRT without trtexec)."""
        from zooprof import runtimes as rt

        if self.on:  # the board has its own runtimes and devices: the agent says what it lacks, per row
            return
        for name in self.runtimes:
            rt.check_available(name)
            self.check_device(name)

    def check_device(self, runtime: str) -> None:
        """A UsageError naming what this machine lacks to run `runtime` where it was asked to.
        A combination no machine can run (TFLite on CUDA) is not an error here: that row says why."""
        from zooprof.runtimes import devices

        device = self.device_for(runtime)
        if devices.unsupported(runtime, device, self.precision, self.ort_provider):
            return
        missing = devices.device_missing(runtime, device, self.ort_provider, self.trtexec)
        if missing:
            if runtime == "tensorrt":
                raise UsageError(f"--runtime tensorrt: {missing}", "zooprof sysinfo shows what TensorRT is found here")
            raise UsageError(
                f"--device {device}: {missing}",
                "zooprof sysinfo shows the GPUs and CUDA found here; --device cpu measures on the CPU",
            )

    def record(self) -> dict[str, Any]:
        """What a result's environment records of the options (`environment.profile_options`)."""
        return {
            "max_time": self.max_time,
            "target_ci": self.target_ci,
            "timeout": self.timeout,
            "memory_limit": self.memory_limit,
            "per_layer": self.per_layer,
            "per_stage": self.per_stage,
            "ort_opt_level": self.ort_opt_level,
            "device": self.device,
            "precision": self.precision,
            "cuda_graphs": self.cuda_graphs,
            "cudnn_benchmark": self.cudnn_benchmark,
            "ort_provider": self.ort_provider,
            "dla_core": self.dla_core,
            "on": self.on,
        }

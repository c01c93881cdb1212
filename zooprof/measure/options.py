"""`ProfileOptions`: every measurement option in one frozen object, validated once.

The CLI (`zooprof profile`, `zooprof compare --runtime`), the Python API (`zooprof.profile`),
`zooprof compare-formats --latency` and, later, sweeps build one `ProfileOptions` from what the
user gave (`ProfileOptions.parse`, which accepts the CLI's text forms) and pass it on whole;
nothing below re-validates or re-defaults an option. Bad values are one-line UsageErrors raised
before any model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zooprof.errors import UsageError
from zooprof.sensors.sampling import PowerOptions

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
    `power` None means no power sampling.
    """

    runtimes: tuple[str, ...] = ()
    batches: tuple[int, ...] = (1,)
    input_shapes: tuple[Shape, ...] | None = None
    threads: int | None = None
    max_time: float = 20.0
    target_ci: float = 0.01
    timeout: float = 300.0
    per_layer: bool = False
    per_stage: bool = False
    trust: bool = False
    weights: str | None = None
    ort_opt_level: str | None = None
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
        if not 0 < self.target_ci < 1:
            raise UsageError(f"--target-ci {self.target_ci} is out of range", "give a value between 0 and 100 %")

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
        """Fail before any work if a named runtime's package is missing."""
        from zooprof import runtimes as rt

        for name in self.runtimes:
            rt.check_available(name)

    def record(self) -> dict[str, Any]:
        """What a result's environment records of the options (`environment.profile_options`)."""
        return {
            "max_time": self.max_time,
            "target_ci": self.target_ci,
            "timeout": self.timeout,
            "per_layer": self.per_layer,
            "per_stage": self.per_stage,
            "ort_opt_level": self.ort_opt_level,
        }

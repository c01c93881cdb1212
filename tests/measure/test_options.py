"""ProfileOptions: every measurement option validated once, in one frozen object; one default runtime."""

from __future__ import annotations

import dataclasses

import pytest

from zooprof.errors import UsageError
from zooprof.measure.options import ProfileOptions
from zooprof.runtimes import default_runtime


def test_parse_takes_the_cli_text_forms() -> None:
    o = ProfileOptions.parse(runtime="torch,ort", batch="1,8", input_shape="1x3x32x32", target_ci="2%")
    assert o.runtimes == ("torch", "onnxruntime") and o.batches == (1, 8)
    assert o.input_shapes == ((1, 3, 32, 32),) and o.target_ci == 0.02
    assert o.power is None


def test_parse_takes_python_values() -> None:
    o = ProfileOptions.parse(runtime=["tflite"], batch=[2], input_shape=(1, 10), target_ci=0.05, power=True)
    assert o.runtimes == ("tflite",) and o.batches == (2,) and o.input_shapes == ((1, 10),)
    assert o.power is not None and o.power.sensor == "auto"


def test_defaults_mean_the_models_own_runtime() -> None:
    o = ProfileOptions()
    assert o.runtimes == () and o.batches == (1,) and o.max_time == 20.0 and o.target_ci == 0.01


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch": "0"}, "malformed --batch"),
        ({"batch": "1,x"}, "malformed --batch"),
        ({"target_ci": "150%"}, "--target-ci 150% is out of range"),
        ({"runtime": "tensorrt-9"}, "unknown runtime 'tensorrt-9'"),
        ({"max_time": 0.0}, "--max-time 0.0 is out of range"),
        ({"timeout": 0.5}, "--timeout 0.5 is out of range"),
        ({"threads": 0}, "--threads 0 is out of range"),
        ({"input_shape": "1x3xfoo"}, "malformed --input-shape"),
        ({"colour": "red"}, "unknown profile option(s): colour"),
    ],
)
def test_bad_values_are_one_line_usage_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as exc:
        ProfileOptions.parse(**kwargs)  # type: ignore[arg-type]
    assert message in exc.value.message


def test_options_are_frozen() -> None:
    o = ProfileOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.max_time = 1.0  # type: ignore[misc]


def test_constructing_directly_validates_too() -> None:
    with pytest.raises(UsageError):
        ProfileOptions(batches=(0,))
    assert ProfileOptions(runtimes=("pytorch",)).runtimes == ("torch",)  # aliases normalised


def test_the_one_default_runtime_rule() -> None:
    assert [default_runtime(f) for f in ("torch", "pytorch", "onnx", "tflite", "keras")] == [
        "torch",
        "torch",
        "onnxruntime",
        "tflite",
        "tensorflow",
    ]
    assert default_runtime("tfjs") is None and default_runtime("teachable") is None

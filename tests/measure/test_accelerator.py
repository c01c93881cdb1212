"""The accelerator record: NVIDIA GPUs through a fake pynvml, the CUDA toolkit, cuDNN, TensorRT and
trtexec from fake trees laid out like real installs, a Jetson GPU's devfreq node; n/a with a reason
for each part that is missing, never a crash.

The fake files and where they come from: tests/measure/gpu_fakes.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.measure.gpu_fakes import (
    CUDNN_VERSION_H,
    NVINFER_8_2,
    NVINFER_10_14,
    fake_pynvml,
    full_tree,
    orin_devfreq,
    write,
)
from zooprof.measure import accelerator as acc
from zooprof.measure import environment as env


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither cuDNN nor TensorRT installed by pip, whatever this interpreter has; no trtexec on PATH."""
    monkeypatch.setattr(acc, "distribution_version", lambda name: None)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    monkeypatch.delenv("ZOOPROF_TRTEXEC", raising=False)


# ---------------------------------------------------------------- NVML


def test_two_gpus_one_without_clocks(monkeypatch: pytest.MonkeyPatch) -> None:
    state = fake_pynvml(monkeypatch)
    out = acc.nvidia_gpus()
    assert out["gpus_reason"] is None
    assert out["driver_version"] == "570.86.15"
    assert out["cuda_driver_version"] == "12.8"  # 12080: 12080 // 1000 = 12, 80 // 10 = 8
    h200, a10g = out["gpus"]
    assert h200 == {
        "index": 0,
        "name": "NVIDIA H200",
        "compute_capability": "9.0",
        "memory_total_bytes": 150_754_820_096,
        "sm_clock_mhz": 1980,
        "sm_clock_max_mhz": 1980,
        "memory_clock_mhz": 3201,
        "memory_clock_max_mhz": 3201,
        "power_limit_w": 700.0,  # 700000 mW
        "power_limit_default_w": 700.0,
        "reason": None,
    }
    assert a10g["name"] == "NVIDIA A10G" and a10g["compute_capability"] == "8.6"
    assert a10g["memory_total_bytes"] == 24_146_608_128
    # NotSupported clocks are None, not 0, and the GPU is still listed with its other fields
    assert [a10g[k] for k in ("sm_clock_mhz", "sm_clock_max_mhz", "memory_clock_mhz", "memory_clock_max_mhz")] == [
        None
    ] * 4
    assert (a10g["power_limit_w"], a10g["power_limit_default_w"]) == (150.0, 300.0)
    assert state.inits == 1 and state.shutdowns == 1


def test_old_pynvml_bytes_and_no_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pynvml(monkeypatch, v2=False, bytes_names=True)
    out = acc.nvidia_gpus()
    assert out["driver_version"] == "570.86.15" and out["gpus"][0]["name"] == "NVIDIA H200"
    assert out["cuda_driver_version"] == "12.8"  # from nvmlSystemGetCudaDriverVersion


def test_a_function_missing_from_pynvml_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pynvml(monkeypatch)
    del sys.modules["pynvml"].nvmlDeviceGetPowerManagementDefaultLimit  # an old nvidia-ml-py
    gpu = acc.nvidia_gpus()["gpus"][0]
    assert gpu["power_limit_default_w"] is None and gpu["power_limit_w"] == 700.0


def test_one_gpu_unreadable_the_other_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pynvml(monkeypatch, lost=1)
    h200, a10g = acc.nvidia_gpus()["gpus"]
    assert h200["name"] == "NVIDIA H200" and h200["reason"] is None
    assert a10g["name"] is None and a10g["reason"] == "NVML: no permission to read the GPU"


def test_no_nvml_no_driver_no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    out = acc.nvidia_gpus()  # the default fixture blocks pynvml
    assert out["gpus"] == [] and out["gpus_reason"] == "nvidia-ml-py not installed (pip install zooprof[nvidia])"
    fake_pynvml(monkeypatch, init_error=12)
    out = acc.nvidia_gpus()
    assert out["gpus"] == [] and out["gpus_reason"] == "NVML: libnvidia-ml.so not found (no NVIDIA driver)"
    state = fake_pynvml(monkeypatch, count=0)
    out = acc.nvidia_gpus()
    assert out["gpus"] == [] and out["gpus_reason"] == "NVML: no NVIDIA GPU" and out["driver_version"] == "570.86.15"
    assert state.shutdowns == 1


# ---------------------------------------------------------------- toolkit, cuDNN, TensorRT, trtexec


def test_full_tree(tmp_path: Path, no_pip: None) -> None:
    root = full_tree(tmp_path)
    assert acc.cuda_toolkit(root) == {"version": "12.8.2", "source": "/usr/local/cuda/version.json", "reason": None}
    assert acc.cudnn(root) == {
        "version": "9.6.0",
        "source": "/usr/include/x86_64-linux-gnu/cudnn_version.h",
        "reason": None,
    }
    assert acc.tensorrt(root) == {
        "version": "10.14.1",
        "source": "/usr/include/x86_64-linux-gnu/NvInferVersion.h",
        "reason": None,
    }
    assert acc.trtexec(root) == {"path": "/usr/src/tensorrt/bin/trtexec", "reason": None}


def test_trtexec_is_the_one_profile_would_run(tmp_path: Path, no_pip: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """sysinfo names the trtexec that `--runtime tensorrt` runs: $ZOOPROF_TRTEXEC first, then PATH,
    then the TensorRT folders (runtimes.devices.find_trtexec, one lookup for both)."""
    from zooprof.runtimes.devices import find_trtexec

    root = full_tree(tmp_path / "root")
    mine = write(tmp_path, "opt/mine/trtexec", "#!/bin/sh\n")
    monkeypatch.setenv("ZOOPROF_TRTEXEC", str(mine))
    assert acc.trtexec(root) == {"path": str(mine), "reason": None} and find_trtexec(root=root) == mine
    monkeypatch.setenv("ZOOPROF_TRTEXEC", str(tmp_path / "gone"))
    assert acc.trtexec(root) == {"path": None, "reason": f"trtexec not found at {tmp_path / 'gone'}"}
    monkeypatch.delenv("ZOOPROF_TRTEXEC")
    on_path = write(tmp_path, "bin/trtexec", "#!/bin/sh\n")
    on_path.chmod(0o755)
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert acc.trtexec(root)["path"] == str(on_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert acc.trtexec(root)["path"] == "/usr/src/tensorrt/bin/trtexec"


def test_older_layouts(tmp_path: Path, no_pip: None) -> None:
    """CUDA 10.x version.txt, cuDNN 7 (version in cudnn.h), TensorRT 8 numeric defines in
    /usr/local/cuda/include; and cuda.h alone gives major.minor."""
    write(tmp_path, "usr/local/cuda/version.txt", "CUDA Version 10.2.89")
    write(
        tmp_path,
        "usr/local/cuda/include/cudnn.h",
        "#define CUDNN_MAJOR 7\n#define CUDNN_MINOR 5\n#define CUDNN_PATCHLEVEL 1\n",
    )
    write(tmp_path, "usr/local/cuda/include/NvInferVersion.h", NVINFER_8_2)
    assert acc.cuda_toolkit(tmp_path)["version"] == "10.2.89"
    assert acc.cudnn(tmp_path)["version"] == "7.5.1"
    assert acc.tensorrt(tmp_path)["version"] == "8.2.3"
    (tmp_path / "usr/local/cuda/version.txt").unlink()
    write(tmp_path, "usr/local/cuda/include/cuda.h", "#define CUDA_VERSION 13000\n")
    assert acc.cuda_toolkit(tmp_path) == {"version": "13.0", "source": "/usr/local/cuda/include/cuda.h", "reason": None}


def test_usr_include_comes_first(tmp_path: Path, no_pip: None) -> None:
    write(tmp_path, "usr/include/NvInferVersion.h", NVINFER_10_14)
    write(tmp_path, "usr/local/cuda/include/NvInferVersion.h", NVINFER_8_2)
    assert acc.tensorrt(tmp_path)["source"] == "/usr/include/NvInferVersion.h"


def test_pip_wheels_when_no_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheels = {"nvidia-cudnn-cu12": "9.1.0.70", "tensorrt-cu12": "10.3.0"}
    monkeypatch.setattr(acc, "distribution_version", wheels.get)
    assert acc.cudnn(tmp_path) == {
        "version": "9.1.0.70",
        "source": "pip distribution nvidia-cudnn-cu12",
        "reason": None,
    }
    assert acc.tensorrt(tmp_path)["version"] == "10.3.0"
    write(tmp_path, "usr/include/cudnn_version.h", CUDNN_VERSION_H)  # a header wins over the wheel
    assert acc.cudnn(tmp_path)["version"] == "9.6.0"


def test_distribution_version_reads_metadata() -> None:
    assert acc.distribution_version("pytest") == pytest.__version__
    assert acc.distribution_version("no-such-distribution-zooprof") is None


def test_broken_files_are_na_not_a_crash(tmp_path: Path, no_pip: None) -> None:
    write(tmp_path, "usr/local/cuda/version.json", "{not json")
    write(tmp_path, "usr/include/cudnn_version.h", "#define CUDNN_MAJOR 9\n")  # no minor, no patch level
    write(tmp_path, "usr/include/NvInferVersion.h", "#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE\n")
    cuda = acc.cuda_toolkit(tmp_path)
    assert (
        cuda["version"] is None
        and cuda["reason"] == "no version.json, version.txt or include/cuda.h version in /usr/local/cuda"
    )
    assert acc.cudnn(tmp_path)["version"] is None and acc.tensorrt(tmp_path)["version"] is None


def test_header_defines_resolve_enterprise_aliases() -> None:
    defines = acc.header_defines(NVINFER_10_14)
    assert defines["NV_TENSORRT_MAJOR"] == "10" and defines["NV_TENSORRT_BUILD"] == "48"
    assert acc.cuda_version_text(11040) == "11.4" and acc.cuda_version_text(0) is None


# ---------------------------------------------------------------- Jetson devfreq


@pytest.mark.parametrize(
    ("node", "top", "mhz"),
    [
        ("17000000.ga10b", 1300500000, 1300.5),
        ("17000000.gv11b", 1377000000, 1377.0),
        ("57000000.gpu", 921600000, 921.6),
    ],
)
def test_jetson_gpu_devfreq(tmp_path: Path, node: str, top: int, mhz: float) -> None:
    orin_devfreq(tmp_path, node)
    write(tmp_path, f"sys/class/devfreq/{node}/max_freq", top)
    write(tmp_path, "sys/class/devfreq/3d00000.nvdla0/max_freq", 1600000000)  # not the GPU
    assert acc.jetson_gpu(tmp_path) == {
        "node": node,
        "cur_mhz": 306.0,
        "min_mhz": 306.0,
        "max_mhz": mhz,
        "governor": "nvhost_podgov",
        "reason": None,
    }


def test_jetson_gpu_missing_files(tmp_path: Path) -> None:
    write(tmp_path, "sys/class/devfreq/17000000.ga10b/max_freq", "garbage")
    j = acc.jetson_gpu(tmp_path)
    assert j["node"] == "17000000.ga10b" and j["max_mhz"] is None and j["governor"] is None


# ---------------------------------------------------------------- the whole record


def test_the_empty_machine_says_why_for_each_part(tmp_path: Path, no_pip: None) -> None:
    record = acc.accelerator(tmp_path)
    assert record["gpus"] == [] and record["gpus_reason"] == "nvidia-ml-py not installed (pip install zooprof[nvidia])"
    assert record["cuda_toolkit"]["reason"] == "no /usr/local/cuda: CUDA toolkit not installed"
    assert record["cudnn"]["reason"].startswith("no cudnn_version.h in /usr/include, /usr/include/*-linux-gnu")
    assert record["cudnn"]["reason"].endswith("; no nvidia-cudnn-cu* pip distribution")
    assert record["tensorrt"]["reason"].endswith("; no tensorrt pip distribution")
    assert record["trtexec"]["path"] is None
    assert record["trtexec"]["reason"].startswith(
        "trtexec not found (looked on PATH and in /usr/src/tensorrt/bin/trtexec, /usr/local/tensorrt/bin/trtexec)"
    )
    assert record["jetson_gpu"]["reason"] == "no GPU node in /sys/class/devfreq: not a Jetson"
    assert all(record[k]["version"] is None for k in ("cuda_toolkit", "cudnn", "tensorrt"))


@pytest.fixture
def fresh_environment() -> Iterator[None]:
    env._accelerator_once.cache_clear()
    yield
    env._accelerator_once.cache_clear()


def test_environment_carries_the_record_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_pip: None, fresh_environment: None
) -> None:
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(full_tree(tmp_path)))
    state = fake_pynvml(monkeypatch)
    first = env.environment()["accelerator"]
    second = env.environment()["accelerator"]
    assert state.inits == 1  # NVML read once per process
    assert first == second == acc.accelerator(tmp_path)
    assert first["gpus"][0]["name"] == "NVIDIA H200" and first["tensorrt"]["version"] == "10.14.1"
    first["gpus"].clear()  # a caller changing its copy does not change the next record
    assert env.environment()["accelerator"]["gpus"]

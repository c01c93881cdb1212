"""Fake GPU hosts for tests (tests/measure/test_accelerator.py, tests/cli/test_sysinfo.py): a fake
`pynvml`, and files laid out like real CUDA, cuDNN, TensorRT and Jetson devfreq installs.

Where the fake files come from (the version lines are copied verbatim; the rest is cut):
- CUDA version.json: sdwivan/streamco cuda/version.json (commit 45232c18ad57304effdf06ad0680575397ec1f7e),
  the file a CUDA 12.8 Update 1 install writes (first entries; the "cuda" entry is the toolkit).
- CUDA version.txt: "CUDA Version 10.2.89", the one line of /usr/local/cuda/version.txt on JetPack 4
  and CUDA 10.x installs (quoted in many READMEs; CUDA 11.1 replaced it by version.json).
- cuda.h: `#define CUDA_VERSION 13000`, line 263 of the nvidia-cuda-runtime 13.0.96 wheel's include/cuda.h.
- cudnn_version.h: zspace/system.cuda-12.6 include/cudnn_version.h (commit
  b3d92c837713411301ae5df45b0c7758df7d931e), cuDNN 9.6.0 (NVIDIA licence: the define block only).
- NvInferVersion.h, TensorRT 10.14.1 (TRT_*_ENTERPRISE aliases, TensorRT 10.10 and later): NVIDIA/TensorRT
  include/NvInferVersion.h at commit 3b4ddc1d45f11167f2ea53dc6046bba8df800e2d ("TensorRT Release 10.14").
- NvInferVersion.h, TensorRT 8.2.3 (numeric defines): NVIDIA/TensorRT include/NvInferVersion.h at commit
  04454a5a728ebad001f9454a3e58ea0601dac961.
- devfreq: /sys/class/devfreq/17000000.ga10b (Orin; cur_freq, min_freq, max_freq in Hz, governor
  nvhost_podgov; 1300500000 Hz is the Orin AGX top GPU clock, as jetson_clocks sets it).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests.sensors.fake_boards import write

VERSION_JSON = """{
   "cuda" : {
      "name" : "CUDA SDK",
      "version" : "12.8.2"
   },
   "cuda_cccl" : {
      "name" : "CUDA C++ Core Compute Libraries",
      "version" : "12.8.90"
   },
   "cuda_cudart" : {
      "name" : "CUDA Runtime (cudart)",
      "version" : "12.8.90"
   }
}
"""

CUDNN_VERSION_H = """/**
 * \\file: The master cuDNN version file.
 */

#ifndef CUDNN_VERSION_H_
#define CUDNN_VERSION_H_

#define CUDNN_MAJOR 9
#define CUDNN_MINOR 6
#define CUDNN_PATCHLEVEL 0

#define CUDNN_VERSION (CUDNN_MAJOR * 10000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL)

/* cannot use constexpr here since this is a C-only file */
/* Below is the max SM version this cuDNN library is aware of and supports natively */

#define CUDNN_MAX_SM_MAJOR_NUMBER 9
#define CUDNN_MAX_SM_MINOR_NUMBER 0
#define CUDNN_MAX_DEVICE_VERSION (CUDNN_MAX_SM_MAJOR_NUMBER * 100 + CUDNN_MAX_SM_MINOR_NUMBER * 10)

#endif /* CUDNN_VERSION_H */
"""

NVINFER_10_14 = """//!
//! \\file NvInferVersion.h
//!
//! Defines the TensorRT version
//!
#ifndef NV_INFER_VERSION_H
#define NV_INFER_VERSION_H

#define TRT_MAJOR_ENTERPRISE 10
#define TRT_MINOR_ENTERPRISE 14
#define TRT_PATCH_ENTERPRISE 1
#define TRT_BUILD_ENTERPRISE 48
#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE //!< TensorRT major version.
#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE //!< TensorRT minor version.
#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE //!< TensorRT patch version.
#define NV_TENSORRT_BUILD TRT_BUILD_ENTERPRISE //!< TensorRT build number.

#define NV_TENSORRT_LWS_MAJOR 0 //!< TensorRT LWS major version.
#define NV_TENSORRT_LWS_MINOR 0 //!< TensorRT LWS minor version.
#define NV_TENSORRT_LWS_PATCH 0 //!< TensorRT LWS patch version.

#define NV_TENSORRT_RELEASE_TYPE_EARLY_ACCESS 0         //!< An early access release
#define NV_TENSORRT_RELEASE_TYPE_RELEASE_CANDIDATE 1    //!< A release candidate
#define NV_TENSORRT_RELEASE_TYPE_GENERAL_AVAILABILITY 2 //!< A final release

#define NV_TENSORRT_RELEASE_TYPE NV_TENSORRT_RELEASE_TYPE_GENERAL_AVAILABILITY //!< TensorRT release type

#endif // NV_INFER_VERSION_H
"""

NVINFER_8_2 = """#ifndef NV_INFER_VERSION_H
#define NV_INFER_VERSION_H

#define NV_TENSORRT_MAJOR 8 //!< TensorRT major version.
#define NV_TENSORRT_MINOR 2 //!< TensorRT minor version.
#define NV_TENSORRT_PATCH 3 //!< TensorRT patch version.
#define NV_TENSORRT_BUILD 0 //!< TensorRT build number.

#define NV_TENSORRT_SONAME_MAJOR 8 //!< Shared object library major version number.
#define NV_TENSORRT_SONAME_MINOR 2 //!< Shared object library minor version number.
#define NV_TENSORRT_SONAME_PATCH 3 //!< Shared object library patch version number.

#endif // NV_INFER_VERSION_H
"""

# H200 as nvidia-smi shows it: 143771 MiB = 150,754,820,096 bytes; A10G: 23028 MiB = 24,146,608,128 bytes
H200_BYTES = 143771 * 2**20
A10G_BYTES = 23028 * 2**20


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        names = {3: "Not Supported", 4: "Insufficient Permissions", 12: "NVML Shared Library Not Found"}
        return names.get(self.value, f"error {self.value}")


def fake_pynvml(
    monkeypatch: pytest.MonkeyPatch,
    *,
    init_error: int | None = None,
    count: int = 2,
    v2: bool = True,
    bytes_names: bool = False,
    lost: int | None = None,
) -> types.SimpleNamespace:
    """Two GPUs: 0 an H200 with every reading; 1 an A10G whose clocks raise NotSupported, with a
    power limit below its default. `lost`: that GPU's handle fails (no permission)."""
    state = types.SimpleNamespace(inits=0, shutdowns=0)
    gpus: list[dict[str, Any]] = [
        {
            "name": "NVIDIA H200",
            "cc": (9, 0),
            "total": H200_BYTES,
            "clock": {1: 1980, 2: 3201},
            "max": {1: 1980, 2: 3201},
            "limit": 700_000,
            "default": 700_000,
        },
        {"name": "NVIDIA A10G", "cc": (8, 6), "total": A10G_BYTES, "limit": 150_000, "default": 300_000},
    ]

    def init() -> None:
        if init_error is not None:
            raise NVMLError(init_error)
        state.inits += 1

    def handle(i: int) -> dict[str, Any]:
        if i == lost:
            raise NVMLError(4)
        return gpus[i]

    def clock(table: str) -> Any:
        def read(h: dict[str, Any], kind: int) -> int:
            if table not in h:
                raise NVMLError(3)
            return h[table][kind]

        return read

    m = types.ModuleType("pynvml")
    m.__dict__.update(
        NVMLError=NVMLError,
        NVML_ERROR_LIBRARY_NOT_FOUND=12,
        NVML_ERROR_DRIVER_NOT_LOADED=9,
        NVML_ERROR_NO_PERMISSION=4,
        NVML_ERROR_NOT_SUPPORTED=3,
        NVML_CLOCK_SM=1,
        NVML_CLOCK_MEM=2,
        nvmlInit=init,
        nvmlShutdown=lambda: setattr(state, "shutdowns", state.shutdowns + 1),
        nvmlSystemGetDriverVersion=lambda: b"570.86.15" if bytes_names else "570.86.15",
        nvmlSystemGetCudaDriverVersion=lambda: 12080,
        nvmlDeviceGetCount=lambda: count,
        nvmlDeviceGetHandleByIndex=handle,
        nvmlDeviceGetName=lambda h: h["name"].encode() if bytes_names else h["name"],
        nvmlDeviceGetCudaComputeCapability=lambda h: h["cc"],
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(total=h["total"], used=0, free=h["total"]),
        nvmlDeviceGetClockInfo=clock("clock"),
        nvmlDeviceGetMaxClockInfo=clock("max"),
        nvmlDeviceGetEnforcedPowerLimit=lambda h: h["limit"],
        nvmlDeviceGetPowerManagementDefaultLimit=lambda h: h["default"],
    )
    if v2:
        m.nvmlSystemGetCudaDriverVersion_v2 = lambda: 12080
    monkeypatch.setitem(sys.modules, "pynvml", m)
    return state


def full_tree(root: Path) -> Path:
    """A GPU host: CUDA 12.8.2, cuDNN 9.6.0 and TensorRT 10.14.1 from apt (multiarch include folder)."""
    write(root, "usr/local/cuda/version.json", VERSION_JSON)
    write(root, "usr/include/x86_64-linux-gnu/cudnn_version.h", CUDNN_VERSION_H)
    write(root, "usr/include/x86_64-linux-gnu/NvInferVersion.h", NVINFER_10_14)
    trtexec = write(root, "usr/src/tensorrt/bin/trtexec", "#!/bin/sh\n")
    trtexec.chmod(0o755)
    return root


def orin_devfreq(root: Path, name: str = "17000000.ga10b") -> None:
    node = f"sys/class/devfreq/{name}"
    write(root, f"{node}/cur_freq", 306000000)
    write(root, f"{node}/min_freq", 306000000)
    write(root, f"{node}/max_freq", 1300500000)
    write(root, f"{node}/governor", "nvhost_podgov")

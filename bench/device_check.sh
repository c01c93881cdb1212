#!/usr/bin/env bash
# The GPU checks of issue 13 as one prepared script, for one call of a lent CUDA machine:
#
#   bench/device_check.sh            # from the repository root; logs and docs/benchmarks.md in $OUT
#
# It needs a python3 with torch (CUDA build), torchvision, typer, rich, jinja2, psutil, pytest and
# nvidia-ml-py, and nothing from the network: zooprof runs from this checkout (PYTHONPATH), orjson
# and TensorFlow are optional. Steps, each with its own time limit so one hang cannot eat the lease:
#   1. the machine: nvidia-smi, torch/CUDA versions (env.txt)
#   2. bench/bench_gpu.py: zooprof's median vs a hand-written CUDA-event loop, eager and CUDA graph,
#      batch 1 and 8, fp16, peak memory, harness overhead, NVML power both ways
#      (bench_gpu.log; docs/benchmarks.md rewritten between its markers)
#   3. pytest -m gpu: `zooprof profile --device cuda` end to end (pytest_gpu.log)
#   4. the hermetic tests of sensors and devices on a host that has a GPU (pytest_hermetic.log)
# Exit status: non-zero when any step failed; every log is written either way.
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/zooprof-device-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=${PYTHON:-python3}
status=0

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit,clocks.max.sm --format=csv 2>&1
  "$PY" - <<'EOF'
import sys, torch
print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda,
      "available", torch.cuda.is_available(), "cudnn", torch.backends.cudnn.version())
try:
    import onnxruntime
    print("onnxruntime", onnxruntime.__version__, onnxruntime.get_available_providers())
except ImportError as exc:
    print("onnxruntime: not installed", exc)
EOF
  timeout 120 "$PY" -m zooprof sysinfo 2>&1
} 2>&1 | tee "$OUT/env.txt"

timeout 420 "$PY" bench/bench_gpu.py --markdown docs/benchmarks.md 2>&1 | tee "$OUT/bench_gpu.log" || status=1
cp docs/benchmarks.md "$OUT/benchmarks.md"

timeout 240 "$PY" -m pytest -q -p no:cacheprovider -m gpu tests/runtimes/test_gpu.py 2>&1 \
  | tee "$OUT/pytest_gpu.log" || status=1

timeout 180 "$PY" -m pytest -q -p no:cacheprovider -m "not slow" tests/sensors tests/runtimes/test_devices.py \
  tests/runtimes/test_cuda_timing.py tests/runtimes/test_ort_providers.py 2>&1 \
  | tee "$OUT/pytest_hermetic.log" || status=1

echo "device_check: exit $status (logs in $OUT)"
exit $status

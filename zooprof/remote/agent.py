#!/usr/bin/env python3
"""zooprof's board agent: runs one measurement on a Jetson (or any Linux board) for a host.

Standard library only, Python 3.6 (JetPack 4.6) to 3.13. The host (zooprof.remote) copies this
file and the zooprof modules it shares (zooprof.remote.BOARD_MODULES: the timing harness and its
statistics, the INA3221 rail discovery, the Jetson identity readers) into one folder on the board,
then runs `python3 agent.py run` with a job as JSON on stdin, or `python3 agent.py check`.

Output on stdout, one JSON object per line, flushed: {"progress": {...}} while it works, then
one {"result": {...}}. The host does the rest (energy from the raw power trace, the result
document), so the agent stays small. Runtimes: onnxruntime, tflite (tflite_runtime, ai-edge-litert
or tensorflow.lite) and tensorrt (trtexec's raw output and exports, parsed by the host).
"""

import time

STARTED = time.perf_counter()  # the agent's own time starts here: interpreter start-up is overhead

import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from zooprof.measure.timing import measure  # noqa: E402
from zooprof.sensors.board_power import board_state, power_sampler  # noqa: E402
from zooprof.sensors.board_record import board  # noqa: E402
from zooprof.sensors.ina3221 import find_rails  # noqa: E402
from zooprof.sensors.proc_status import status_bytes  # noqa: E402

AGENT_VERSION = 1
TRTEXEC_PLACES = ("/usr/src/tensorrt/bin/trtexec", "/usr/local/tensorrt/bin/trtexec")
WARMUP_MS = 500


def emit(kind, payload):
    if kind == "result":
        payload["agent_seconds"] = round(time.perf_counter() - STARTED, 4)
    sys.stdout.write(json.dumps({kind: payload}) + "\n")
    sys.stdout.flush()


def progress(**info):
    emit("progress", info)


def first_line(text):
    lines = [x for x in str(text).strip().splitlines() if x.strip()]
    return lines[0] if lines else ""


class Failure(Exception):
    """A measurement that cannot be made here; the message is the row's reason."""


# ---------------------------------------------------------------------------------- runtimes


def numpy_inputs(metas, shapes):
    import numpy as np

    rng = np.random.RandomState(0)
    feeds = {}
    for meta, shape in zip(metas, shapes):
        kind = getattr(meta, "type", "tensor(float)")
        dtype = {"tensor(float16)": np.float16, "tensor(int64)": np.int64, "tensor(int32)": np.int32}.get(
            kind, np.float32
        )
        feeds[meta.name] = (
            rng.random_sample(tuple(shape)).astype(dtype)
            if dtype in (np.float32, np.float16)
            else np.zeros(shape, dtype)
        )
    return feeds


def onnxruntime_session(job):
    try:
        import onnxruntime as ort
    except ImportError:
        raise Failure(
            "onnxruntime is not installed on the board (JetPack: the onnxruntime-gpu wheel for its Python)"
        ) from None
    device = job.get("device") or "cpu"
    provider = job.get("ort_provider") or ("cpu" if device == "cpu" else "cuda")
    wanted = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider", "tensorrt": "TensorrtExecutionProvider"}[
        provider
    ]
    if wanted not in ort.get_available_providers():
        raise Failure(
            "onnxruntime {} on the board has no {} (it has {})".format(
                ort.__version__, wanted, ", ".join(ort.get_available_providers())
            )
        )
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if job.get("threads"):
        so.intra_op_num_threads = int(job["threads"])
        so.inter_op_num_threads = 1
    providers = [wanted] + (["CPUExecutionProvider"] if wanted != "CPUExecutionProvider" else [])
    sess = ort.InferenceSession(job["model"], so, providers=providers)
    feeds = numpy_inputs(sess.get_inputs(), job["input_shapes"])
    info = {
        "engine": "onnxruntime",
        "version": ort.__version__,
        "device": device,
        "provider": wanted,
        "providers": sess.get_providers(),
        "threads": job.get("threads"),
    }
    return (lambda: sess.run(None, feeds)), info


def tflite_session(job):
    interpreter_cls, name = None, None
    for module, label in (
        ("tflite_runtime.interpreter", "tflite_runtime"),
        ("ai_edge_litert.interpreter", "ai-edge-litert"),
        ("tensorflow.lite", "tensorflow.lite"),
    ):
        try:
            mod = __import__(module, fromlist=["Interpreter"])
            interpreter_cls, name = mod.Interpreter, label
            break
        except ImportError:
            continue
    if interpreter_cls is None:
        raise Failure("no TFLite runtime on the board: pip3 install tflite-runtime (or ai-edge-litert)")
    import numpy as np

    kwargs = {"num_threads": int(job["threads"])} if job.get("threads") else {}
    interp = interpreter_cls(model_path=job["model"], **kwargs)
    details = interp.get_input_details()
    batch = int(job.get("batch") or 1)
    for d in details:
        shape = list(d["shape"])
        if shape and shape[0] != batch:
            interp.resize_tensor_input(d["index"], [batch] + shape[1:])
    interp.allocate_tensors()
    rng = np.random.RandomState(0)
    for d in interp.get_input_details():
        if np.issubdtype(d["dtype"], np.floating):
            data = rng.random_sample(tuple(d["shape"])).astype(d["dtype"])
        else:
            data = np.zeros(tuple(d["shape"]), d["dtype"])
        interp.set_tensor(d["index"], data)
    info = {"engine": name, "device": "cpu", "threads": job.get("threads")}
    return interp.invoke, info


def find_trtexec(job):
    """The job's trtexec (--trtexec: that one only), else PATH, else where JetPack puts it."""
    if job.get("trtexec"):
        return job["trtexec"] if os.path.isfile(job["trtexec"]) else None
    for candidate in (shutil.which("trtexec"),) + TRTEXEC_PLACES:
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def run_trtexec(exe, args, what, timeout):
    try:
        proc = subprocess.Popen([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure(f"trtexec {what} did not finish in {timeout:g} s") from None
    text = out.decode("utf-8", "replace")
    if proc.returncode != 0:
        errors = [line.split("[E] ", 1)[1] for line in text.splitlines() if "[E] " in line]
        last = errors[-1] if errors else (first_line(text[-400:]) or "no output")
        raise Failure(f"trtexec {what} failed (exit {proc.returncode}): {last.strip()}")
    return text


def tensorrt_measure(job, cache):
    """Build (cached by model hash + flags) and time with trtexec; raw log and exports to the host."""
    exe = find_trtexec(job)
    if exe is None:
        where = job.get("trtexec") or "PATH, " + ", ".join(TRTEXEC_PLACES)
        raise Failure("trtexec not found on the board (" + where + ")")
    flags = list(job.get("build_flags") or [])
    key = hashlib.sha256(json.dumps([job["model_hash"], flags, exe]).encode()).hexdigest()[:24]
    engine = os.path.join(cache, "engines", key + ".engine")
    build_log = None
    if not os.path.isfile(engine):
        progress(phase="building the TensorRT engine")
        os.makedirs(os.path.dirname(engine), exist_ok=True)
        partial = engine + ".partial"
        build_log = run_trtexec(
            exe,
            ["--onnx=" + job["model"], "--saveEngine=" + partial]
            + flags
            + ["--warmUp=0", "--iterations=1", "--duration=0"],
            "engine build",
            None,
        )
        os.replace(partial, engine)
    tmp = tempfile.mkdtemp(prefix="zp-trt-")
    duration = float(job.get("duration") or 3.0)  # the host's rule (zooprof.runtimes.tensorrt_rt.duration_s)
    args = [
        "--loadEngine=" + engine,
        f"--warmUp={WARMUP_MS}",
        f"--duration={duration:g}",
        "--iterations=10",
        "--exportTimes=" + os.path.join(tmp, "times.json"),
    ] + list(job.get("run_flags") or [])
    if job.get("per_layer"):
        args += [
            "--exportProfile=" + os.path.join(tmp, "profile.json"),
            "--exportLayerInfo=" + os.path.join(tmp, "layers.json"),
            "--separateProfileRun",
            "--profilingVerbosity=detailed",
        ]
    wall_start = time.perf_counter()
    log = run_trtexec(exe, args, "timing run", duration * 4 + 120)
    wall_end = time.perf_counter()
    exports = {}
    for name in ("times", "profile", "layers"):
        path = os.path.join(tmp, name + ".json")
        if os.path.isfile(path):
            with open(path) as f:
                exports[name] = json.load(f)
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "trtexec_log": log,
        "build_log": build_log,
        "exports": exports,
        "wall": [wall_start, wall_end],
        "engine_bytes": os.path.getsize(engine),
        "engine_cached": build_log is None,
        "trtexec": exe,
    }


RUNTIMES = {"onnxruntime": onnxruntime_session, "tflite": tflite_session}


# --------------------------------------------------------------------------------- commands


def run(job):
    cache = os.path.expanduser(job.get("cache") or HERE)
    root = job.get("sysfs_root") or "/"
    out = {"status": "ok", "board": board(root), "agent_version": AGENT_VERSION, "python": platform.python_version()}
    out["board"]["state"] = board_state(root)
    sampler, power_reason = power_sampler(job)
    out["power_reason"] = power_reason
    if sampler is not None and float(job["power"].get("idle_s") or 0) > 0:
        progress(phase="idle baseline, {:g} s".format(float(job["power"]["idle_s"])))
        sampler.start()
        time.sleep(float(job["power"]["idle_s"]))
        out["idle_trace"] = sampler.stop()
    runtime = job["runtime"]
    if sampler is not None:
        sampler.start()
    try:
        if runtime == "tensorrt":
            out["tensorrt"] = tensorrt_measure(job, cache)
            out["session"] = {"engine": "tensorrt (trtexec)", "device": job.get("device") or "cuda:0"}
        elif runtime in RUNTIMES:
            started = time.perf_counter()
            call, info = RUNTIMES[runtime](job)
            out["load_seconds"] = round(time.perf_counter() - started, 4)
            out["session"] = info

            def report(done, elapsed, ci_rel):
                progress(iterations=done, elapsed=elapsed, ci_rel=ci_rel)

            timing = measure(
                call,
                max_time=float(job.get("max_time") or 20.0),
                target_ci=float(job.get("target_ci") or 0.01),
                min_time=float(job.get("min_time") or 0.0),
                progress=report,
            )
            out["timing"] = timing.to_dict()
            out["timing"]["timer"] = "host clock (time.perf_counter), on the board"
        else:
            raise Failure(f"the {runtime} runtime does not run on a board yet: use onnxruntime, tflite or tensorrt")
    finally:
        if sampler is not None:
            out["trace"] = sampler.stop()
    out["memory"] = {
        "peak_rss_bytes": status_bytes("VmHWM"),
        "peak_covers": "the agent process (loading and the timed run)",
    }
    return out


def check(job):
    """What the board has for zooprof: Python, runtimes, trtexec, sensors, nvpmodel rights."""
    root = job.get("sysfs_root") or "/"
    found = {"python": platform.python_version(), "board": board(root), "agent_version": AGENT_VERSION}
    runtimes = {}
    try:
        import onnxruntime as ort

        runtimes["onnxruntime"] = {"version": ort.__version__, "providers": ort.get_available_providers()}
    except ImportError as exc:
        runtimes["onnxruntime"] = {"missing": str(exc)}
    for module in ("tflite_runtime", "ai_edge_litert", "torch", "numpy"):
        try:
            mod = __import__(module)
            runtimes[module] = {"version": getattr(mod, "__version__", "?")}
        except ImportError as exc:
            runtimes[module] = {"missing": str(exc)}
    exe = find_trtexec(job)
    where = job.get("trtexec") or "on PATH or in " + ", ".join(TRTEXEC_PLACES)
    runtimes["trtexec"] = {"path": exe} if exe else {"missing": "not " + where}
    found["runtimes"] = runtimes
    rails, seen = find_rails(Path(root))
    found["rails"] = [r.name for r in rails]
    found["rail_folders"] = seen
    found["tegrastats"] = shutil.which("tegrastats")
    try:
        sudo = subprocess.Popen(["sudo", "-n", "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sudo.communicate(timeout=5)
        found["sudo_without_password"] = sudo.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        found["sudo_without_password"] = False
    free = shutil.disk_usage(HERE)
    found["cache_free_bytes"] = free.free
    return found


def main(argv):
    command = argv[1] if len(argv) > 1 else "run"
    try:
        job = json.loads(sys.stdin.read() or "{}")
    except ValueError as exc:
        emit("result", {"status": "failed", "reason": f"the job is not JSON: {exc}"})
        return 2
    try:
        if command == "check":
            emit("result", check(job))
        elif command == "run":
            emit("result", run(job))
        elif command == "state":  # temperatures and clocks now (a sweep's cooldown on the board)
            emit("result", {"status": "ok", "state": board_state(job.get("sysfs_root") or "/")})
        else:
            emit("result", {"status": "failed", "reason": f"unknown agent command '{command}'"})
            return 2
    except Failure as exc:
        emit("result", {"status": "failed", "failure": "exception", "reason": str(exc)})
        return 1
    except Exception as exc:  # everything reaches the host as a reason
        emit(
            "result",
            {
                "status": "failed",
                "failure": "exception",
                "reason": f"{type(exc).__name__}: {first_line(exc)}",
                "detail": traceback.format_exc(),
            },
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

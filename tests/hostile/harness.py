"""The hostile-file harness: each case is a model file the test suite writes itself (generated,
deterministic; no checked-in binaries), run through `zooprof ARGS` in a child process with a time
limit, a memory limit and its writes watched.

    case = Case("onnx-cycle", path, expect=(2,))        # exit 2 only: a one-line refusal
    check(case)                                          # raises AssertionError with what went wrong

What every case must hold (issue 16): exit 0 or 2 (or what `expect` narrows it to), no "internal
error", no traceback, no crash (a signal), under its time limit, under its memory limit (RLIMIT_AS
in the child: an allocation beyond it fails instead of taking the machine), nothing written
outside the case's output folder (the child's HOME, TMPDIR, cache and working folder are the
case's own; files under the model's folder are compared before and after), no payload marker
executed (a case that would run code writes a file named PWNED where it can: its existence fails
the case), and no unescaped payload in the outputs it asks for.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIME_LIMIT_S = 60.0
MEMORY_LIMIT_BYTES = 6 * 2**30  # address space: Python + torch/TensorFlow imports need ~3-4 GiB of it
PWNED = "PWNED"


@dataclass
class Case:
    name: str
    model: Path
    args: tuple[str, ...] = ("inspect",)  # the command; the model path is appended
    expect: tuple[int, ...] = (0, 2)
    extra: tuple[str, ...] = ()  # after the model (e.g. "--input-shape", "1x3x8x8", "-o", "out.csv")
    time_limit: float = TIME_LIMIT_S
    memory_limit: int = MEMORY_LIMIT_BYTES
    forbid_in_output: tuple[str, ...] = ()  # payload text that must not reach stdout/stderr/-o files raw
    notes: list[str] = field(default_factory=list)


def _limits(memory: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * 2**30, 2 * 2**30))  # a file written beyond 2 GiB fails
    os.setsid()


def _snapshot(folder: Path) -> dict[str, float]:
    out = {}
    for p in folder.rglob("*"):
        try:
            out[str(p)] = p.lstat().st_mtime
        except OSError:
            continue
    return out


def run_case(case: Case, workdir: Path) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr, seconds) of the case in a limited child process."""
    home = workdir / "home"
    tmp = workdir / "tmp"
    for d in (home, tmp):
        d.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "ZOOPROF_CACHE_DIR": str(workdir / "cache"),
        "ZOOPROF_SYSFS_ROOT": str(workdir / "root"),
        "PYTHONPATH": str(ROOT),
        "CUDA_VISIBLE_DEVICES": "",
        "PYTHONDONTWRITEBYTECODE": "1",
        "COLUMNS": "120",
    }
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "zooprof", *case.args, str(case.model), *case.extra],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=case.time_limit,
            cwd=workdir,
            env=env,
            preexec_fn=lambda: _limits(case.memory_limit),  # noqa: PLW1509 (no threads here)
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{case.name}: hung (killed after {case.time_limit:g} s)") from exc
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def check(case: Case, workdir: Path) -> tuple[int, str, str]:
    """Run the case and assert everything the module docstring lists; (exit code, stdout, stderr)."""
    workdir.mkdir(parents=True, exist_ok=True)
    model_dir = case.model.parent
    before = _snapshot(model_dir)
    code, out, err, seconds = run_case(case, workdir)
    text = out + err
    where = f"{case.name} (exit {code}, {seconds:.1f} s): {text[-600:]}"
    assert code >= 0, f"{where}: crashed (signal {-code})"
    assert code in case.expect, f"{where}: exit {code} not in {case.expect}"
    assert "Traceback" not in text, f"{where}: traceback"
    assert "internal error" not in text.lower(), f"{where}: internal error"
    if code == 2:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), f"{where}: not one 'error:' line"
    for found in [*workdir.rglob(PWNED), *model_dir.rglob(PWNED), Path("/tmp") / PWNED]:
        if found.exists():
            raise AssertionError(f"{where}: code from the file ran ({found} written)")
    after = _snapshot(model_dir)
    added = sorted(set(after) - set(before))
    assert not added, f"{where}: wrote next to the model: {added[:5]}"
    outputs = [text] + [p.read_text(errors="replace") for p in workdir.glob("out*") if p.is_file()]
    for payload in case.forbid_in_output:
        for output in outputs:
            assert payload not in output, f"{where}: payload {payload!r} reached an output unescaped"
    return code, out, err

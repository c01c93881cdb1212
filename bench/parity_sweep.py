"""compare-formats over every keras.applications model: its .keras file against the TFLite float
file zooprof converts from it. Each model must read in both forms, have equal MACs, per-layer
shapes that agree, and every params and FLOPs difference explained (a sum of named terms).

    .venv/bin/python bench/parity_sweep.py [--only ConvNeXtTiny,NASNetMobile] [--markdown PATH]

Each model runs in a process of its own (TensorFlow keeps what every model built). Exit status 1
when a model fails a check.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any


def check_one(name: str, folder: Path) -> dict[str, Any]:
    """Build, save, convert and compare one model; what failed, if anything."""
    from zooprof.compare.parity import compare
    from zooprof.frontends.keras.references import build_model
    from zooprof.measure.convert import keras_to_tflite

    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(f"keras:{name}", {}, None)[0]
        path = folder / f"{name}.keras"
        model.save(str(path))
        tflite, _ = keras_to_tflite({"model": str(path)})
        report = compare([str(path), str(tflite)])
    problems = []
    if report.failed:
        problems.append(f"{report.failed} format(s) not read")
    if not report.macs.equal:
        problems.append("MACs differ")
    if not report.layers.agree:
        problems.append(f"shapes disagree at {report.layers.first_disagreement}")
    problems += [f"params unexplained: {f.text}" for f in report.params_findings if not f.explained]
    problems += [f"FLOPs unexplained: {f.text}" for f in report.flops_findings if not f.explained]
    return {
        "model": name,
        "seconds": round(time.perf_counter() - started, 1),
        "params": [f.text for f in report.params_findings],
        "problems": problems,
    }


def isolated(name: str, folder: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--one", name, str(folder)], capture_output=True, text=True, timeout=1800
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        why = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return {"model": name, "seconds": 0.0, "params": [], "problems": [f"internal error: {why}"]}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated keras.applications names")
    parser.add_argument("--markdown", help="append the results to this file")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(check_one(args.one[0], Path(args.one[1]))))
        return 0
    import keras

    names = args.only.split(",") if args.only else sorted(n for n in dir(keras.applications) if n[:1].isupper())
    rows = []
    with tempfile.TemporaryDirectory(prefix="zooprof-parity-") as tmp:
        for name in names:
            row = isolated(name, Path(tmp))
            rows.append(row)
            print(f"{name:24s} {row['seconds']:6.1f} s  {'; '.join(row['problems']) or 'ok'}", flush=True)
    bad = [r for r in rows if r["problems"]]
    if args.markdown:
        lines = [
            "",
            "## compare-formats: Keras (.keras) against TFLite float",
            "",
            "Made by `bench/parity_sweep.py`: every model reads in both forms, MACs are equal, per-layer",
            "shapes agree and every params and FLOPs difference is explained as a sum of named terms.",
            f"{len(rows) - len(bad)} of {len(rows)} models pass.",
            "",
            "| model | params finding | result |",
            "|---|---|---|",
        ]
        for r in rows:
            finding = "; ".join(r["params"]) or "params equal"
            lines.append(f"| {r['model']} | {finding.replace('|', '/')} | {'; '.join(r['problems']) or 'ok'} |")
        with open(args.markdown, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    print(f"{len(rows)} models; {len(bad)} not ok", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Exercise the board modules and print what they compute as JSON (run by tests/remote/test_py36.py).

Run as a script, with `python -S`, from a folder that holds only the BOARD_MODULES and empty
`__init__.py` files, exactly as on the board: once with the test's own Python and once with each
old Python found (3.6 ...); the two outputs must be equal. Python 3.6 syntax only, standard library
only (this file itself runs on 3.6). argv: the dotted board module names to import, then a
scratch folder for the fake sysfs tree and board tools.
"""

import json
import os
import stat
import sys
from pathlib import Path


def _timing():
    from zooprof.measure.stats import Stats, median_ci_ranks, percentile
    from zooprof.measure.timing import FakeClock, measure

    s = Stats.from_samples([0.004, 0.001, 0.003, 0.002, 0.010, 0.0025])
    try:
        s.n = 3  # type: ignore[misc]
        frozen = False
    except AttributeError:
        frozen = True
    clock = FakeClock()
    r = measure(clock.workload([0.002, 0.001] + [0.001, 0.0011, 0.0009] * 50), clock=clock, max_time=1.0)
    return {
        "stats": s.to_dict(),
        "stats_frozen": frozen,
        "stats_equal": s == Stats.from_samples([0.001, 0.002, 0.0025, 0.003, 0.004, 0.010]),
        "percentile": [percentile([1.0, 2.0, 4.0, 8.0], q) for q in (0, 10, 50, 90, 100)],
        "ci_ranks": [median_ci_ranks(n) for n in (1, 5, 6, 10, 100, 1000, 1001, 5000)],
        "measure": r.to_dict(),
        "measure_fields": [r.calls_per_sample, r.stop_reason, r.warmup_stable, len(r.samples)],
        "fast": measure(clock.workload([2e-6]), clock=clock, max_time=0.5).to_dict(include_samples=False),
    }


def _rails(scratch):
    from zooprof.sensors.ina3221 import find_rails, read_power_mw, total_rule

    iio = scratch / "jp4" / "sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0"
    iio.mkdir(parents=True)
    for i, (name, mw) in enumerate([("POM_5V_IN", "2746"), ("POM_5V_GPU", "0"), ("POM_5V_CPU", "bad")]):
        (iio / f"rail_name_{i}").write_text(name + "\n")
        (iio / f"in_power{i}_input").write_text(mw + "\n")
    hw = scratch / "jp6" / "sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3"
    hw.mkdir(parents=True)
    for i, (name, mv, ma) in enumerate(
        [("VDD_GPU_SOC", "5072", "1008"), ("VDD_CPU_CV", "5080", "200"), ("NC", "0", "0")], start=1
    ):
        (hw / f"in{i}_label").write_text(name + "\n")
        (hw / f"in{i}_input").write_text(mv + "\n")
        (hw / f"curr{i}_input").write_text(ma + "\n")
    (hw / "in7_label").write_text("sum of shunt voltages\n")
    out = {}
    for board in ("jp4", "jp6", "none"):
        rails, seen = find_rails(scratch / board)
        out[board] = {
            "seen": seen,
            "rails": [[r.name, r.device, [str(f.relative_to(scratch)) for f in r.files]] for r in rails],
            "mw": [read_power_mw(r) for r in rails],
            "total": list(total_rule([r.name for r in rails])),
        }
    return out


def _board(scratch):
    from zooprof.sensors import jetson_board as jb

    tools = scratch / "board" / "usr/bin"
    tools.mkdir(parents=True)
    scripts = {
        "nvpmodel": "echo 'NV Power Mode: MAXN'; echo 0",
        "jetson_clocks": "echo 'jetson_clocks: needs to be run as root (sudo)' >&2; exit 1",
    }
    for name, body in scripts.items():
        tool = tools / name
        tool.write_text("#!/bin/sh\n" + body + "\n")
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    root = scratch / "board"
    clocks = "cpu0: Online=1 Governor=schedutil MinFreq=2201600 MaxFreq=2201600 CurrentFreq=2201600\n"
    clocks += "GPU MinFreq=1300500000 MaxFreq=1300500000 CurrentFreq=1300500000\n"
    return {
        "l4t": [jb.parse_l4t(t) for t in ("# R32 (release), REVISION: 6.1, GCID: 27863751", "nonsense", None)],
        "jetpack": [jb.jetpack_for(v) for v in ("32.6.1", "36.4.3", "32.9.9", "99.1.0", None)],
        "nvpmodel": jb.nvpmodel_mode(root),
        "clocks_text": jb.parse_jetson_clocks(clocks),
        "clocks": jb.jetson_clocks_state(root),
        "missing": jb.run_tool("no-such-tool-zooprof", ["-q"], root),
        "gpu": jb.integrated_gpu(root),
    }


def main():
    modules, scratch = sys.argv[1:-1], Path(sys.argv[-1])
    os.environ["PATH"] = str(scratch / "no-bin")  # board tools only from the fake root
    for name in modules:
        __import__(name)
    print(json.dumps({"timing": _timing(), "rails": _rails(scratch), "board": _board(scratch)}, sort_keys=True))


if __name__ == "__main__":
    main()

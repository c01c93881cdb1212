"""`zooprof grade`: each submission of a class checked against the assignment, scored and ranked.

A submission is a results database (`zooprof sweep --db`) or a folder of result files
(`zooprof profile -o`), one per student or group, named by its file or folder. For each cell of
the assignment's matrix the newest row of the submission counts. The checks, and what each costs
(docs/labs.md):

- completeness: cells measured ok / cells required ([grading] required = "all" or a number);
  the score starts at 100 x that fraction;
- consistency (a row edited by hand, score 0): the reported median is the median of the
  recorded samples; energy per inference = average power x window / iterations; the samples
  fill the measured window (latency x iterations neither exceeds the time power was integrated
  over nor falls below 70 % of it: energy = power x time); params and MACs are what zooprof computes for that model;
- sanity (-2 each, at most -30): the CI of the median within [grading] max_ci_rel, at least
  min_iterations samples, the board model and power mode the assignment asks for;
- class outliers (-1 each, reported): a cell's median latency outside the class's median
  +- latency_mad_k x MAD for that cell (needs 3 submissions with that cell).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zooprof.errors import UsageError
from zooprof.result.document import ProfileResult
from zooprof.sweep.matrix import Assignment, Cell, cell_key, cell_label

SANITY_PENALTY, SANITY_CAP, OUTLIER_PENALTY = 2.0, 30.0, 1.0
#: the samples of an honest run fill most of its window (the rest: two clock readings per sample and
#: the CI checks, <= 2 % by design; host overhead around CUDA events or a board's trtexec: a few %)
WINDOW_FILL = 0.7


@dataclass
class Submission:
    name: str
    rows: dict[str, tuple[dict[str, Any], ProfileResult]] = field(default_factory=dict)  # cell key -> (row, result)
    issues: list[str] = field(default_factory=list)
    tampered: list[str] = field(default_factory=list)
    outliers: list[str] = field(default_factory=list)
    complete: int = 0
    required: int = 0
    score: float = 0.0


def _match(cell: Cell, result: ProfileResult, m: dict[str, Any]) -> bool:
    model = result.model
    names = {model.get("reference"), model.get("name"), str(model.get("reference", "")).split(":")[-1]}
    same_model = cell["model"] in names or cell["model"].split(":")[-1] in names
    return (
        same_model
        and (cell.get("runtime") is None or m.get("runtime") == cell["runtime"])
        and m.get("batch") == cell["batch"]
        and (cell.get("device") is None or m.get("device") == cell["device"])
        and (cell.get("precision") is None or m.get("precision") == cell["precision"])
        and (cell.get("threads") is None or m.get("threads") == cell["threads"])
    )


def load_submission(path: Path, cells: list[Cell]) -> Submission:
    """The rows of a submission, by cell key (newest wins)."""
    sub = Submission(path.stem if path.is_file() else path.name)
    keys = {cell_key(c): c for c in cells}
    entries: list[tuple[str | None, ProfileResult]] = []
    dbs = [path] if path.is_file() and path.suffix == ".db" else sorted(path.glob("*.db")) if path.is_dir() else []
    for db_path in dbs:
        from zooprof import results

        with results.open(db_path, create=False) as db:
            rows = db.query(columns=["id", "cell_key"])
            entries += list(zip([r["cell_key"] for r in rows], db.results(), strict=True))
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            try:
                entries.append((None, ProfileResult.load(file)))
            except (UsageError, ValueError, OSError) as exc:
                sub.issues.append(f"{file.name}: not a result file ({exc})")
    for key, result in entries:
        for m in result.measurements:
            one = ProfileResult.from_dict({**result.to_dict(), "measurements": [m]})
            if key in keys:
                sub.rows[key] = (m, one)
                continue
            for k, cell in keys.items():
                if key is None and _match(cell, result, m):
                    sub.rows[k] = (m, one)
    return sub


def consistency(m: dict[str, Any], result: ProfileResult, static: dict[str, dict[str, Any]], rules: dict) -> list[str]:
    """Why a row cannot be what zooprof measured (empty: consistent)."""
    from zooprof.measure.stats import percentile

    out = []
    timing = m.get("timing") or {}
    lat = timing.get("latency_ms") or {}
    samples = timing.get("samples_ms") or []
    if samples and lat.get("median") is not None:
        median = percentile(sorted(samples), 50)
        if abs(median - lat["median"]) > 1e-6 * max(1.0, abs(median)):
            out.append(f"median {lat['median']:.6g} ms is not the median of its samples ({median:.6g} ms)")
    power = m.get("power") or {}
    calls = int(timing.get("calls_per_sample") or 1)
    if power.get("status") == "ok" and power.get("iterations"):
        window, iterations = float(power["window_s"]), int(power["iterations"])
        expected = power["avg_power_mw"] * window / iterations
        raw = power.get("energy_per_inference_raw_mj")
        tol = float(rules.get("energy_rel_tol", 0.02))
        if raw is not None and abs(raw - expected) > tol * max(abs(expected), 1e-12):
            out.append(f"energy {raw:.6g} mJ is not power x window / iterations ({expected:.6g} mJ)")
        per_call = window / iterations  # the time per inference the energy was integrated over
        if samples:
            busy = sum(samples) * calls / 1000.0
            mean = busy / (len(samples) * calls)
            if busy > window * (1 + tol):
                out.append(
                    f"latency x iterations ({busy:.4g} s) exceeds the window the energy was measured over "
                    f"({window:.4g} s): energy = power x time does not hold"
                )
            elif mean < WINDOW_FILL * per_call:
                out.append(
                    f"mean latency {1000 * mean:.4g} ms is far below the time per inference the energy was "
                    f"measured over ({1000 * per_call:.4g} ms): energy = power x time does not hold"
                )
    ref = static.get(str(result.model.get("reference") or result.model.get("name")))
    tol = float(rules.get("static_rel_tol", 0.0))
    for key in ("params", "macs"):
        got, want = result.totals.get(key), (ref or {}).get(key)
        if got is not None and want is not None and abs(got - want) > tol * abs(want):
            out.append(f"{key} {got:,} but zooprof computes {want:,} for {result.model.get('name')}")
    return out


def sanity(cell: Cell, m: dict[str, Any], result: ProfileResult, rules: dict) -> list[str]:
    out = []
    lat = ((m.get("timing") or {}).get("latency_ms")) or {}
    max_ci = rules.get("max_ci_rel")
    if max_ci is not None and (lat.get("ci_rel_halfwidth") or 0) > max_ci:
        out.append(f"{cell_label(cell)}: CI of the median ±{100 * lat['ci_rel_halfwidth']:.1f} % > {100 * max_ci:g} %")
    min_n = rules.get("min_iterations")
    if min_n is not None and (lat.get("n") or 0) < min_n:
        out.append(f"{cell_label(cell)}: {lat.get('n')} samples < {min_n}")
    board = result.environment.get("board") if isinstance(result.environment.get("board"), dict) else {}
    want_board = rules.get("board_model")
    if want_board and want_board.lower() not in str(board.get("model") or "").lower():
        out.append(f"{cell_label(cell)}: measured on {board.get('model') or 'an unknown board'}, not {want_board}")
    if cell.get("power_mode") is not None and m.get("power_mode_applied") is False:
        out.append(f"{cell_label(cell)}: power mode {cell['power_mode']} not applied ({m.get('power_mode_note')})")
    return out


def static_figures(cells: list[Cell]) -> dict[str, dict[str, Any]]:
    """params and MACs zooprof computes for each model of the matrix (batch of the analysis)."""
    from zooprof.measure.static import inspect

    out: dict[str, dict[str, Any]] = {}
    for cell in cells:
        if cell["model"] in out:
            continue
        try:
            result = inspect(cell["model"], input_shape=cell.get("input_shape"))
            out[cell["model"]] = {"params": result.totals.get("params"), "macs": result.totals.get("macs")}
        except Exception:  # noqa: BLE001 - a model zooprof cannot read here is not the student's fault
            out[cell["model"]] = {}
    return out


def grade(assignment: Assignment, folder: Path) -> list[Submission]:
    """Every submission in `folder`, scored and ranked (best first)."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder of submissions", "give a folder with one .db or folder per student")
    cells = assignment.cells()
    rules = assignment.grading
    entries = sorted(p for p in folder.iterdir() if p.is_dir() or p.suffix in (".db", ".json"))
    if not entries:
        raise UsageError(f"{folder}: no submissions (.db files or folders)", "one .db file or folder per student")
    static = static_figures(cells)
    subs = [load_submission(p, cells) for p in entries]
    required = len(cells) if rules.get("required", "all") == "all" else int(rules["required"])
    for sub in subs:
        sub.required = required
        for key, (m, result) in sub.rows.items():
            cell = next(c for c in cells if cell_key(c) == key)
            if m.get("status") == "ok":
                sub.complete += 1
            sub.tampered += [f"{cell_label(cell)}: {why}" for why in consistency(m, result, static, rules)]
            sub.issues += sanity(cell, m, result, rules)
    _outliers(subs, cells, float(rules.get("latency_mad_k", 5.0)))
    for sub in subs:
        fraction = min(1.0, sub.complete / required) if required else 1.0
        penalty = min(SANITY_CAP, SANITY_PENALTY * len(sub.issues)) + OUTLIER_PENALTY * len(sub.outliers)
        sub.score = 0.0 if sub.tampered else max(0.0, round(100 * fraction - penalty, 1))
    return sorted(subs, key=lambda s: (-s.score, s.name))


def _outliers(subs: list[Submission], cells: list[Cell], k: float) -> None:
    for cell in cells:
        key = cell_key(cell)
        values = {
            s.name: m["timing"]["latency_ms"]["median"]
            for s in subs
            if key in s.rows
            for m in [s.rows[key][0]]
            if m.get("status") == "ok" and (m.get("timing") or {}).get("latency_ms", {}).get("median") is not None
        }
        if len(values) < 3:
            continue
        mid = statistics.median(values.values())
        mad = statistics.median(abs(v - mid) for v in values.values())
        for sub in subs:
            v = values.get(sub.name)
            if v is not None and mad > 0 and abs(v - mid) > k * mad:
                sub.outliers.append(f"{cell_label(cell)}: {v:.4g} ms, class median {mid:.4g} ms (MAD {mad:.3g})")


def grades_csv(subs: list[Submission]) -> str:
    import csv
    import io

    from zooprof.result.columns import csv_safe

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "submission", "score", "complete", "required", "tampered", "issues", "outliers"])
    for rank, s in enumerate(subs, start=1):
        w.writerow(
            [rank, csv_safe(s.name), s.score, s.complete, s.required, csv_safe("; ".join(s.tampered)),
             csv_safe("; ".join(s.issues)), csv_safe("; ".join(s.outliers))]
        )  # fmt: skip
    return buf.getvalue()


def class_report_html(assignment: Assignment, subs: list[Submission]) -> str:
    """One page: the ranking with the reasons, then each cell's median latency per submission."""
    from html import escape

    cells = assignment.cells()
    head = "".join(f"<th>{escape(s.name)}</th>" for s in subs)
    body = []
    for cell in cells:
        key = cell_key(cell)
        tds = []
        for s in subs:
            m = s.rows.get(key, ({}, None))[0]
            median = ((m.get("timing") or {}).get("latency_ms") or {}).get("median")
            flag = any(o.startswith(cell_label(cell) + ":") for o in s.outliers)
            text = "–" if median is None else f"{median:.4g}"
            tds.append(f"<td class='{'out' if flag else ''}'>{escape(text)}</td>")
        body.append(f"<tr><th>{escape(cell_label(cell))}</th>{''.join(tds)}</tr>")
    ranking = "".join(
        f"<tr><td>{i}</td><td>{escape(s.name)}</td><td>{s.score:g}</td><td>{s.complete}/{s.required}</td>"
        f"<td>{escape('; '.join(s.tampered + s.issues + s.outliers)) or 'none'}</td></tr>"
        for i, s in enumerate(subs, start=1)
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>" + escape(assignment.name) + " - grades</title>"
        "<style>body{font:14px sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:3px 6px}"
        "table{border-collapse:collapse;margin-bottom:2em}.out{background:#fdd}</style>"
        f"<h1>{escape(assignment.name)}</h1><h2>Ranking</h2><table><tr><th>#</th><th>submission</th>"
        f"<th>score</th><th>complete</th><th>reasons</th></tr>{ranking}</table>"
        f"<h2>Median latency (ms) per cell</h2><p>Red: outside the class's median ± k x MAD.</p>"
        f"<table><tr><th>cell</th>{head}</tr>{''.join(body)}</table>"
    )

"""`compare(refs, latency, max_time) -> ParityReport`: one model in several formats, side by side.

The entry point of `zooprof compare-formats`: finds the formats (one folder, or several
references), reads each one (a format that cannot be read keeps its row, with the reason),
orders and names them, lines up their totals and their conv/dense layers, and explains the
differences (zooprof.compare.parity.findings) in the report's `explanations`. With `latency`,
each format is timed on its default runtime. Imports no framework itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from zooprof.compare.parity.align import align_layers
from zooprof.compare.parity.discover import discover, is_edgetpu, listing
from zooprof.compare.parity.findings import flops_finding, macs_findings, params_finding, quant_finding
from zooprof.compare.parity.formats import BYTES, FRAMEWORKS, read_format
from zooprof.compare.parity.latency import measure_latency
from zooprof.compare.parity.model import FormatRecord, NotComparable, ParityReport
from zooprof.compare.parity.tables import layer_table, summary_table
from zooprof.compare.parity.wording import thousands
from zooprof.errors import UsageError
from zooprof.result.document import ProfileResult

Progress = Callable[[str], None]


def find_entries(refs: list[str]) -> tuple[Path | None, list[tuple[str, str]], list[str]]:
    """(the folder or None, [(reference, shown name)], notes) for what the user gave; a
    UsageError when there are not 2 formats to compare."""
    if not refs:
        raise UsageError("no model given", "give a folder with several formats, or several model files")
    root = None
    notes: list[str] = []
    if len(refs) == 1 and Path(refs[0]).expanduser().is_dir():
        root = Path(refs[0]).expanduser()
        entries, notes = discover(root)
        if not entries:
            raise UsageError(
                f"no model found in the folder {root} ({listing(root)})",
                "expected .h5/.keras, model.json, .tflite or .onnx files (or give several models)",
            )
    else:
        entries = [(r, r) for r in refs]
    comparable = [e for e in entries if not is_edgetpu(Path(e[0]))]
    if len(comparable) < 2:
        where = f"in the folder {root}" if root is not None else "given"
        found = ", ".join(shown for _, shown in entries) or "none"
        raise UsageError(
            f"fewer than 2 formats {where} ({len(comparable)} comparable: {found})",
            "compare-formats needs the same model in at least 2 formats, e.g. keras_model.h5 and "
            "model_unquant.tflite in one folder, or several model files",
        )
    return root, entries, notes


def format_order(fmt: FormatRecord) -> tuple[int, int, int, str]:
    """Formats found in a folder: readable first, then by framework, wider dtypes first, by file."""
    frameworks = list(FRAMEWORKS)
    fw = fmt.framework
    status = {"ok": 0, "failed": 1}.get(fmt.status, 2)
    storage = fmt.figures.storage_dtype if fmt.figures is not None else None
    return (
        status,
        frameworks.index(fw) if fw in frameworks else len(frameworks),
        -BYTES.get(storage or "float32", 4),
        fmt.file,
    )


def unique_columns(formats: list[FormatRecord]) -> list[FormatRecord]:
    """Each format with its column: its label, or 'label (file)' when two formats share the label."""
    counts = Counter(f.label for f in formats)
    return [replace(f, column=f.label if counts[f.label] == 1 else f"{f.label} ({f.file})") for f in formats]


def compare(
    refs: list[str],
    latency: bool = False,
    max_time: float = 5.0,
    progress: Progress | None = None,
    memory_limit: int | str | None = None,
) -> ParityReport:
    """Compare one model given in several formats: one folder holding them, or several references.
    `memory_limit` bounds each timing worker (`--memory-limit`: text or bytes; None: the default);
    given without `latency`, or malformed, it is a UsageError before any file is read."""
    if memory_limit is not None:
        from zooprof.runtimes.memory_limit import parse_memory_limit

        if not latency:
            raise UsageError("--memory-limit applies to the timing", "add --latency to time each format")
        memory_limit = parse_memory_limit(memory_limit)
    root, entries, notes = find_entries(refs)
    read: list[tuple[FormatRecord, ProfileResult | None]] = []
    for ref, shown in entries:
        if progress:
            progress(f"reading {shown}")
        read.append(read_format(ref, shown))
    if root is not None:
        read.sort(key=lambda pair: format_order(pair[0]))
    formats = unique_columns([fmt for fmt, _ in read])
    by_column = {
        fmt.column: result
        for fmt, (_, result) in zip(formats, read, strict=True)
        if fmt.status == "ok" and result is not None
    }
    ok = [f for f in formats if f.status == "ok"]

    explanations: list[str] = []
    not_comparable = []
    for f in formats:
        if f.status == "not comparable":
            text = f"{f.label}: not comparable ({f.file}: {f.reason})"
            not_comparable.append(NotComparable(format=f.column, file=f.file, reason=f.reason, text=text))
        elif f.status == "failed":
            explanations.append(f"{f.column} ({f.file}) could not be read: {f.reason}")

    base = ok[0] if ok else None
    params = [params_finding(base, f) for f in ok[1:]] if base else []
    flops = [flops_finding(base, f) for f in ok[1:]] if base else []
    layers = align_layers(ok, by_column)
    macs = macs_findings(ok, layers)
    quant = [q for q in (quant_finding(f) for f in ok) if q]
    if base and len(ok) >= 2:
        if all(p.difference == 0 for p in params):
            explanations.append(f"params equal across formats: {thousands(base.read_figures.params)}")
        else:
            explanations += [p.text for p in params if p.difference]
        explanations += macs.texts
        explanations += [x.text for x in flops if x.difference]
        explanations.append(layers.text)
    elif ok:
        explanations.append(f"only {len(ok)} format could be read: nothing to compare")
    explanations += [q.text for q in quant]
    explanations += [n.text for n in not_comparable]
    explanations += notes

    if latency:
        timed = []
        for f in formats:
            if f.status == "ok":
                if progress:
                    progress(f"timing {f.file}")
                f = replace(f, latency=measure_latency(f, by_column[f.column], max_time, memory_limit))
            timed.append(f)
        formats = timed
    return ParityReport(
        inputs=list(refs),
        folder=str(root) if root is not None else None,
        latency=latency,
        max_time=max_time if latency else None,
        baseline=base.column if base else None,
        formats=formats,
        params_findings=params,
        macs=macs,
        flops_findings=flops,
        quantisation=quant,
        layers=layers,
        not_comparable=not_comparable,
        notes=notes,
        explanations=explanations,
        summary_table=summary_table(formats, latency),
        layer_table=layer_table(layers),
    )
